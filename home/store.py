"""HOME's database: raw SQL over one aiosqlite connection, one writer, numbered migrations."""

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite
import structlog

from home.schema import MIGRATIONS
from shared.licenses import PerpetualLicense
from shared.snapshot_claims import SnapshotEntry
from shared.timefmt import iso, parse_iso
from shared.tokens import Snapshot

log = structlog.get_logger()

@dataclass(frozen=True)
class AppliedSnapshot:
    seq: int
    token: str
    jti: str
    issued_at: datetime
    expires_at: datetime
    applied_at: datetime


@dataclass(frozen=True)
class StoredReceipt:
    seq: int
    token: str
    issued_at: datetime


@dataclass(frozen=True)
class PerpetualGrant:
    jti: str
    license_type: str
    count: int
    applied_at: datetime


@dataclass(frozen=True)
class Resource:
    id: int
    name: str
    license_type_needed: str
    count: int
    license_type: str  # default | perpetual | credits
    status: str  # running | stopped | unlicensed
    perpetual_in_use: int
    credits_in_use: int  # quarters
    created_at: datetime


def _time(value: str | None) -> datetime | None:
    return parse_iso(value) if value else None


def _must(value: str | None) -> str:
    assert value is not None
    return value


class Reader:
    """Queries; only reachable through ``Store.read()`` or ``Store.transaction()``."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def _one(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
        async with self._db.execute(sql, tuple(params)) as cursor:
            return await cursor.fetchone()

    async def _all(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        async with self._db.execute(sql, tuple(params)) as cursor:
            return list(await cursor.fetchall())

    async def meta(self, key: str) -> str | None:
        row = await self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else str(row["value"])

    async def applied_snapshot(self) -> AppliedSnapshot | None:
        row = await self._one("SELECT * FROM snapshot WHERE id = 1")
        if row is None:
            return None
        return AppliedSnapshot(
            seq=row["seq"],
            token=row["token"],
            jti=row["jti"],
            issued_at=parse_iso(row["issued_at"]),
            expires_at=parse_iso(row["expires_at"]),
            applied_at=parse_iso(row["applied_at"]),
        )

    async def applied_seq(self) -> int:
        row = await self._one("SELECT seq FROM snapshot WHERE id = 1")
        return 0 if row is None else int(row["seq"])

    async def entries(self) -> list[SnapshotEntry]:
        rows = await self._all("SELECT * FROM entries ORDER BY position")
        return [
            SnapshotEntry(
                assignment_id=row["assignment_id"],
                credits=row["quarters"],
                assigned_at=parse_iso(row["assigned_at"]),
                valid_until=parse_iso(row["valid_until"]),
                renewable_until=_time(row["renewable_until"]),
                subscription_id=row["subscription_id"],
                order_id=row["order_id"],
                duration=row["duration"],
                subscription_state=row["subscription_state"],
            )
            for row in rows
        ]

    async def latest_receipt(self) -> StoredReceipt | None:
        row = await self._one("SELECT * FROM receipt WHERE id = 1")
        if row is None:
            return None
        return StoredReceipt(seq=row["seq"], token=row["token"], issued_at=parse_iso(row["issued_at"]))

    async def perpetual_grants(self) -> list[PerpetualGrant]:
        rows = await self._all("SELECT * FROM perpetual ORDER BY applied_at, jti")
        return [PerpetualGrant(r["jti"], r["license_type"], r["count"], parse_iso(r["applied_at"])) for r in rows]

    async def has_perpetual(self, jti: str) -> bool:
        return await self._one("SELECT 1 FROM perpetual WHERE jti = ?", (jti,)) is not None

    async def resources(self) -> list[Resource]:
        return [_resource(row) for row in await self._all("SELECT * FROM resources ORDER BY id")]

    async def resource(self, resource_id: int) -> Resource | None:
        row = await self._one("SELECT * FROM resources WHERE id = ?", (resource_id,))
        return None if row is None else _resource(row)


def _resource(row: aiosqlite.Row) -> Resource:
    return Resource(
        id=row["id"],
        name=row["name"],
        license_type_needed=row["license_type_needed"],
        count=row["count"],
        license_type=row["license_type"],
        status=row["status"],
        perpetual_in_use=row["perpetual_in_use"],
        credits_in_use=row["credits_in_use"],
        created_at=parse_iso(row["created_at"]),
    )


class Tx(Reader):
    """Writes; only reachable inside ``Store.transaction()``."""

    async def set_meta(self, key: str, value: str) -> None:
        await self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    async def replace_snapshot(self, snapshot: Snapshot, token: str, applied_at: datetime, receipt: str) -> None:
        """The snapshot replaces the whole entry set; its receipt becomes the latest one."""
        await self._db.execute(
            """INSERT INTO snapshot (id, seq, token, jti, issued_at, expires_at, applied_at)
               VALUES (1, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, token = excluded.token, jti = excluded.jti,
                 issued_at = excluded.issued_at, expires_at = excluded.expires_at, applied_at = excluded.applied_at""",
            (snapshot.seq, token, snapshot.jti, iso(snapshot.issued_at), iso(snapshot.expires_at), iso(applied_at)),
        )
        await self._db.execute("DELETE FROM entries")
        await self._db.executemany(
            """INSERT INTO entries (position, assignment_id, quarters, assigned_at, valid_until, renewable_until,
                 subscription_id, order_id, duration, subscription_state)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                (
                    position,
                    e.assignment_id,
                    e.credits,
                    iso(e.assigned_at),
                    iso(e.valid_until),
                    iso(e.renewable_until),
                    e.subscription_id,
                    e.order_id,
                    e.duration,
                    e.subscription_state,
                )
                for position, e in enumerate(snapshot.entries)
            ],
        )
        await self._db.execute(
            """INSERT INTO receipt (id, seq, token, issued_at) VALUES (1, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, token = excluded.token, issued_at = excluded.issued_at""",
            (snapshot.seq, receipt, iso(applied_at)),
        )

    async def add_perpetual(self, license: PerpetualLicense, token: str, applied_at: datetime) -> None:
        await self._db.execute(
            "INSERT INTO perpetual (jti, license_type, count, token, applied_at) VALUES (?, ?, ?, ?, ?)",
            (license.jti, license.license_type, license.count, token, iso(applied_at)),
        )

    async def add_resource(self, name: str, needed: str, count: int, license_type: str, now: datetime) -> Resource:
        cursor = await self._db.execute(
            """INSERT INTO resources (name, license_type_needed, count, license_type, status, created_at)
               VALUES (?, ?, ?, ?, 'stopped', ?)""",
            (name, needed, count, license_type, iso(now)),
        )
        resource_id = cursor.lastrowid
        await cursor.close()
        assert resource_id is not None
        resource = await self.resource(resource_id)
        assert resource is not None
        return resource

    async def forget_licenses(self) -> None:
        """The emulator's reset: no credits, applied copy or seq, receipt, perpetual license or resource remains."""
        for table in ("entries", "snapshot", "receipt", "perpetual", "resources"):
            await self._db.execute(f"DELETE FROM {table}")

    async def set_resource_usage(self, resource_id: int, status: str, perpetual: int, quarters: int) -> None:
        await self._db.execute(
            "UPDATE resources SET status = ?, perpetual_in_use = ?, credits_in_use = ? WHERE id = ?",
            (status, perpetual, quarters, resource_id),
        )


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(self.path, isolation_level=None)
        db.row_factory = aiosqlite.Row
        await db.execute("PRAGMA journal_mode = WAL")
        await db.execute("PRAGMA synchronous = NORMAL")
        await db.execute("PRAGMA busy_timeout = 5000")
        self._db = db
        await self._migrate(db)

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def _migrate(self, db: aiosqlite.Connection) -> None:
        async with db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        version = int(row[0]) if row else 0
        for number, statements in enumerate(MIGRATIONS[version:], start=version + 1):
            async with self._begin(db):
                for statement in statements:
                    await db.execute(statement)
                await db.execute(f"PRAGMA user_version = {number}")
            log.info("migration_applied", version=number, path=str(self.path))

    @asynccontextmanager
    async def _begin(self, db: aiosqlite.Connection) -> AsyncIterator[None]:
        if db.in_transaction:
            # A task cancelled between BEGIN and its first statement left this open; nothing was written.
            await db.rollback()
        await db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            await asyncio.shield(db.rollback())
            raise
        await asyncio.shield(db.commit())

    def _connection(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("the store is not open")
        return self._db

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Reader]:
        # Reads share the writer's lock so they never see a transaction half done.
        async with self._lock:
            yield Reader(self._connection())

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        async with self._lock:
            db = self._connection()
            async with self._begin(db):
                yield Tx(db)
