"""SQL for assignments: credits of a subscription placed on a system, from assigned to ended."""

from datetime import datetime

from flex_emulator.cloud.domain.models import Assignment, AssignmentState
from flex_emulator.cloud.store.records import ASSIGNMENT_COLUMNS, assignment_row, assignment_values, prefixed
from flex_emulator.shared.sql import Dialect, Sql
from flex_emulator.shared.timefmt import epoch

ALL_STATES: tuple[str, ...] = tuple(AssignmentState)


class AssignmentQueries:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def insert(self, item: Assignment) -> None:
        await self.insert_many([item])

    async def insert_many(self, items: list[Assignment]) -> None:
        marks = ", ".join("?" * len(ASSIGNMENT_COLUMNS.split(",")))
        await self._sql.many(
            f"INSERT INTO assignments ({ASSIGNMENT_COLUMNS}) VALUES ({marks})",
            [assignment_values(item) for item in items],
        )

    async def get(self, assignment_id: str) -> Assignment | None:
        row = await self._sql.one(f"SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE id = ?", (assignment_id,))
        return None if row is None else assignment_row(row)

    async def get_many(self, ids: list[str]) -> dict[str, Assignment]:
        rows = await self._sql.all(
            f"SELECT {prefixed(ASSIGNMENT_COLUMNS, 't')} FROM {self._sql.each('j')} "
            "JOIN assignments t ON t.id = j.value",
            (self._sql.ids(ids),),
        )
        return {row["id"]: assignment_row(row) for row in rows}

    async def on_system(self, system_id: str, states: tuple[str, ...] = ALL_STATES) -> list[Assignment]:
        marks = ", ".join("?" for _ in states)
        rows = await self._sql.all(
            f"SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE system_id = ? AND state IN ({marks}) "
            "ORDER BY assigned_at, id",
            (system_id, *states),
        )
        return [assignment_row(row) for row in rows]

    async def open_for_subscription(self, sub_id: str) -> list[Assignment]:
        return await self.open_for_subscriptions([sub_id])

    async def open_for_subscriptions(self, sub_ids: list[str]) -> list[Assignment]:
        rows = await self._sql.all(
            f"SELECT {ASSIGNMENT_COLUMNS} FROM assignments "
            f"WHERE subscription_id IN (SELECT value FROM {self._sql.each('j')}) AND state != 'ended' ORDER BY id",
            (self._sql.ids(sub_ids),),
        )
        return [assignment_row(row) for row in rows]

    async def mark_delivered(self, copies: list[tuple[str, datetime]]) -> None:
        """Record copies issued, (assignment id, valid until) for each: HOME may hold each as well as any
        earlier copy it has not yet replaced."""
        await self._sql.many(
            # a row that already records this copy is left alone: no page to rewrite for an unchanged assignment
            f"UPDATE assignments SET downloaded = 1, valid_until = {self._sql.greatest}(COALESCE(valid_until, 0), ?1), "
            f"issued_until = ?1 WHERE id = ?2 AND NOT (downloaded = 1 AND issued_until {self._sql.same} ?1 "
            "AND valid_until >= ?1)",
            [(epoch(until), assignment_id) for assignment_id, until in copies],
        )

    async def home_holds_latest_copy(self, system_id: str) -> None:
        """HOME applied the latest snapshot and refuses older ones: only the latest copy's validity still counts."""
        await self._sql.run(
            f"UPDATE assignments SET valid_until = {self._sql.least}(valid_until, issued_until) "
            "WHERE system_id = ? AND state = 'active' AND issued_until IS NOT NULL AND valid_until > issued_until",
            (system_id,),
        )

    async def set_revoke_pending(self, pending: list[tuple[str, int, str]]) -> None:
        """(assignment id, the seq after which a snapshot leaves it out, reason) for each active one."""
        await self._sql.many(
            "UPDATE assignments SET state = 'revoke_pending', pending_after_seq = ?, pending_reason = ? "
            "WHERE id = ? AND state = 'active'",
            [(after_seq, reason, assignment_id) for assignment_id, after_seq, reason in pending],
        )

    async def end(self, endings: list[tuple[str, str, datetime]]) -> int:
        """End open assignments, (id, reason, at) for each; returns how many were open (an ended one is never
        ended again, so nothing is returned twice)."""
        if self._sql.dialect == Dialect.POSTGRES:  # the count of an executemany is not reported there: set-based
            return await self._sql.run(
                "UPDATE assignments AS a SET state = 'ended', end_reason = v.reason, ended_at = v.at "
                "FROM unnest(?::text[], ?::text[], ?::bigint[]) AS v(id, reason, at) "
                "WHERE a.id = v.id AND a.state != 'ended'",
                (
                    [assignment_id for assignment_id, _, _ in endings],
                    [reason for _, reason, _ in endings],
                    [epoch(at) for _, _, at in endings],
                ),
            )
        return await self._sql.many(
            "UPDATE assignments SET state = 'ended', end_reason = ?, ended_at = ? WHERE id = ? AND state != 'ended'",
            [(reason, epoch(at), assignment_id) for assignment_id, reason, at in endings],
        )
