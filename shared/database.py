"""One SQLite database as both services keep theirs: a writer connection behind an asyncio lock, a read-only
reader that sees committed data only, WAL, numbered migrations, and the event journal written with each
transaction. Each service gives it its migrations and its ``Queries`` (``cloud/store``, ``home/store``)."""

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Generic, TypeVar

from flex_emulator.shared.journal import Journal, written_with
from flex_emulator.shared.sqlite import Checkpoints, Connection, Sql, connect, immediate, migrate

Q = TypeVar("Q")


class Database(Generic[Q]):
    """Reads go through ``read`` (committed data only, never waiting for the writer); every write through
    ``transaction()``."""

    def __init__(
        self, path: Path, migrations: Sequence[str], queries: Callable[[Sql], Q], journal: Journal | None = None
    ) -> None:
        self.path = path
        self.journal = journal or Journal()
        self._migrations = migrations
        self._queries = queries
        self._writer: Connection | None = None
        self._reader: Connection | None = None
        # Made once: a request reads through several of them, and they only hold their connection.
        self._reads: Q | None = None
        self._writes: Q | None = None
        self._lock = asyncio.Lock()
        self.checkpoints = Checkpoints(path)

    async def open(self) -> None:
        self._writer = connect(self.path)
        migrate(self._writer, self._migrations, self.path)
        self._reader = connect(self.path, read_only=True)
        self._reads, self._writes = self._queries(Sql(self._reader)), self._queries(Sql(self._writer))

    async def close(self) -> None:
        await self.checkpoints.wait()
        for conn in (self._reader, self._writer):
            if conn is not None:
                conn.close()
        self._reader = self._writer = None
        self._reads = self._writes = None

    @property
    def is_open(self) -> bool:
        return self._writer is not None

    @property
    def read(self) -> Q:
        if self._reads is None:
            raise RuntimeError(f"the database {self.path.name} is not open")
        return self._reads

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Q]:
        """One writer at a time: an asyncio lock around BEGIN IMMEDIATE ... COMMIT, with pending journal facts.
        The lock matters while a transaction's body awaits something other than SQLite (the link, say)."""
        if self._writer is None or self._writes is None:
            raise RuntimeError(f"the database {self.path.name} is not open")
        async with self._lock:
            with immediate(self._writer), written_with(self.journal, self._writer):
                yield self._writes
        self.checkpoints.committed()

    async def write_journal(self) -> None:
        """Write pending journal facts now (they are otherwise written by the next transaction)."""
        if self.journal.pending and self._writer is not None:
            async with self.transaction():
                pass
