"""The database a service keeps its state in, as the rest of the service sees it: ``read`` (committed data,
never waiting for a writer), ``transaction()`` (every write), the event journal written with each
transaction, and what several processes sharing one database need (``bus``, ``exclusive``).

``SqliteDatabase`` is the embedded one both services use: a writer connection behind an asyncio lock, a
read-only reader, WAL, numbered migrations. ``shared/postgres.py`` is the cloud's other. Each service gives
it its migrations and its ``Queries`` (``cloud/store``, ``home/store``)."""

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Generic, TypeVar

from flex_emulator.shared.bus import Bus
from flex_emulator.shared.journal import Journal, written_with
from flex_emulator.shared.sql import Dialect
from flex_emulator.shared.sqlite import (
    Checkpoints,
    Connection,
    compile_ahead,
    connect,
    immediate,
    migrate,
    statements_ran,
)
from flex_emulator.shared.sqlite import Sql as SqliteSql

Q = TypeVar("Q")


class Database(ABC, Generic[Q]):
    """Reads go through ``read``; every write through ``transaction()``."""

    dialect: Dialect
    journal: Journal
    bus: Bus

    @abstractmethod
    async def open(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @property
    @abstractmethod
    def is_open(self) -> bool: ...

    @property
    @abstractmethod
    def read(self) -> Q: ...

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Q]:
        """One transaction: committed when the block ends, rolled back (journal facts kept for the next) on any
        error. Concurrent requests never over-assign whichever database runs it (see each implementation)."""

    @abstractmethod
    def exclusive(self, name: str, *, wait: bool) -> AbstractAsyncContextManager[bool]:
        """Held by one task of one process at a time among all that share the database: yields whether it is
        held (without ``wait``, False at once when someone else holds it)."""

    async def write_journal(self) -> None:
        """Write pending journal facts now (they are otherwise written by the next transaction), once the
        transactions carrying earlier ones have ended: then the journal holds every fact noted before this call."""
        await self.journal.carried()
        if self.journal.pending and self.is_open:
            async with self.transaction():
                pass


class SqliteDatabase(Database[Q]):
    """One SQLite file, one process: the one writer is an asyncio lock around BEGIN IMMEDIATE ... COMMIT."""

    dialect = Dialect.SQLITE

    def __init__(
        self,
        path: Path,
        migrations: Sequence[str],
        queries: Callable[[SqliteSql], Q],
        journal: Journal | None = None,
        *,
        durable: bool = True,
    ) -> None:
        """``durable=False``: never wait for the disk (a test world's data; see ``sqlite.connect``)."""
        self.path = path
        self.durable = durable
        self.journal = journal or Journal()
        self.bus = Bus()
        self._migrations = migrations
        self._queries = queries
        self._writer: Connection | None = None
        self._reader: Connection | None = None
        # Made once: a request reads through several of them, and they only hold their connection.
        self._reads: Q | None = None
        self._writes: Q | None = None
        self._write_sql: SqliteSql | None = None
        self._lock = asyncio.Lock()
        self._exclusive: dict[str, asyncio.Lock] = {}
        self.checkpoints = Checkpoints(path, durable=durable)
        # What its connections count their statements under (see ``sqlite.compile_ahead``): one schema, one role.
        kind = f"{getattr(queries, '__module__', '')}.{getattr(queries, '__qualname__', repr(queries))}"
        self._kinds = (f"{kind}:writer", f"{kind}:reader")

    async def open(self) -> None:
        self._writer = connect(self.path, durable=self.durable)
        migrate(self._writer, self._migrations, self.path)
        self._reader = connect(self.path, read_only=True)
        self._write_sql = SqliteSql(self._writer, statements_ran(self._kinds[0]))
        reads = SqliteSql(self._reader, statements_ran(self._kinds[1]))
        self._reads, self._writes = self._queries(reads), self._queries(self._write_sql)

    def compile_ahead(self) -> int:
        """Compile into both connections the statements databases of this kind ran most in this process, running
        none (a test world started ahead does this before a test takes it); how many it compiled."""
        if self._writer is None or self._reader is None:
            raise RuntimeError(f"the database {self.path.name} is not open")
        return compile_ahead(self._writer, self._kinds[0]) + compile_ahead(self._reader, self._kinds[1])

    async def close(self) -> None:
        await self.checkpoints.wait()
        # The last connection to close copies the WAL into the database file (0.5-0.8 ms here). A throw-away database
        # closes its writer first and its read-only reader last, which cannot, so the WAL stays for a next open.
        for conn in (self._reader, self._writer) if self.durable else (self._writer, self._reader):
            if conn is not None:
                conn.close()
        self._reader = self._writer = None
        self._reads = self._writes = None
        self._write_sql = None

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
        if self._writer is None or self._writes is None or self._write_sql is None:
            raise RuntimeError(f"the database {self.path.name} is not open")
        async with self.journal.carrying() as carried, self._lock:
            with immediate(self._writer):
                async with written_with(self.journal, self._write_sql, carried):
                    yield self._writes
        self.checkpoints.committed()

    @asynccontextmanager
    async def exclusive(self, name: str, *, wait: bool) -> AsyncIterator[bool]:
        """One process per SQLite database: a lock of this process is enough."""
        lock = self._exclusive.setdefault(name, asyncio.Lock())
        if not wait and lock.locked():
            yield False
            return
        async with lock:
            yield True
