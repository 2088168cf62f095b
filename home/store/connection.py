"""HOME's SQLite database: one connection, one writer at a time (reads wait for it too), WAL, named rows."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from flex_emulator.home.store.migrations import MIGRATIONS
from flex_emulator.home.store.queries import Queries
from flex_emulator.shared.journal import Journal, written_with
from flex_emulator.shared.sqlite import Checkpoints, Connection, Sql, connect, immediate, migrate


class Store:
    def __init__(self, path: Path, journal: Journal | None = None) -> None:
        self.path = path
        self.journal = journal or Journal()
        self._db: Connection | None = None
        self._lock = asyncio.Lock()
        self.checkpoints = Checkpoints(path)

    async def open(self) -> None:
        self._db = connect(self.path)
        migrate(self._db, MIGRATIONS, self.path)

    async def close(self) -> None:
        await self.checkpoints.wait()
        if self._db is not None:
            self._db.close()
            self._db = None

    def _connection(self) -> Connection:
        if self._db is None:
            raise RuntimeError("the store is not open")
        return self._db

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Queries]:
        # Reads share the writer's lock so they never see a transaction half done.
        async with self._lock:
            yield Queries(Sql(self._connection()))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Queries]:
        """One writer at a time, with pending journal facts (see shared/journal.py)."""
        async with self._lock:
            db = self._connection()
            with immediate(db), written_with(self.journal, db):
                yield Queries(Sql(db))
        self.checkpoints.committed()

    async def write_journal(self) -> None:
        """Write pending journal facts now (they are otherwise written by the next transaction)."""
        if self.journal.pending and self._db is not None:
            async with self.transaction():
                pass
