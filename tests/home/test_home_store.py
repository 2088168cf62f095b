"""The HOME store: WAL, migrations recorded in user_version and run once, one writer at a time."""

import asyncio
import contextlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from flex_emulator.home.store import Database
from flex_emulator.home.store.migrations import MIGRATIONS
from flex_emulator.shared.sqlite import CHECKPOINT_EVERY_COMMITS


async def test_migrations_run_once_and_the_database_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "home.sqlite3"
    for _ in range(2):
        store = Database(path)
        await store.open()
        async with store.transaction() as tx:
            await tx.set_meta("opened", "yes")
        await store.close()
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchall() == [(len(MIGRATIONS),)]
        assert db.execute("PRAGMA journal_mode").fetchall() == [("wal",)]


async def test_a_failed_transaction_changes_nothing(tmp_path: Path) -> None:
    store = Database(tmp_path / "home.sqlite3")
    await store.open()

    async def half_done() -> None:
        async with store.transaction() as tx:
            await tx.set_meta("label", "half done")
            raise RuntimeError("boom")

    try:
        with pytest.raises(RuntimeError):
            await half_done()
        db = store.read
        assert await db.meta("label") is None
    finally:
        await store.close()


async def test_concurrent_transactions_take_turns(tmp_path: Path) -> None:
    store = Database(tmp_path / "home.sqlite3")
    await store.open()

    async def bump() -> None:
        async with store.transaction() as tx:
            value = int(await tx.meta("counter") or "0")
            await asyncio.sleep(0)
            await tx.set_meta("counter", str(value + 1))

    try:
        await asyncio.gather(*(bump() for _ in range(20)))
        db = store.read
        assert await db.meta("counter") == "20"
    finally:
        await store.close()


async def test_a_database_saved_with_iso_text_times_opens_with_the_same_times(tmp_path: Path) -> None:
    path = tmp_path / "home.sqlite3"
    with contextlib.closing(sqlite3.connect(path)) as db:  # as an earlier version left it: times as ISO 8601 text
        db.executescript(MIGRATIONS[0] + "\nPRAGMA user_version = 1;")
        db.executescript(
            """INSERT INTO meta VALUES ('time_mark', '2026-12-01T08:30:00Z');
               INSERT INTO snapshot VALUES (1, 7, 'tok', 'jti-7', '2026-11-28T10:00:00Z', '2026-12-28T10:00:00Z',
                 '2026-11-28T10:00:05Z');
               INSERT INTO entries VALUES (0, 'asg_1', 4, '2026-11-28T09:00:00Z', '2026-12-28T10:00:00Z', NULL,
                 'sub_1', 'SO-1', 'annual', 'active');
               INSERT INTO entries VALUES (1, 'asg_2', 2, '2026-11-28T09:30:00Z', '2026-12-20T00:00:00Z',
                 '2027-01-01T00:00:00Z', 'sub_1', 'SO-1', 'annual', 'cancelled');
               INSERT INTO receipt VALUES (1, 7, 'receipt', '2026-11-28T10:00:05Z');
               INSERT INTO perpetual VALUES ('p-1', 'Editor', 2, 'tok', '2026-11-20T00:00:00Z');
               INSERT INTO resources (name, license_type_needed, count, license_type, status, created_at)
                 VALUES ('Cam 1', 'Editor', 1, 'perpetual', 'running', '2026-11-21T12:00:00Z');"""
        )
    store = Database(path)
    await store.open()
    try:
        db = store.read
        assert await db.meta("time_mark") == str(int(datetime(2026, 12, 1, 8, 30, tzinfo=UTC).timestamp()))
        applied = await db.applied_snapshot()
        assert applied is not None and (applied.seq, applied.issued_at) == (
            7,
            datetime(2026, 11, 28, 10, tzinfo=UTC),
        )
        first, second = await db.entries()
        assert (first.assignment_id, first.valid_until, first.renewable_until) == (
            "asg_1",
            datetime(2026, 12, 28, 10, tzinfo=UTC),
            None,
        )
        assert second.renewable_until == datetime(2027, 1, 1, tzinfo=UTC)
        receipt = await db.latest_receipt()
        assert receipt is not None and receipt.issued_at == datetime(2026, 11, 28, 10, 0, 5, tzinfo=UTC)
        [grant] = await db.perpetual_grants()
        assert grant.applied_at == datetime(2026, 11, 20, tzinfo=UTC)
        [resource] = await db.resources()
        assert (resource.name, resource.created_at) == ("Cam 1", datetime(2026, 11, 21, 12, tzinfo=UTC))
        async with store.transaction() as tx:  # the rebuilt table still numbers new rows after the old ones
            added = await tx.add_resource("Cam 2", "Editor", 1, "default", datetime(2026, 12, 2, tzinfo=UTC))
        assert added.id == resource.id + 1
    finally:
        await store.close()


async def test_commits_leave_the_checkpoint_to_a_worker_thread(tmp_path: Path) -> None:
    # No commit copies the WAL into the database file itself (that stalled the loop): the file stays as
    # it was until the store's own checkpoint, which runs off the loop after a number of commits.
    path = tmp_path / "home.sqlite3"
    store = Database(path)
    await store.open()
    try:
        size_after_open = path.stat().st_size
        for number in range(CHECKPOINT_EVERY_COMMITS - 1):
            async with store.transaction() as tx:
                await tx.set_meta("counter", str(number))
        assert path.stat().st_size == size_after_open and store.checkpoints.done == 0
        async with store.transaction() as tx:
            await tx.set_meta("counter", "last")
        await store.checkpoints.wait()
        assert store.checkpoints.done == 1
        assert path.stat().st_size > size_after_open
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            assert db.execute("SELECT value FROM meta WHERE key = 'counter'").fetchall() == [("last",)]
    finally:
        await store.close()
