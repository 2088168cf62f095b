"""SQL for assignments: credits of a subscription placed on a system, from assigned to ended."""

from datetime import datetime

from cloud.models import Assignment
from cloud.store.records import ASSIGNMENT_COLUMNS, assignment_row, assignment_values
from shared.sqlite import Sql
from shared.timefmt import epoch

ALL_STATES = ("active", "revoke_pending", "ended")


class AssignmentQueries:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def insert(self, item: Assignment) -> None:
        marks = ", ".join("?" * len(ASSIGNMENT_COLUMNS.split(",")))
        await self._sql.run(f"INSERT INTO assignments ({ASSIGNMENT_COLUMNS}) VALUES ({marks})", assignment_values(item))

    async def count_active(self, system_id: str) -> int:
        row = await self._sql.one("SELECT COUNT(*) AS n FROM assignments WHERE system_id = ? AND state = 'active'", (system_id,))
        return 0 if row is None else int(row["n"])

    async def get(self, assignment_id: str) -> Assignment | None:
        row = await self._sql.one(f"SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE id = ?", (assignment_id,))
        return None if row is None else assignment_row(row)

    async def on_system(self, system_id: str, states: tuple[str, ...] = ALL_STATES) -> list[Assignment]:
        marks = ", ".join("?" for _ in states)
        rows = await self._sql.all(
            f"SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE system_id = ? AND state IN ({marks}) "
            "ORDER BY assigned_at, id",
            (system_id, *states),
        )
        return [assignment_row(row) for row in rows]

    async def open_for_subscription(self, sub_id: str) -> list[Assignment]:
        rows = await self._sql.all(
            f"SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE subscription_id = ? AND state != 'ended' ORDER BY id",
            (sub_id,),
        )
        return [assignment_row(row) for row in rows]

    async def mark_delivered(self, assignment_id: str, valid_until: datetime) -> None:
        """Record a copy issued: HOME may hold it as well as any earlier copy it has not yet replaced."""
        await self._sql.run(
            "UPDATE assignments SET downloaded = 1, valid_until = MAX(COALESCE(valid_until, 0), ?), issued_until = ? "
            "WHERE id = ?",
            (epoch(valid_until), epoch(valid_until), assignment_id),
        )

    async def home_holds_latest_copy(self, system_id: str) -> None:
        """HOME applied the latest snapshot and refuses older ones: only the latest copy's validity still counts."""
        await self._sql.run(
            "UPDATE assignments SET valid_until = MIN(valid_until, issued_until) "
            "WHERE system_id = ? AND state = 'active' AND issued_until IS NOT NULL",
            (system_id,),
        )

    async def set_revoke_pending(self, assignment_id: str, after_seq: int, reason: str) -> None:
        await self._sql.run(
            "UPDATE assignments SET state = 'revoke_pending', pending_after_seq = ?, pending_reason = ? "
            "WHERE id = ? AND state = 'active'",
            (after_seq, reason, assignment_id),
        )

    async def end(self, assignment_id: str, reason: str, now: datetime) -> bool:
        """End an open assignment; False when it had already ended (so nothing is returned twice)."""
        changed = await self._sql.run(
            "UPDATE assignments SET state = 'ended', end_reason = ?, ended_at = ? WHERE id = ? AND state != 'ended'",
            (reason, epoch(now), assignment_id),
        )
        return changed == 1
