"""SQL for the event journal (``GET /_emulator/events``): a trigger copies every ledger row into it, and
``shared.journal`` writes the link facts; one sequence orders both.

The cursor is the order in which events became visible. In SQLite (one writer) that is the row id. In PostgreSQL
transactions commit in another order than they took their ids, so a reader paging by id could step past a row
that commits later with a smaller one: there ``seq`` is given to committed rows only, in id order, by one
sequencer at a time (``sequence``, run before every read of the journal)."""

import json
from typing import Any

from flex_emulator.shared.journal import event_json
from flex_emulator.shared.sql import Dialect, Sql
from flex_emulator.shared.timefmt import from_epoch


class JournalQueries:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    @property
    def sql(self) -> Sql:
        """The statement runner (for the journal's pruning, written once in shared.journal)."""
        return self._sql

    async def after(
        self, cursor: int, limit: int, system_id: str | None = None, kinds: list[str] | None = None
    ) -> list[dict[str, Any]]:
        """Events after ``cursor``, oldest first; a ledger row's fields come from the ledger. With ``system_id``,
        that system's events and the facts about the whole cloud (a clock move), not other systems' or accounts'.
        With ``kinds``, only events of those kinds."""
        order = "id" if self._sql.dialect == Dialect.SQLITE else "seq"
        where: list[str] = [f"j.{order} > ?"]
        params: list[object] = [cursor]
        if system_id is not None:
            where.append("(j.system_id = ? OR (j.system_id IS NULL AND j.ledger_id IS NULL))")
            params.append(system_id)
        if kinds is not None:
            where.append(f"j.kind IN (SELECT value FROM {self._sql.each('k')})")
            params.append(self._sql.ids(kinds))
        rows = await self._sql.all(
            f"SELECT j.{order} AS cursor, j.at, j.kind, j.system_id, j.detail, j.noted_us, l.actor, l.account_id, "
            "l.subscription_id, l.assignment_id, l.quarters, l.detail AS ledger_detail FROM journal j "
            f"LEFT JOIN ledger l ON l.id = j.ledger_id WHERE {' AND '.join(where)} ORDER BY j.{order} LIMIT ?",
            (*params, limit),
        )
        events = []
        for row in rows:
            fields: dict[str, Any] = {"system_id": row["system_id"]}
            if row["actor"] is not None:
                fields |= {
                    "account_id": row["account_id"],
                    "actor": row["actor"],
                    "subscription_id": row["subscription_id"],
                    "assignment_id": row["assignment_id"],
                    "credits": row["quarters"] / 4 if row["quarters"] else None,
                }
                fields |= json.loads(row["ledger_detail"])
            events.append(
                event_json(
                    row["cursor"],
                    from_epoch(row["at"]),
                    row["kind"],
                    fields | json.loads(row["detail"]),
                    row["noted_us"],
                )
            )
        return events

    async def sequence(self) -> None:
        """PostgreSQL: number the committed rows that have no ``seq`` yet, in id order (one sequencer at a time)."""
        if self._sql.dialect == Dialect.POSTGRES:
            await self._sql.run("SELECT pg_advisory_xact_lock(hashtext('flex.journal_sequencer'))")
            await self._sql.run(
                "UPDATE journal SET seq = numbered.seq FROM "
                "(SELECT id, nextval('journal_seq') AS seq FROM (SELECT id FROM journal WHERE seq IS NULL ORDER BY id) "
                "AS waiting) AS numbered WHERE journal.id = numbered.id"
            )
