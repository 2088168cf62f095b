"""The cloud's SQL for what is written once and never changed: the ledger, the revoke keys entered, and
the audit of balances. ``Queries`` in store.py builds on these; use it, not this module, from services."""

import json
from datetime import datetime
from typing import Any

import aiosqlite

from cloud.models import LedgerEvent
from cloud.rows import Row
from shared.timefmt import epoch, from_epoch


class SqlRunner:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    # One round trip to aiosqlite's thread per statement: it is the main cost of a small transaction.
    async def _all(self, sql: str, params: tuple[Any, ...] = ()) -> list[Row]:
        return list(await self._conn.execute_fetchall(sql, params))

    async def _one(self, sql: str, params: tuple[Any, ...] = ()) -> Row | None:
        rows = await self._all(sql, params)
        return rows[0] if rows else None

    async def _run(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        cursor = await self._conn.execute(sql, params)
        return cursor.rowcount


class LedgerQueries(SqlRunner):
    async def append_ledger(
        self,
        at: datetime,
        kind: str,
        actor: str,
        account_id: str,
        *,
        subscription_id: str | None = None,
        system_id: str | None = None,
        assignment_id: str | None = None,
        quarters: int = 0,
        detail: dict[str, object] | None = None,
    ) -> None:
        await self._run(
            "INSERT INTO ledger (at, kind, actor, account_id, subscription_id, system_id, assignment_id, quarters, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (epoch(at), kind, actor, account_id, subscription_id, system_id, assignment_id, quarters, json.dumps(detail or {})),
        )

    async def history(self, account_id: str, limit: int) -> list[LedgerEvent]:
        rows = await self._all(
            "SELECT id, at, kind, actor, account_id, subscription_id, system_id, assignment_id, quarters, detail "
            "FROM ledger WHERE account_id = ? ORDER BY id DESC LIMIT ?",
            (account_id, limit),
        )
        return [
            LedgerEvent(row[0], from_epoch(row[1]), row[2], row[3], row[4], row[5], row[6], row[7], row[8], json.loads(row[9]))
            for row in rows
        ]

    async def revoke_key_entered_before(self, jti: str) -> bool:
        return await self._one("SELECT 1 FROM revoke_keys WHERE jti = ?", (jti,)) is not None

    async def record_revoke_key(self, jti: str, system_id: str, seq: int, now: datetime) -> None:
        await self._run(
            "INSERT INTO revoke_keys (jti, system_id, seq, entered_at) VALUES (?, ?, ?, ?) ON CONFLICT(jti) DO NOTHING",
            (jti, system_id, seq, epoch(now)),
        )

    async def invariant_violations(self) -> list[dict[str, object]]:
        """Subscriptions where available + open assignments != total, or the ledger disagrees."""
        rows = await self._all(
            "SELECT s.id, s.quarters_total, s.quarters_available, "
            "COALESCE((SELECT SUM(quarters) FROM assignments a WHERE a.subscription_id = s.id AND a.state != 'ended'), 0), "
            "COALESCE((SELECT SUM(CASE kind WHEN 'assigned' THEN quarters WHEN 'returned' THEN -quarters ELSE 0 END) "
            "          FROM ledger l WHERE l.subscription_id = s.id), 0) "
            "FROM subscriptions s"
        )
        return [
            {"subscription_id": row[0], "total": row[1], "available": row[2], "held": row[3], "ledger_held": row[4]}
            for row in rows
            if row[2] + row[3] != row[1] or row[3] != row[4]
        ]
