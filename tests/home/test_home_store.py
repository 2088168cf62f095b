"""The HOME store: WAL, migrations recorded in user_version and run once, one writer at a time."""

import asyncio
from pathlib import Path

import aiosqlite
import pytest

from home.schema import MIGRATIONS
from home.store import Store


async def test_migrations_run_once_and_the_database_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "home.sqlite3"
    for _ in range(2):
        store = Store(path)
        await store.open()
        async with store.transaction() as tx:
            await tx.set_meta("opened", "yes")
        await store.close()
    async with aiosqlite.connect(path) as db:
        async with db.execute("PRAGMA user_version") as cursor:
            assert (await cursor.fetchone())[0] == len(MIGRATIONS)  # type: ignore[index]
        async with db.execute("PRAGMA journal_mode") as cursor:
            assert (await cursor.fetchone())[0] == "wal"  # type: ignore[index]


async def test_a_failed_transaction_changes_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path / "home.sqlite3")
    await store.open()
    try:
        with pytest.raises(RuntimeError):
            async with store.transaction() as tx:
                await tx.set_meta("label", "half done")
                raise RuntimeError("boom")
        async with store.read() as db:
            assert await db.meta("label") is None
    finally:
        await store.close()


async def test_concurrent_transactions_take_turns(tmp_path: Path) -> None:
    store = Store(tmp_path / "home.sqlite3")
    await store.open()

    async def bump() -> None:
        async with store.transaction() as tx:
            value = int(await tx.meta("counter") or "0")
            await asyncio.sleep(0)
            await tx.set_meta("counter", str(value + 1))

    try:
        await asyncio.gather(*(bump() for _ in range(20)))
        async with store.read() as db:
            assert await db.meta("counter") == "20"
    finally:
        await store.close()
