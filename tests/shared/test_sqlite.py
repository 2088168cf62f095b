"""The one writer's transactions stay sound when the task holding one is cancelled at any point."""

import asyncio
import contextlib
import sqlite3
from pathlib import Path

import pytest

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


async def test_a_commit_that_fails_rolls_back_and_keeps_the_facts_it_carried(tmp_path: Path) -> None:
    """A COMMIT can fail after the body succeeded (here a foreign key checked only at the commit): the transaction
    is rolled back rather than left open, and the journal facts it carried are written by the next one."""
    db = SqliteStore(tmp_path / "cloud.sqlite3")
    await db.open()
    try:

        async def a_membership_of_nobody() -> None:
            async with db.transaction() as tx:
                await tx.journal.sql.run("PRAGMA defer_foreign_keys = ON")
                await tx.journal.sql.run(
                    "INSERT INTO memberships (account_id, user_id, role) VALUES ('acc_none', 'usr_none', 'admin')"
                )

        db.journal.note("link_up", "sys_1", home_seq=0)
        with pytest.raises(sqlite3.IntegrityError):
            await a_membership_of_nobody()
        await db.write_journal()
        assert [event["kind"] for event in await db.read.journal.after(0, 10)] == ["link_up"]
        async with db.transaction() as tx:  # not "cannot start a transaction within a transaction"
            await tx.meta.set("after", "1")
        assert await db.read.meta.get("after") == "1"
        assert (await db.read.journal.sql.one("SELECT COUNT(*) AS n FROM memberships"))["n"] == 0  # rolled back
    finally:
        await db.close()


async def test_statements_compiled_ahead_are_the_ones_run_with_parameters_and_none_of_them_runs(tmp_path: Path) -> None:
    from flex_emulator.shared.sqlite import Sql, compile_ahead, connect, statements_ran

    kind = f"test-{tmp_path.name}"
    first, second = connect(tmp_path / "first.sqlite3"), connect(tmp_path / "second.sqlite3")
    try:
        for conn in (first, second):
            conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
            conn.execute("INSERT INTO t (id, n) VALUES (1, 10), (2, 20)")
        sql = Sql(first, statements_ran(kind))
        for _ in range(3):
            await sql.run("UPDATE t SET n = n + ? WHERE id = ?", (1, 1))
        await sql.many("INSERT INTO t (id, n) VALUES (?, ?)", [(3, 30), (4, 40)])
        await sql.run("DELETE FROM t WHERE id > 2")  # no parameters: never counted, so never compiled ahead
        await sql.many("DELETE FROM t WHERE id = 99", [])  # seen with no rows: not counted either
        with pytest.raises(sqlite3.ProgrammingError):  # parameters it has no place for: refused, never counted
            await sql.run("DELETE FROM t", (1,))
        assert statements_ran(kind) == {
            "UPDATE t SET n = n + ? WHERE id = ?": 3,
            "INSERT INTO t (id, n) VALUES (?, ?)": 1,
        }
        statements_ran(kind)["SELECT n FROM gone WHERE id = ?"] += 1  # a table this schema lacks: skipped

        assert compile_ahead(second, kind) == 2
        assert compile_ahead(second, kind, most=1) == 1
        rows = second.execute("SELECT id, n FROM t ORDER BY id").fetchall()
        assert [tuple(row) for row in rows] == [(1, 10), (2, 20)]  # nothing ran
        await Sql(second).run("UPDATE t SET n = n + ? WHERE id = ?", (5, 2))  # and each still runs as before
        assert tuple(second.execute("SELECT n FROM t WHERE id = 2").fetchone()) == (25,)
    finally:
        first.close()
        second.close()


async def test_a_store_compiles_ahead_what_another_store_of_its_kind_ran(tmp_path: Path) -> None:
    used, fresh = SqliteStore(tmp_path / "used" / "cloud.sqlite3"), SqliteStore(tmp_path / "fresh" / "cloud.sqlite3")
    await used.open()
    await fresh.open()
    try:
        async with used.transaction() as tx:
            await tx.meta.set("seen", "yes")
        assert await used.read.meta.get("seen") == "yes"
        assert fresh.compile_ahead() >= 2  # the write and the read, at least (other tests may have run more)
        assert await fresh.read.meta.get("seen") is None
    finally:
        await used.close()
        await fresh.close()


@pytest.mark.parametrize("durable", [True, False])
async def test_a_closed_database_keeps_every_commit_and_only_a_kept_one_copies_its_wal_in_at_close(
    tmp_path: Path, durable: bool
) -> None:
    path = tmp_path / "cloud.sqlite3"
    db = SqliteStore(path, durable=durable)
    await db.open()
    for n in range(20):
        async with db.transaction() as tx:
            await tx.meta.set(f"key-{n}", str(n))
    await db.close()
    wal = path.with_name(path.name + "-wal")
    assert wal.exists() is not durable  # a throw-away one leaves the copying to a next open, if there is one
    again = SqliteStore(path, durable=durable)
    await again.open()
    try:
        assert [await again.read.meta.get(f"key-{n}") for n in range(20)] == [str(n) for n in range(20)]
    finally:
        await again.close()
