"""The cloud's SQLite database: one writer connection behind a lock, one read-only reader, WAL."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite
import structlog

from cloud.schema import MIGRATIONS
from cloud.store import Queries

log = structlog.get_logger()


class Database:
    """Reads go through ``read`` (committed data only); every write through ``transaction()``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = await aiosqlite.connect(self.path, isolation_level=None)
        await self._writer.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a killed process (the promise here); FULL would add an fsync per commit.
        await self._writer.execute("PRAGMA synchronous=NORMAL")
        await self._writer.execute("PRAGMA foreign_keys=ON")
        await self._writer.execute("PRAGMA busy_timeout=5000")
        await self._migrate(self._writer)
        self._reader = await aiosqlite.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None)
        await self._reader.execute("PRAGMA busy_timeout=5000")

    async def close(self) -> None:
        for conn in (self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._reader = self._writer = None

    async def _migrate(self, conn: aiosqlite.Connection) -> None:
        async with conn.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        version = row[0] if row else 0
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            await conn.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
            log.info("migration_applied", database=str(self.path), version=number)

    @property
    def read(self) -> Queries:
        assert self._reader is not None, "database is not open"
        return Queries(self._reader)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Queries]:
        """One writer at a time: an asyncio lock around BEGIN IMMEDIATE ... COMMIT."""
        assert self._writer is not None, "database is not open"
        async with self._lock:
            if self._writer.in_transaction:
                # A task cancelled between BEGIN and its first statement left this open; nothing was written.
                await self._writer.execute("ROLLBACK")
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield Queries(self._writer)
            except BaseException:
                await asyncio.shield(self._writer.execute("ROLLBACK"))
                raise
            await asyncio.shield(self._writer.execute("COMMIT"))
