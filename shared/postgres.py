"""PostgreSQL as the cloud uses it (``--database postgresql://...``), through asyncpg: a pool of connections,
numbered migrations, READ COMMITTED transactions, a bus on LISTEN/NOTIFY and locks held across processes.

The stores' SQL is written with ``?`` marks; ``PostgresSql`` numbers them (``$1`` ...) once per statement text.
Several cloud processes may share one database: nothing here assumes this process is the only one. What keeps
concurrent transactions from breaking the books is in the statements themselves (guarded updates, row locks
taken in one order: see docs/architecture.md, "The store"); this module gives them the tools.
"""

import asyncio
import functools
import json
import re
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Generic, TypeVar

import asyncpg
import structlog

from flex_emulator.shared.bus import Bus, Message
from flex_emulator.shared.database import Database
from flex_emulator.shared.journal import Journal, written_with
from flex_emulator.shared.sql import Dialect, Params, Row, Sql

log = structlog.get_logger()

Q = TypeVar("Q")

CHANNEL = "flex_cloud"
# NOTIFY carries at most 8000 bytes; a message larger than this goes without its optional parts (see publish).
NOTIFY_BYTES = 7900
POOL_SIZE = 8
MIGRATION_LOCK = "flex.migrations"

_MARK = re.compile(r"'[^']*'|\?(\d*)")


@functools.lru_cache(maxsize=2048)
def numbered(sql: str) -> str:
    """``?`` marks as PostgreSQL's ``$1, $2 ...`` (``?2`` as ``$2``); text inside quotes is left alone."""
    counter = 0

    def mark(match: re.Match[str]) -> str:
        nonlocal counter
        if match.group(0).startswith("'"):
            return match.group(0)
        if match.group(1):
            return f"${match.group(1)}"
        counter += 1
        return f"${counter}"

    return _MARK.sub(mark, sql)


def lock_key(name: str) -> int:
    """A stable 64-bit advisory lock key for ``name``."""
    return int.from_bytes(uuid.uuid5(uuid.NAMESPACE_URL, f"flex-emulator:{name}").bytes[:8], "big", signed=True)


class PostgresSql:
    """Runs statements on one asyncpg connection, or on the pool (each statement on whichever connection is
    free: reads outside a transaction)."""

    dialect = Dialect.POSTGRES
    greatest = "GREATEST"
    least = "LEAST"
    same = "IS NOT DISTINCT FROM"

    def __init__(self, conn: asyncpg.Connection | asyncpg.Pool) -> None:
        self._conn = conn

    def each(self, alias: str) -> str:
        return f"unnest(?::text[]) AS {alias}(value)"

    def ids(self, values: Iterable[str]) -> object:
        return sorted(set(values))

    async def all(self, sql: str, params: Params = ()) -> list[Row]:
        rows: list[Row] = await self._conn.fetch(numbered(sql), *params)
        return rows

    async def one(self, sql: str, params: Params = ()) -> Row | None:
        row: Row | None = await self._conn.fetchrow(numbered(sql), *params)
        return row

    async def run(self, sql: str, params: Params = ()) -> int:
        status: str = await self._conn.execute(numbered(sql), *params)
        last = status.rsplit(" ", 1)[-1]
        return int(last) if last.isdigit() else 0

    async def many(self, sql: str, rows: Iterable[Params]) -> int:
        batch = list(rows)
        if len(batch) == 1:  # most are one row (an assign's ledger entry): executemany's set-up costs more
            await self._conn.execute(numbered(sql), *batch[0])
        elif batch:
            await self._conn.executemany(numbered(sql), batch)
        return -1

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        assert isinstance(self._conn, asyncpg.Connection), "a savepoint belongs inside a transaction"
        async with self._conn.transaction():
            yield


class PostgresBus(Bus):
    """LISTEN/NOTIFY on one channel, on a connection of its own. Messages are JSON with the sender's id, so a
    process skips its own; they arrive in commit order (NOTIFY inside a transaction is sent when it commits)."""

    shared = True

    def __init__(self, process_id: str) -> None:
        super().__init__()
        self.process_id = process_id
        self._pool: asyncpg.Pool | None = None
        self._listener: asyncpg.Connection | None = None
        self._queue: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def start(self, pool: asyncpg.Pool, connect: Callable[[], Any]) -> None:
        self._pool = pool
        self._listener = await connect()
        await self._listener.add_listener(CHANNEL, self._heard)
        self._task = asyncio.create_task(self._deliver(), name="bus-deliver")

    @property
    def backend_pid(self) -> int:
        """The listening connection's server process: it lives exactly as long as this process does."""
        assert self._listener is not None
        return int(self._listener.get_server_pid())

    def _heard(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            message = json.loads(payload)
        except ValueError:
            return
        if isinstance(message, dict) and message.get("from") != self.process_id:
            self._queue.put_nowait(message)

    async def _deliver(self) -> None:
        """One message at a time, in order: a handler that awaits holds the next one back."""
        while True:
            message = await self._queue.get()
            for handler in self.handlers:
                try:
                    await handler(message)
                except Exception:
                    log.exception("bus_message_failed", kind=message.get("kind"))

    def encode(self, message: Message) -> str:
        payload = json.dumps({**message, "from": self.process_id}, separators=(",", ":"))
        if len(payload.encode()) > NOTIFY_BYTES:
            # Optional parts (a token a receiver can read from the database) go: the rest always fits.
            payload = json.dumps(
                {key: value for key, value in message.items() if not key.startswith("opt_")} | {"from": self.process_id}
            )
        return payload

    async def publish(self, message: Message) -> None:
        if self._pool is None:
            return
        await self._pool.execute("SELECT pg_notify($1, $2)", CHANNEL, self.encode(message))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._listener is not None:
            await self._listener.close()
            self._listener = None


class PostgresDatabase(Database[Q], Generic[Q]):
    """A pool of connections to one PostgreSQL database that other processes may share.

    Transactions are READ COMMITTED: a guarded ``UPDATE ... WHERE quarters_available >= ?`` waits for a
    concurrent one on the same row and then looks again, so nothing is over-assigned, and the stores lock the
    rows a piece of work decides on (``FOR UPDATE``) before reading them. Migrations are applied by one process
    at a time (an advisory lock), tracked in ``schema_migrations``."""

    dialect = Dialect.POSTGRES

    def __init__(
        self,
        url: str,
        migrations: Sequence[str],
        queries: Callable[[Sql], Q],
        journal: Journal | None = None,
        *,
        pool_size: int = POOL_SIZE,
    ) -> None:
        self.url = url
        self.journal = journal or Journal()
        self.process_id = uuid.uuid4().hex[:16]
        self.bus: PostgresBus = PostgresBus(self.process_id)
        self._migrations = migrations
        self._queries = queries
        self._pool_size = pool_size
        self._pool: asyncpg.Pool | None = None
        self._reads: Q | None = None

    async def _connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.url)

    async def open(self) -> None:
        self._pool = await asyncpg.create_pool(self.url, min_size=2, max_size=self._pool_size, reset=keep_session)
        assert self._pool is not None
        async with self._pool.acquire() as conn:
            await migrate(conn, self._migrations)
        self._reads = self._queries(PostgresSql(self._pool))
        await self.bus.start(self._pool, self._connect)

    async def close(self) -> None:
        await self.bus.stop()
        if self._pool is not None:
            await self._pool.close()
        self._pool = None
        self._reads = None

    @property
    def is_open(self) -> bool:
        return self._pool is not None

    @property
    def read(self) -> Q:
        if self._reads is None:
            raise RuntimeError("the database is not open")
        return self._reads

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Q]:
        if self._pool is None:
            raise RuntimeError("the database is not open")
        async with self.journal.carrying() as carried, self._pool.acquire() as conn, conn.transaction():
            sql = PostgresSql(conn)
            async with written_with(self.journal, sql, carried, prune=False):
                yield self._queries(sql)

    @asynccontextmanager
    async def exclusive(self, name: str, *, wait: bool) -> AsyncIterator[bool]:
        """A session advisory lock on a connection held for the block: the server lets it go if this process
        dies, so another process takes over."""
        if self._pool is None:
            raise RuntimeError("the database is not open")
        key = lock_key(name)
        async with self._pool.acquire() as conn:
            if wait:
                await conn.execute("SELECT pg_advisory_lock($1)", key)
                held = True
            else:
                held = bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", key))
            try:
                yield held
            finally:
                if held and not conn.is_closed():
                    await conn.execute("SELECT pg_advisory_unlock($1)", key)


async def keep_session(_conn: asyncpg.Connection) -> None:
    """What a connection going back to the pool needs beyond asyncpg's own clean-up (which rolls back a
    transaction left open): nothing. asyncpg's default also resets the session (``RESET ALL``, ``UNLISTEN``,
    unlocking advisory locks), a round trip with every statement read through the pool and every transaction;
    the stores leave nothing to reset (settings are ``SET LOCAL``, ``exclusive`` unlocks its own lock)."""


async def migrate(conn: asyncpg.Connection, migrations: Sequence[str]) -> None:
    """Apply the migrations not yet recorded in ``schema_migrations``, one process at a time, each in its own
    transaction."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", lock_key(MIGRATION_LOCK))
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        version = int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))
        for number, script in enumerate(migrations[version:], start=version + 1):
            async with conn.transaction():
                await conn.execute(script)
                await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", number)
            log.info("migration_applied", database="postgresql", version=number)
