"""The cloud's SQLite database: one writer connection behind a lock, one read-only reader, WAL, named rows."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from flex_emulator.cloud.store.migrations import MIGRATIONS
from flex_emulator.cloud.store.queries import Queries
from flex_emulator.shared.journal import Journal, written_with
from flex_emulator.shared.sqlite import Checkpoints, Connection, Sql, connect, immediate, migrate


class Database:
    """Reads go through ``read`` (committed data only); every write through ``transaction()``."""

    def __init__(self, path: Path, journal: Journal | None = None) -> None:
        self.path = path
        self.journal = journal or Journal()
        self._writer: Connection | None = None
        self._reader: Connection | None = None
        # Made once: a request reads through several of them, and they only hold their connection.
        self._reads: Queries | None = None
        self._writes: Queries | None = None
        self._lock = asyncio.Lock()
        self._checkpoints = Checkpoints(path)

    async def open(self) -> None:
        self._writer = connect(self.path)
        migrate(self._writer, MIGRATIONS, self.path)
        self._reader = connect(self.path, read_only=True)
        self._reads, self._writes = Queries(Sql(self._reader)), Queries(Sql(self._writer))

    async def close(self) -> None:
        await self._checkpoints.wait()
        for conn in (self._reader, self._writer):
            if conn is not None:
                conn.close()
        self._reader = self._writer = None
        self._reads = self._writes = None

    @property
    def read(self) -> Queries:
        assert self._reads is not None, "database is not open"
        return self._reads

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Queries]:
        """One writer at a time: an asyncio lock around BEGIN IMMEDIATE ... COMMIT, with pending journal facts.
        The lock matters while a transaction's body awaits something other than SQLite (the link, say)."""
        assert self._writer is not None and self._writes is not None, "database is not open"
        async with self._lock:
            with immediate(self._writer), written_with(self.journal, self._writer):
                yield self._writes
        self._checkpoints.committed()

    async def write_journal(self) -> None:
        """Write pending journal facts now (they are otherwise written by the next transaction)."""
        if self.journal.pending and self._writer is not None:
            async with self.transaction():
                pass
