"""SQLite as both services use it: a WAL connection with named rows, numbered migrations tracked in
``PRAGMA user_version``, ``BEGIN IMMEDIATE`` transactions, and ``Sql``, which runs one connection's statements."""

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite
import structlog

log = structlog.get_logger()

Params = Sequence[Any]


class Sql:
    """Runs statements on one connection. Every call is one round trip to aiosqlite's thread (≈ 0.2 ms):
    that, not the rows, is what a transaction costs, so work over many rows is one statement (see
    docs/architecture.md, "The store")."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        return list(await self._conn.execute_fetchall(sql, params))

    async def one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        rows = await self.all(sql, params)
        return rows[0] if rows else None

    async def run(self, sql: str, params: Params = ()) -> int:
        """One statement; returns how many rows it changed."""
        cursor = await self._conn.execute(sql, params)
        return cursor.rowcount

    async def insert(self, sql: str, params: Params = ()) -> int:
        """One INSERT; returns the new row's id."""
        cursor = await self._conn.execute(sql, params)
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    async def many(self, sql: str, rows: Iterable[Params]) -> int:
        """One statement for each of ``rows``, in one round trip; returns how many rows changed in all."""
        cursor = await self._conn.executemany(sql, rows)
        return cursor.rowcount

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A nested step inside a transaction that can fail alone."""
        await self.run("SAVEPOINT step")
        try:
            yield
        except Exception:
            await self.run("ROLLBACK TO step")
            await self.run("RELEASE step")
            raise
        await self.run("RELEASE step")


async def connect(path: Path, *, read_only: bool = False) -> aiosqlite.Connection:
    """A connection in autocommit mode (transactions are explicit) with named rows."""
    if read_only:
        conn = await aiosqlite.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(path, isolation_level=None)
        await conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a killed process (the promise here); FULL would add an fsync per commit.
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.execute("PRAGMA foreign_keys=ON")
    conn.row_factory = aiosqlite.Row
    await conn.execute("PRAGMA busy_timeout=5000")
    # SQLite's default page cache is 2 MiB: a batch over a few hundred thousand rows would re-read its index
    # pages from the OS for every item. The cache grows only as pages are used, so small databases stay small.
    await conn.execute("PRAGMA cache_size=-65536")
    return conn


async def migrate(conn: aiosqlite.Connection, migrations: Sequence[str], path: Path) -> None:
    """Apply the migrations not yet recorded in ``PRAGMA user_version``, each in its own transaction."""
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    version = int(row[0]) if row else 0
    for number, script in enumerate(migrations[version:], start=version + 1):
        await conn.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
        log.info("migration_applied", database=str(path), version=number)


@asynccontextmanager
async def immediate(conn: aiosqlite.Connection) -> AsyncIterator[None]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any error. The caller holds the one writer's lock."""
    if conn.in_transaction:
        # A task cancelled between BEGIN and its first statement left this open; nothing was written.
        await conn.execute("ROLLBACK")
    begin = asyncio.ensure_future(conn.execute("BEGIN IMMEDIATE"))
    try:
        await asyncio.shield(begin)
    except asyncio.CancelledError:
        # The BEGIN is queued in aiosqlite's thread and runs anyway: end it before the caller lets the
        # lock go, or the next transaction's BEGIN would find this one open.
        with contextlib.suppress(Exception):
            await begin
            await conn.execute("ROLLBACK")
        raise
    try:
        yield
    except BaseException:
        await asyncio.shield(conn.execute("ROLLBACK"))
        raise
    await asyncio.shield(conn.execute("COMMIT"))
