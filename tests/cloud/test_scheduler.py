"""The scheduler over a real database: due order, a failing item retried alone, restart-safe rows."""

from datetime import timedelta
from itertools import pairwise
from pathlib import Path

from cloud.store import Database, Queries
from cloud.models import IssuedSnapshot
from cloud.scheduler import RETRY_AFTER, Scheduler
from shared.clock import VirtualClock
from shared.timefmt import epoch
from tests.conftest import START


async def test_items_run_in_due_order_each_at_its_own_time_and_a_failure_is_retried_alone(tmp_path: Path) -> None:
    db = Database(tmp_path / "cloud.sqlite3")
    await db.open()
    clock = VirtualClock(start=START)
    seen: list[tuple[str, int]] = []

    async def note(tx: Queries, ref: str, now: object) -> list[IssuedSnapshot]:
        await tx.meta.set(f"ran:{ref}", "yes")
        seen.append((ref, epoch(clock.now())))
        return []

    tries: list[int] = []

    async def explode(tx: Queries, ref: str, now: object) -> list[IssuedSnapshot]:
        tries.append(epoch(clock.now()))
        await tx.meta.set(f"ran:{ref}", "half-done")
        raise RuntimeError("boom")

    async with db.transaction() as tx:
        for n in (3, 1, 2):
            await tx.jobs.schedule("note", f"item-{n}", START + timedelta(hours=n))
        await tx.jobs.schedule("explode", "bad", START + timedelta(hours=1, minutes=30))
    scheduler = Scheduler(db, clock, {"note": note, "explode": explode}, deliver=lambda snapshot: note(None, "", None))  # type: ignore[arg-type]
    handled = await scheduler.advance_to(START + timedelta(hours=5))
    assert handled >= 4
    assert [ref for ref, _ in seen] == ["item-1", "item-2", "item-3"]
    assert [at for _, at in seen] == [epoch(START + timedelta(hours=n)) for n in (1, 2, 3)]
    assert await db.read.meta.get("ran:bad") is None  # its half-done write was rolled back alone
    assert await db.read.meta.get("ran:item-2") == "yes"
    due = await db.read.jobs.due(START + timedelta(days=1), 10)
    assert [(job.kind, job.ref) for job in due] == [("explode", "bad")]
    # retried after 1, 2, 4, 8 ... minutes: a failing item backs off instead of running every minute
    assert [later - earlier for earlier, later in pairwise(tries)] == [60 * 2**n for n in range(len(tries) - 1)]
    assert len(tries) == 8  # 1:30, 1:31, 1:33, 1:37, 1:45, 2:01, 2:33, 3:37 within five hours
    assert due[0].due_at == START + timedelta(hours=3, minutes=37) + RETRY_AFTER * 2**7
    await db.close()
