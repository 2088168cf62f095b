"""Everything HOME asks of its database, as one ``Queries`` bound to the connection. Reads come through
``Database.read``, writes only inside ``Database.transaction()``."""

import json
from datetime import datetime
from typing import Any

from flex_emulator.home.domain.models import (
    AppliedSnapshot,
    LicenseSetting,
    PerpetualGrant,
    Resource,
    ResourceStatus,
    StoredReceipt,
)
from flex_emulator.home.store.records import applied_snapshot_row, entry_row, perpetual_row, receipt_row, resource_row
from flex_emulator.shared.journal import event_json
from flex_emulator.shared.licenses import PerpetualLicense
from flex_emulator.shared.snapshot_claims import SnapshotEntry
from flex_emulator.shared.sqlite import Sql
from flex_emulator.shared.timefmt import epoch, from_epoch
from flex_emulator.shared.tokens import Snapshot


def _ts(moment: datetime | None) -> int | None:
    return None if moment is None else epoch(moment)


class Queries:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    # --- meta --------------------------------------------------------------------------------

    async def meta(self, key: str) -> str | None:
        row = await self._sql.one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else str(row["value"])

    async def set_meta(self, key: str, value: str) -> None:
        await self._sql.run(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # --- the applied snapshot, its entries and its receipt ------------------------------------------

    async def applied_snapshot(self) -> AppliedSnapshot | None:
        row = await self._sql.one("SELECT * FROM snapshot WHERE id = 1")
        return None if row is None else applied_snapshot_row(row)

    async def applied_seq(self) -> int:
        row = await self._sql.one("SELECT seq FROM snapshot WHERE id = 1")
        return 0 if row is None else int(row["seq"])

    async def entries(self) -> list[SnapshotEntry]:
        return [entry_row(row) for row in await self._sql.all("SELECT * FROM entries ORDER BY position")]

    async def latest_receipt(self) -> StoredReceipt | None:
        row = await self._sql.one("SELECT * FROM receipt WHERE id = 1")
        return None if row is None else receipt_row(row)

    async def replace_snapshot(self, snapshot: Snapshot, token: str, applied_at: datetime, receipt: str) -> None:
        """The snapshot replaces the whole entry set (four statements, whatever its size); its receipt
        becomes the latest one."""
        await self._sql.run(
            """INSERT INTO snapshot (id, seq, token, jti, issued_at, expires_at, applied_at)
               VALUES (1, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, token = excluded.token, jti = excluded.jti,
                 issued_at = excluded.issued_at, expires_at = excluded.expires_at, applied_at = excluded.applied_at""",
            (
                snapshot.seq,
                token,
                snapshot.jti,
                epoch(snapshot.issued_at),
                epoch(snapshot.expires_at),
                epoch(applied_at),
            ),
        )
        await self._sql.run("DELETE FROM entries")
        await self._sql.many(
            """INSERT INTO entries (position, assignment_id, quarters, assigned_at, valid_until, renewable_until,
                 subscription_id, order_id, duration, subscription_state)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                (
                    position,
                    e.assignment_id,
                    e.credits,
                    epoch(e.assigned_at),
                    epoch(e.valid_until),
                    _ts(e.renewable_until),
                    e.subscription_id,
                    e.order_id,
                    e.duration,
                    e.subscription_state,
                )
                for position, e in enumerate(snapshot.entries)
            ],
        )
        await self.set_receipt(snapshot.seq, receipt, applied_at)

    async def set_receipt(self, seq: int, token: str, issued_at: datetime) -> None:
        """The latest receipt (the revoke key): of a snapshot applied, or the same snapshot's again with new usage."""
        await self._sql.run(
            """INSERT INTO receipt (id, seq, token, issued_at) VALUES (1, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE
               SET seq = excluded.seq, token = excluded.token, issued_at = excluded.issued_at""",
            (seq, token, epoch(issued_at)),
        )

    # --- perpetual licenses ---------------------------------------------------------------------------

    async def perpetual_grants(self) -> list[PerpetualGrant]:
        return [perpetual_row(row) for row in await self._sql.all("SELECT * FROM perpetual ORDER BY applied_at, jti")]

    async def has_perpetual(self, jti: str) -> bool:
        return await self._sql.one("SELECT 1 FROM perpetual WHERE jti = ?", (jti,)) is not None

    async def add_perpetual(self, license: PerpetualLicense, token: str, applied_at: datetime) -> None:
        await self._sql.run(
            "INSERT INTO perpetual (jti, license_type, count, token, applied_at) VALUES (?, ?, ?, ?, ?)",
            (license.jti, license.license_type, license.count, token, epoch(applied_at)),
        )

    # --- resources ------------------------------------------------------------------------------------

    async def resources(self) -> list[Resource]:
        return [resource_row(row) for row in await self._sql.all("SELECT * FROM resources ORDER BY id")]

    async def resource(self, resource_id: int) -> Resource | None:
        row = await self._sql.one("SELECT * FROM resources WHERE id = ?", (resource_id,))
        return None if row is None else resource_row(row)

    async def add_resource(
        self, name: str, needed: str, count: int, license_type: LicenseSetting, now: datetime
    ) -> Resource:
        resource_id = await self._sql.insert(
            """INSERT INTO resources (name, license_type_needed, count, license_type, status, created_at)
               VALUES (?, ?, ?, ?, 'stopped', ?)""",
            (name, needed, count, license_type, epoch(now)),
        )
        resource = await self.resource(resource_id)
        assert resource is not None
        return resource

    async def forget_licenses(self) -> None:
        """The emulator's reset: no credits, applied copy or seq, receipt, perpetual license or resource remains."""
        for table in ("entries", "snapshot", "receipt", "perpetual", "resources"):
            await self._sql.run(f"DELETE FROM {table}")

    async def set_resource_usage(self, resource_id: int, status: ResourceStatus, perpetual: int, quarters: int) -> None:
        """A resource's status and what it holds; a start also records its place among the starts."""
        await self._sql.run(
            """UPDATE resources SET status = ?, perpetual_in_use = ?, credits_in_use = ?,
                 started_order = CASE WHEN ? = 'running'
                   THEN (SELECT COALESCE(MAX(started_order), 0) + 1 FROM resources) ELSE started_order END
               WHERE id = ?""",
            (status, perpetual, quarters, status, resource_id),
        )

    # --- the event journal (shared.journal writes it) ------------------------------------------

    async def journal_after(self, cursor: int, limit: int, kinds: list[str] | None = None) -> list[dict[str, Any]]:
        """Events after ``cursor``, oldest first; with ``kinds``, only events of those kinds."""
        if kinds is None:
            rows = await self._sql.all("SELECT * FROM journal WHERE id > ? ORDER BY id LIMIT ?", (cursor, limit))
        else:
            rows = await self._sql.all(
                f"SELECT * FROM journal WHERE id > ? AND kind IN (SELECT value FROM {self._sql.each('k')}) "
                "ORDER BY id LIMIT ?",
                (cursor, self._sql.ids(kinds), limit),
            )
        return [
            event_json(
                row["id"],
                from_epoch(row["at"]),
                row["kind"],
                {"system_id": row["system_id"]} | json.loads(row["detail"]),
                row["noted_us"],
            )
            for row in rows
        ]
