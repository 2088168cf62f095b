"""SQLite as both services use it: a WAL connection with named rows, numbered migrations tracked in
``PRAGMA user_version``, ``BEGIN IMMEDIATE`` transactions, and ``Sql``, which runs one connection's statements.

Statements run on the event loop's own thread. In WAL mode with ``synchronous=NORMAL`` a commit does not
wait for the disk, and a statement over indexed rows takes microseconds: less than handing it to a worker
thread and back (≈ 0.1–0.2 ms, which is what aiosqlite costs per call). Work over many rows stays one
set-based statement or one ``executemany``, and long runs of work are cut into batches that let the loop
breathe between them (see docs/architecture.md, "The store")."""

import asyncio
import contextlib
import json
import sqlite3
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import structlog

from flex_emulator.shared.sql import Dialect, Params, Row

log = structlog.get_logger()

Connection = sqlite3.Connection

# A checkpoint copies the WAL into the database file and waits for the disk: done by a commit on the loop
# (SQLite's default, every 1,000 pages) it stalled that commit for milliseconds. Most transactions write a
# handful of pages, so this many commits keep the WAL to a few MB; after a run of large ones, the WAL file
# is cut back to WAL_KEPT_BYTES once it restarts.
CHECKPOINT_EVERY_COMMITS = 200
WAL_KEPT_BYTES = 16 * 1024 * 1024

# Compiling a statement the first time a connection runs it costs 10-20 µs (0.5-0.7 ms for the 40-odd a test world's
# first steps run), paid again by each new world's new connections. So each kind of connection (a schema, as writer or
# reader) counts the statements it ran with parameters in this process, and a world started ahead of time compiles
# the most used into its own connections before a test takes it (``compile_ahead``). At most this many texts each:
RECORDED_TEXTS = 512
_RAN: defaultdict[str, Counter[str]] = defaultdict(Counter)


def statements_ran(kind: str) -> Counter[str]:
    """The statements connections of ``kind`` ran with parameters in this process, and how many times."""
    return _RAN[kind]


def compile_ahead(conn: Connection, kind: str, most: int = 100) -> int:
    """Compile into ``conn``'s statement cache the ``most`` statements connections of ``kind`` ran most, without
    running any: each ran with parameters, and executed here with none, sqlite3 compiles and caches it and then
    refuses the missing bindings before the statement takes a step. Returns how many it compiled."""
    ran = dict(statements_ran(kind))  # one C call: safe while another world's loop thread is counting
    texts = sorted(ran, key=ran.__getitem__)[-most:]  # the most used last: the cache keeps the latest
    compiled = 0
    for text in texts:
        try:
            conn.execute(text)
        except sqlite3.ProgrammingError:  # "Incorrect number of bindings": compiled, cached, not run
            compiled += 1
        except sqlite3.Error:  # a statement this schema no longer has: nothing to compile
            continue
    return compiled


class Sql:
    """Runs statements on one SQLite connection (``shared.sql.Sql``). The methods are coroutines so the stores
    read alike in both services and on both databases, but none of them suspends: a transaction's statements
    run back to back."""

    dialect = Dialect.SQLITE
    greatest = "MAX"
    least = "MIN"
    same = "IS"

    def __init__(self, conn: Connection, ran: Counter[str] | None = None) -> None:
        """``ran``: counts the statements run with parameters (see ``compile_ahead``)."""
        self._conn = conn
        self._ran = ran

    def _execute(self, sql: str, params: Params) -> sqlite3.Cursor:
        """Run one statement; one that ran with parameters has placeholders, so it is counted (``compile_ahead``,
        executing it with none, can only compile it, never run it)."""
        cursor = self._conn.execute(sql, params)
        if params:
            self._count(sql)
        return cursor

    def _count(self, sql: str) -> None:
        ran = self._ran
        if ran is not None and (sql in ran or len(ran) < RECORDED_TEXTS):
            ran[sql] += 1

    def each(self, alias: str) -> str:
        return f"json_each(?) AS {alias}"

    def ids(self, values: Iterable[str]) -> object:
        return json.dumps(sorted(set(values)))

    async def all(self, sql: str, params: Params = ()) -> list[Row]:
        return self._execute(sql, params).fetchall()

    async def one(self, sql: str, params: Params = ()) -> Row | None:
        row: Row | None = self._execute(sql, params).fetchone()
        return row

    async def run(self, sql: str, params: Params = ()) -> int:
        """One statement; returns how many rows it changed."""
        return self._execute(sql, params).rowcount

    async def insert(self, sql: str, params: Params = ()) -> int:
        """One INSERT; returns the new row's id."""
        row_id = self._execute(sql, params).lastrowid
        assert row_id is not None
        return row_id

    async def many(self, sql: str, rows: Iterable[Params]) -> int:
        """One statement for each of ``rows``, in one call into SQLite; returns how many rows changed in all."""
        changed = self._conn.executemany(sql, rows).rowcount
        if isinstance(rows, Sequence) and rows and rows[0]:  # it ran with parameters (as ``_execute``)
            self._count(sql)
        return changed

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A nested step inside a transaction that can fail alone."""
        self._conn.execute("SAVEPOINT step")
        try:
            yield
        except Exception:
            self._conn.execute("ROLLBACK TO step")
            self._conn.execute("RELEASE step")
            raise
        self._conn.execute("RELEASE step")


def connect(path: Path, *, read_only: bool = False, durable: bool = True) -> Connection:
    """A connection in autocommit mode (transactions are explicit) with named rows. ``durable=False`` (a test
    world's throw-away data) never waits for the disk, not even at a checkpoint: every commit still reaches the
    file (a killed process loses nothing), only a crash of the machine itself could lose the last ones."""
    if read_only:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a killed process (the promise here); FULL would add an fsync per commit.
        conn.execute(f"PRAGMA synchronous={'NORMAL' if durable else 'OFF'}")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA wal_autocheckpoint=0")  # see Checkpoints
        conn.execute(f"PRAGMA journal_size_limit={WAL_KEPT_BYTES}")
    conn.row_factory = sqlite3.Row
    # Each database has one writing process, and a WAL reader never waits: a lock held elsewhere means a
    # second process opened the same folder, which should fail soon rather than hold the loop.
    conn.execute("PRAGMA busy_timeout=2000")
    # SQLite's default page cache is 2 MiB: a batch over a few hundred thousand rows would re-read its index
    # pages from the OS for every item. The cache grows only as pages are used, so small databases stay small.
    conn.execute("PRAGMA cache_size=-65536")
    return conn


def migrate(conn: Connection, migrations: Sequence[str], path: Path) -> None:
    """Apply the migrations not yet recorded in ``PRAGMA user_version``, each in its own transaction."""
    row = conn.execute("PRAGMA user_version").fetchone()
    version = int(row[0]) if row else 0
    for number, script in enumerate(migrations[version:], start=version + 1):
        conn.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
        log.info("migration_applied", database=str(path), version=number)


@contextmanager
def immediate(conn: Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any error (a cancelled task too). The caller holds the one
    writer's lock."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")  # may fail too (a constraint checked at the commit): then it is still open
    except BaseException:
        if conn.in_transaction:  # SQLite itself rolls back on a few errors (a full disk, say)
            conn.execute("ROLLBACK")
        raise


def _checkpoint(path: Path, durable: bool) -> None:
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA busy_timeout=2000")
        if not durable:
            conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")


class Checkpoints:
    """Checkpoints the WAL on a worker thread every ``CHECKPOINT_EVERY_COMMITS`` commits, so no commit on the
    loop pays for one. A passive checkpoint never blocks the writer; the WAL restarts from its beginning at
    the first commit after a complete one. Closing the writer checkpoints what is left."""

    def __init__(self, path: Path, *, durable: bool = True) -> None:
        self._path = path
        self._durable = durable
        self._commits = 0
        self._running: asyncio.Task[None] | None = None
        self.done = 0  # checkpoints completed

    def committed(self) -> None:
        self._commits += 1
        if self._commits >= CHECKPOINT_EVERY_COMMITS and self._running is None:
            self._commits = 0
            self._running = asyncio.create_task(self._run(), name=f"checkpoint {self._path.name}")

    async def _run(self) -> None:
        try:
            await asyncio.to_thread(_checkpoint, self._path, self._durable)
            self.done += 1
        except sqlite3.Error as exc:  # the next one tries again; meanwhile the WAL only grows
            log.warning("checkpoint_failed", database=str(self._path), error=str(exc))
        finally:
            self._running = None

    async def wait(self) -> None:
        """Let a running checkpoint finish (before the connection closes)."""
        if self._running is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._running)
