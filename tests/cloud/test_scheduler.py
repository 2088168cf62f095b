"""The scheduler over a real database: due order, a failing item retried alone, restart-safe rows."""

import asyncio
from collections import Counter
from datetime import timedelta
from itertools import pairwise

from aiohttp.test_utils import TestClient

from flex_emulator.cloud.appkeys import DB
from flex_emulator.cloud.domain.models import Assignment
from flex_emulator.cloud.domain.scheduler import RETRY_AFTER, Due, Handled, Scheduler
from flex_emulator.cloud.store import Database, Queries
from flex_emulator.cloud.store.ledger import LedgerEntry
from flex_emulator.shared.clock import VirtualClock
from flex_emulator.shared.timefmt import epoch
from tests.kit import START
from tests.kit.api import assert_invariant, call, new_tenant


async def test_items_run_in_due_order_each_at_its_own_time_and_a_failure_is_retried_alone(store: Database) -> None:
    db = store
    clock = VirtualClock(start=START)

    async def note(tx: Queries, due: list[Due]) -> Handled:
        # what ran, in which order and at what time, written in the transaction (so a rolled-back try leaves nothing)
        for item in due:
            count = int(await tx.meta.get("count") or "0") + 1
            await tx.meta.set("count", str(count))
            await tx.meta.set(f"ran:{item.ref}", f"{count}@{epoch(item.now)}")
        return Handled(len(due))

    tries: list[int] = []

    async def explode(tx: Queries, due: list[Due]) -> Handled:
        tries.append(epoch(due[0].now))
        await tx.meta.set(f"ran:{due[0].ref}", "half-done")
        raise RuntimeError("boom")

    async with db.transaction() as tx:
        for n in (3, 1, 2):
            await tx.jobs.schedule("note", f"item-{n}", START + timedelta(hours=n))
        await tx.jobs.schedule("explode", "bad", START + timedelta(hours=1, minutes=30))
    scheduler = Scheduler(db, clock, {"note": note, "explode": explode}, deliver=lambda snapshot: note(None, []))  # type: ignore[arg-type]
    handled = await scheduler.advance_to(START + timedelta(hours=5))
    assert handled >= 4
    ran = {n: await db.read.meta.get(f"ran:item-{n}") for n in (1, 2, 3)}
    assert ran == {
        n: f"{n}@{epoch(START + timedelta(hours=n))}" for n in (1, 2, 3)
    }  # once each, in due order, at its time
    assert await db.read.meta.get("ran:bad") is None  # its half-done write was rolled back alone
    due = await db.read.jobs.due(START + timedelta(days=1), 10)
    assert [(job.kind, job.ref) for job in due] == [("explode", "bad")]
    # retried after 1, 2, 4, 8 ... minutes: a failing item backs off instead of running every minute
    attempts = sorted(set(tries))
    assert [later - earlier for earlier, later in pairwise(attempts)] == [60 * 2**n for n in range(len(attempts) - 1)]
    assert len(attempts) == 8  # 1:30, 1:31, 1:33, 1:37, 1:45, 2:01, 2:33, 3:37 within five hours
    assert due[0].due_at == START + timedelta(hours=3, minutes=37) + RETRY_AFTER * 2**7


async def test_thousands_of_items_due_at_one_instant_are_each_handled_once_and_the_books_balance(
    cloud: TestClient,
) -> None:
    tenant = await new_tenant(cloud)
    sub = await tenant.subscription(3000, duration="annual")
    never_sent, _ = await tenant.link_new_system("Never sent")
    downloaded, _ = await tenant.link_new_system("Downloaded")
    db = cloud.app[DB]
    at = START + timedelta(hours=2)
    # 2,500 on a system that never got them come back at the Auto Revoke; 500 in a downloaded file wait for its end
    items = [
        Assignment.new(
            account_id=tenant.account_id,
            system_id=system["id"],
            subscription_id=sub["id"],
            quarters=4,
            assigned_at=START,
            auto_revoke_at=at,
        )
        for system, count in ((never_sent, 2500), (downloaded, 500))
        for _ in range(count)
    ]
    async with db.transaction() as tx:
        assert await tx.subscriptions.take_quarters(sub["id"], 4 * len(items))
        await tx.assignments.insert_many(items)
        await tx.ledger.append_many(
            [
                LedgerEntry(
                    at=START,
                    kind="assigned",
                    actor="test",
                    account_id=tenant.account_id,
                    subscription_id=sub["id"],
                    system_id=item.system_id,
                    assignment_id=item.id,
                    quarters=4,
                )
                for item in items
            ]
        )
        await tx.jobs.schedule_many([("auto_revoke", item.id, at) for item in items])
    await tenant.download(downloaded["id"])
    assert (await tenant.sub_state(sub["id"]))["credits_available"] == 0

    await call(cloud, "POST", "/_emulator/clock", json={"advance_seconds": 2 * 3600 + 60})

    async def returned() -> dict[str, int]:
        events = await db.read.ledger.history(tenant.account_id, 20_000)
        return dict(
            Counter(event.assignment_id for event in events if event.kind == "returned" and event.assignment_id)
        )

    first = await returned()
    assert sorted(first) == sorted(item.id for item in items[:2500]) and set(first.values()) == {1}
    waiting = await db.read.assignments.on_system(downloaded["id"], ("revoke_pending",))
    assert len(waiting) == 500 and {item.pending_reason for item in waiting} == {"auto_revoked"}
    assert (await db.read.systems.get(downloaded["id"])).dirty  # type: ignore[union-attr]
    await assert_invariant(cloud.app)

    # the file's copies were valid until the Auto Revoke:
    # past it and the skew tolerance the other 500 come back, once each
    await call(cloud, "POST", "/_emulator/clock", json={"advance_seconds": 3600})
    final = await returned()
    assert sorted(final) == sorted(item.id for item in items) and set(final.values()) == {1}
    assert (await tenant.sub_state(sub["id"]))["credits_available"] == 3000
    assert (
        await db.read.jobs.due(START + timedelta(days=300), 10) == []
    )  # the subscription's term end is all that is left
    await assert_invariant(cloud.app)


async def test_due_work_runs_once_when_two_processes_run_their_schedulers_at_once(
    store: Database, postgres_second: Database | None
) -> None:
    """Two cloud processes on one database (PostgreSQL), or one (SQLite): whichever runs a pass, each item once."""
    other = postgres_second or store
    clock = VirtualClock(start=START)

    async def note(tx: Queries, due: list[Due]) -> Handled:
        for item in due:
            if await tx.meta.get(f"ran:{item.ref}") is not None:
                raise AssertionError(f"{item.ref} ran twice")
            await tx.meta.set(f"ran:{item.ref}", "once")
        return Handled(len(due))

    async with store.transaction() as tx:
        await tx.jobs.schedule_many([("note", f"item-{n}", START - timedelta(minutes=n)) for n in range(300)])
    schedulers = [
        Scheduler(db, clock, {"note": note}, deliver=lambda snapshot: note(None, [])) for db in (store, other)
    ]  # type: ignore[arg-type]
    ran = await asyncio.gather(*(scheduler.run_due() for scheduler in schedulers for _ in range(3)))
    assert sum(ran) == 300
    assert await store.read.jobs.count() == 0
    assert [await store.read.meta.get(f"ran:item-{n}") for n in range(300)] == ["once"] * 300
