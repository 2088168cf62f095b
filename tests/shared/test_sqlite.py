"""The one writer's transactions stay sound when the task holding one is cancelled at any point."""

import asyncio
import contextlib
from pathlib import Path

from flex_emulator.cloud.store import SqliteStore


async def test_a_transaction_cancelled_at_its_begin_leaves_none_open(tmp_path: Path) -> None:
    db = SqliteStore(tmp_path / "cloud.sqlite3")
    await db.open()

    async def read_in_a_transaction() -> None:
        async with db.transaction() as tx:
            await tx.meta.get("anything")

    try:
        for attempt in range(200):  # cancelled before, during and after its BEGIN reaches SQLite
            task = asyncio.create_task(read_in_a_transaction())
            for _ in range(attempt % 4):
                await asyncio.sleep(0)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            async with db.transaction() as tx:  # failed with "cannot start a transaction within a transaction"
                await tx.meta.set("attempt", str(attempt))
        assert await db.read.meta.get("attempt") == "199"
    finally:
        await db.close()


def test_a_throw_away_database_never_waits_for_the_disk_and_a_kept_one_does_at_checkpoints(tmp_path: Path) -> None:
    from flex_emulator.shared.sqlite import connect

    kept, throw_away = connect(tmp_path / "kept.sqlite3"), connect(tmp_path / "test.sqlite3", durable=False)
    try:
        assert kept.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL: the WAL is synced at checkpoints
        assert throw_away.execute("PRAGMA synchronous").fetchone()[0] == 0  # OFF
        for conn in (kept, throw_away):  # both are real WAL databases all the same
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        kept.close()
        throw_away.close()
