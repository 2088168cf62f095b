"""SQL for what is written once and never changed: the ledger, the revoke keys entered, and the audit."""

import json
from dataclasses import dataclass
from datetime import datetime

from flex_emulator.cloud.domain.models import LedgerEvent
from flex_emulator.cloud.store.records import LEDGER_COLUMNS, ledger_row
from flex_emulator.shared.journal import wall_us
from flex_emulator.shared.sql import Sql
from flex_emulator.shared.timefmt import epoch


@dataclass(frozen=True, kw_only=True)
class LedgerEntry:
    at: datetime
    kind: str
    actor: str
    account_id: str
    subscription_id: str | None = None
    system_id: str | None = None
    assignment_id: str | None = None
    quarters: int = 0
    detail: dict[str, object] | str | None = None  # a str is the detail already as JSON text


class LedgerQueries:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def append(
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
        await self.append_many(
            [
                LedgerEntry(
                    at=at,
                    kind=kind,
                    actor=actor,
                    account_id=account_id,
                    subscription_id=subscription_id,
                    system_id=system_id,
                    assignment_id=assignment_id,
                    quarters=quarters,
                    detail=detail,
                )
            ]
        )

    async def append_many(self, entries: list[LedgerEntry]) -> None:
        noted = wall_us()
        await self._sql.many(
            "INSERT INTO ledger (at, kind, actor, account_id, subscription_id, system_id, assignment_id, quarters, "
            "detail, noted_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    epoch(e.at),
                    e.kind,
                    e.actor,
                    e.account_id,
                    e.subscription_id,
                    e.system_id,
                    e.assignment_id,
                    e.quarters,
                    e.detail if isinstance(e.detail, str) else json.dumps(e.detail or {}),
                    noted,
                )
                for e in entries
            ],
        )

    async def history(
        self,
        account_id: str,
        limit: int,
        *,
        before_id: int | None = None,
        system_id: str | None = None,
        kinds: tuple[str, ...] = (),
    ) -> list[LedgerEvent]:
        """The newest events first; ``before_id`` pages back, ``system_id`` and ``kinds`` narrow it."""
        where: list[str] = ["account_id = ?"]
        params: list[object] = [account_id]
        if before_id is not None:
            where.append("id < ?")
            params.append(before_id)
        if system_id is not None:
            where.append("system_id = ?")
            params.append(system_id)
        if kinds:
            where.append(f"kind IN ({', '.join('?' for _ in kinds)})")
            params.extend(kinds)
        rows = await self._sql.all(
            f"SELECT {LEDGER_COLUMNS} FROM ledger WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?",
            (*params, limit),
        )
        return [ledger_row(row) for row in rows]

    async def revoke_requesters(self, assignment_ids: list[str]) -> dict[str, str]:
        """Who asked for the revoke each assignment waits on (HOME's proof then completes that person's revoke)."""
        if not assignment_ids:
            return {}
        rows = await self._sql.all(
            "SELECT l.assignment_id, l.actor FROM ledger l JOIN "
            f"  (SELECT assignment_id, MAX(ledger.id) AS id FROM {self._sql.each('j')} "
            "   JOIN ledger ON ledger.assignment_id = j.value "
            "   WHERE kind = 'revoke_requested' GROUP BY assignment_id) latest ON latest.id = l.id",
            (self._sql.ids(assignment_ids),),
        )
        return {row["assignment_id"]: str(row["actor"]) for row in rows}

    async def revoke_key_entered_before(self, jti: str) -> bool:
        return await self._sql.one("SELECT 1 FROM revoke_keys WHERE jti = ?", (jti,)) is not None

    async def record_revoke_key(self, jti: str, system_id: str, seq: int, now: datetime) -> None:
        await self._sql.run(
            "INSERT INTO revoke_keys (jti, system_id, seq, entered_at) VALUES (?, ?, ?, ?) ON CONFLICT(jti) DO NOTHING",
            (jti, system_id, seq, epoch(now)),
        )

    async def invariant_violations(self) -> list[dict[str, object]]:
        """Subscriptions where available + open assignments != total, or the ledger disagrees."""
        rows = await self._sql.all(
            "SELECT s.id, s.quarters_total AS total, s.quarters_available AS available, "
            "COALESCE((SELECT SUM(quarters) FROM assignments a "
            "          WHERE a.subscription_id = s.id AND a.state != 'ended'), 0) "
            "  AS held, "
            "COALESCE((SELECT SUM(CASE kind WHEN 'assigned' THEN quarters WHEN 'returned' THEN -quarters ELSE 0 END) "
            "          FROM ledger l WHERE l.subscription_id = s.id), 0) AS ledger_held "
            "FROM subscriptions s"
        )
        # int(): PostgreSQL sums integers as numeric
        found = [
            (row["id"], int(row["total"]), int(row["available"]), int(row["held"]), int(row["ledger_held"]))
            for row in rows
        ]
        return [
            {"subscription_id": sub_id, "total": total, "available": available, "held": held, "ledger_held": ledger}
            for sub_id, total, available, held, ledger in found
            if available + held != total or held != ledger
        ]
