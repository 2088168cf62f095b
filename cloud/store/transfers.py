"""SQL for what moving credits reads and writes at once: what a system holds (its active assignments and their
subscriptions), a snapshot issued (the copies it delivered, the end items it
brings forward, the snapshot itself, the system's seq, its check-in, its ledger entry), and an assign (the new
assignment, its ledger entry, its Auto Revoke, the snapshot or the mark to issue one, and the credits taken).

SQLite runs these as the statements they always were, one after another on the loop's thread. On PostgreSQL each
statement is a round trip to the server, so the same writes go as one statement: data-modifying parts of one
``WITH``. The parts of one statement all see the database as it was when it began and none sees another's effect,
so each part touches rows no other part touches, and a row this transaction inserts is inserted as it should end
up (a new assignment delivered by the snapshot of the same assign is inserted delivered)."""

import json
from dataclasses import dataclass, field
from datetime import datetime

from flex_emulator.cloud.domain.models import Assignment, AssignmentState, IssuedSnapshot, JobKind, Subscription
from flex_emulator.cloud.store.assignments import AssignmentQueries
from flex_emulator.cloud.store.jobs import JobQueries
from flex_emulator.cloud.store.ledger import LedgerEntry, LedgerQueries
from flex_emulator.cloud.store.records import (
    ASSIGNMENT_COLUMNS,
    SNAPSHOT_COLUMNS,
    SUBSCRIPTION_COLUMNS,
    assignment_row,
    assignment_values,
    prefixed,
    subscription_row,
    ts,
)
from flex_emulator.cloud.store.snapshots import SnapshotQueries
from flex_emulator.cloud.store.subscriptions import TAKE_QUARTERS, SubscriptionQueries
from flex_emulator.cloud.store.systems import SystemQueries
from flex_emulator.shared.journal import wall_us
from flex_emulator.shared.sql import Dialect, Params, Sql
from flex_emulator.shared.timefmt import epoch


@dataclass(frozen=True)
class SnapshotRecord:
    """What issuing a snapshot writes: the snapshot; the copies it delivered, (assignment id, valid until) for
    each; the end item of each, (assignment id, due at), scheduled then unless due earlier already; its ledger
    entry. The system checks in at ``issued.check_in_at`` (none when that is None)."""

    issued: IssuedSnapshot
    delivered: list[tuple[str, datetime]]
    ends: list[tuple[str, datetime]]
    entry: LedgerEntry


Part = tuple[str, Params]

_NAMES = [name.strip() for name in ASSIGNMENT_COLUMNS.split(",")]
_DOWNLOADED, _VALID_UNTIL = _NAMES.index("downloaded"), _NAMES.index("valid_until")
_INSERT_NEW = (
    f"INSERT INTO assignments ({ASSIGNMENT_COLUMNS}, issued_until) VALUES ({', '.join('?' for _ in _NAMES)}, ?)"
)


def _with(parts: list[tuple[str, Part]], final: str) -> Part:
    """One statement of named data-modifying parts (``?`` marks, numbered in order) and a final ``SELECT``."""
    text = ", ".join(f"{name} AS ({sql})" for name, (sql, _) in parts)
    return f"WITH {text} {final}", [value for _, (_, params) in parts for value in params]


def _ledger_part(entries: list[LedgerEntry]) -> Part:
    """The entries in their order (the ids, and so the journal, follow it)."""
    return (
        "INSERT INTO ledger (at, kind, actor, account_id, subscription_id, system_id, assignment_id, quarters, detail, "
        "noted_us) SELECT e.at, e.kind, e.actor, e.account_id, e.subscription_id, e.system_id, e.assignment_id, "
        "e.quarters, e.detail, ?::bigint FROM unnest(?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[], "
        "?::text[], ?::text[], ?::bigint[], ?::text[]) WITH ORDINALITY AS e(at, kind, actor, account_id, "
        "subscription_id, system_id, assignment_id, quarters, detail, n) ORDER BY e.n",
        [
            wall_us(),
            [epoch(e.at) for e in entries],
            [e.kind for e in entries],
            [e.actor for e in entries],
            [e.account_id for e in entries],
            [e.subscription_id for e in entries],
            [e.system_id for e in entries],
            [e.assignment_id for e in entries],
            [e.quarters for e in entries],
            [e.detail if isinstance(e.detail, str) else json.dumps(e.detail or {}) for e in entries],
        ],
    )


def _schedule_part(items: list[tuple[str, str, datetime]]) -> Part:
    """(kind, ref, due at) for each, as ``jobs.schedule``: each at its time, whatever it was."""
    return (
        "INSERT INTO jobs (kind, ref, due_at) SELECT * FROM unnest(?::text[], ?::text[], ?::bigint[]) "
        "ON CONFLICT (kind, ref) DO UPDATE SET due_at = excluded.due_at",
        [[kind for kind, _, _ in items], [ref for _, ref, _ in items], [epoch(due) for _, _, due in items]],
    )


def _snapshot_parts(record: SnapshotRecord, new: set[str]) -> list[tuple[str, Part]]:
    """The writes of ``record`` but its ledger entry and check-in (the caller's ``_ledger_part`` and
    ``_schedule_part`` hold those), leaving out the copies of the assignments in ``new`` (inserted delivered)."""
    issued = record.issued
    delivered = [(item_id, until) for item_id, until in record.delivered if item_id not in new]
    return [
        (
            "delivered",
            (
                # as AssignmentQueries.mark_delivered
                "UPDATE assignments AS a SET downloaded = 1, valid_until = GREATEST(COALESCE(a.valid_until, 0), "
                "d.until), issued_until = d.until FROM unnest(?::text[], ?::bigint[]) AS d(id, until) "
                "WHERE a.id = d.id AND NOT (a.downloaded = 1 AND a.issued_until IS NOT DISTINCT FROM d.until "
                "AND a.valid_until >= d.until)",
                [[item_id for item_id, _ in delivered], [epoch(until) for _, until in delivered]],
            ),
        ),
        (
            "ends",
            (
                # as JobQueries.bring_forward_many
                "INSERT INTO jobs (kind, ref, due_at) SELECT ?::text, e.ref, e.due FROM unnest(?::text[], ?::bigint[]) "
                "AS e(ref, due) ON CONFLICT (kind, ref) DO UPDATE SET due_at = excluded.due_at "
                "WHERE excluded.due_at < jobs.due_at",
                [JobKind.VALIDITY_END, [ref for ref, _ in record.ends], [epoch(due) for _, due in record.ends]],
            ),
        ),
        ("older", ("DELETE FROM snapshots WHERE system_id = ? AND seq < ?", [issued.system_id, issued.seq])),
        (
            "snapshot",
            (
                f"INSERT INTO snapshots ({SNAPSHOT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    issued.system_id,
                    issued.seq,
                    epoch(issued.issued_at),
                    epoch(issued.expires_at),
                    ts(issued.check_in_at),
                    issued.token,
                ],
            ),
        ),
        ("seq", ("UPDATE systems SET seq = ?, dirty = 0 WHERE id = ?", [issued.seq, issued.system_id])),
        (
            "no_check_in",
            (
                "DELETE FROM jobs WHERE kind = ? AND ref = ? AND ?::boolean",
                [JobKind.CHECK_IN, issued.system_id, issued.check_in_at is None],
            ),
        ),
    ]


def _check_in(record: SnapshotRecord) -> list[tuple[str, str, datetime]]:
    at = record.issued.check_in_at
    return [] if at is None else [(JobKind.CHECK_IN, record.issued.system_id, at)]


_SUBSCRIPTION_NAMES = [name.strip() for name in SUBSCRIPTION_COLUMNS.split(",")]
_SUB_AS = ", ".join(f"t.{name} AS s_{name}" for name in _SUBSCRIPTION_NAMES)
# A system's active assignments, then their subscriptions and one more (the one an assign takes from, which may hold
# none of them), in one statement: assignment rows have NULL s_ columns, subscription rows NULL assignment columns.
_HELD = (
    f"SELECT {prefixed(ASSIGNMENT_COLUMNS, 'a')}, {', '.join(f'NULL AS s_{name}' for name in _SUBSCRIPTION_NAMES)} "
    "FROM assignments a WHERE a.system_id = ?1 AND a.state = 'active' "
    f"UNION ALL SELECT {', '.join('NULL' for _ in ASSIGNMENT_COLUMNS.split(','))}, {_SUB_AS} FROM subscriptions t "
    "WHERE t.id = ?2 OR t.id IN (SELECT subscription_id FROM assignments WHERE system_id = ?1 AND state = 'active') "
    "ORDER BY assigned_at, id"
)
_COUNTED = (
    "SELECT (SELECT COUNT(*) FROM assignments WHERE system_id = ?1 AND state = 'active') AS active, "
    f"{_SUB_AS} FROM (SELECT 1) AS one LEFT JOIN subscriptions t ON t.id = ?2"
)


@dataclass(frozen=True)
class Held:
    """What a system holds: how many active assignments, those assignments in order (when listed), and the
    subscriptions they come from (with the one asked for, if it exists)."""

    count: int
    items: list[Assignment] = field(default_factory=list)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)


class TransferQueries:
    def __init__(
        self,
        sql: Sql,
        *,
        assignments: AssignmentQueries,
        jobs: JobQueries,
        ledger: LedgerQueries,
        snapshots: SnapshotQueries,
        subscriptions: SubscriptionQueries,
        systems: SystemQueries,
    ) -> None:
        # On SQLite these writes are the other query classes' own statements, one after another.
        self._sql = sql
        self._assignments, self._jobs, self._ledger = assignments, jobs, ledger
        self._snapshots, self._subscriptions, self._systems = snapshots, subscriptions, systems

    async def held_on(self, system_id: str, subscription_id: str | None = None, *, listed: bool = True) -> Held:
        """The system's active assignments (``listed``: each, with its subscription; else only their count) and the
        subscription ``subscription_id`` (one statement on PostgreSQL). Read after the system's row is locked
        (``lock``), in a statement of its own: on PostgreSQL a statement sees what committed before it began."""
        if not listed:
            row = await self._sql.one(_COUNTED, (system_id, subscription_id))
            assert row is not None
            asked = {} if row["s_id"] is None else {row["s_id"]: subscription_row(row, "s_")}
            return Held(int(row["active"]), [], asked)
        if self._sql.dialect == Dialect.SQLITE:
            # No round trip to save on the loop's own thread, and two plain statements decode less than the union.
            items = await self._assignments.on_system(system_id, (AssignmentState.ACTIVE,))
            wanted = {item.subscription_id for item in items} | ({subscription_id} if subscription_id else set())
            return Held(len(items), items, await self._subscriptions.get_many(list(wanted)))
        items, subs = [], {}
        for row in await self._sql.all(_HELD, (system_id, subscription_id)):
            if row["id"] is None:
                subs[row["s_id"]] = subscription_row(row, "s_")
            else:
                items.append(assignment_row(row))
        return Held(len(items), items, subs)

    async def record_snapshot(self, record: SnapshotRecord) -> None:
        """Write an issued snapshot and what it changes."""
        if self._sql.dialect == Dialect.POSTGRES:
            parts = _snapshot_parts(record, set())
            parts += [("check_in", _schedule_part(_check_in(record))), ("entry", _ledger_part([record.entry]))]
            await self._sql.run(*_with(parts, "SELECT 1"))
            return
        issued = record.issued
        await self._assignments.mark_delivered(record.delivered)
        # Under a wall clock every snapshot moves every end later: the end item stays where it was and, when it runs,
        # finds the copy renewed and reschedules itself (expiry.validity_end), instead of one write per assignment
        # with every snapshot.
        await self._jobs.bring_forward_many([(JobKind.VALIDITY_END, item_id, due) for item_id, due in record.ends])
        await self._snapshots.insert(issued)
        await self._systems.set_seq(issued.system_id, issued.seq)
        if issued.check_in_at is not None:
            await self._jobs.schedule(JobKind.CHECK_IN, issued.system_id, issued.check_in_at)
        else:
            await self._jobs.unschedule(JobKind.CHECK_IN, issued.system_id)
        await self._ledger.append_many([record.entry])

    async def record_assign(
        self,
        item: Assignment,
        entry: LedgerEntry,
        auto_revoke_at: datetime | None,
        snapshot: SnapshotRecord | None,
    ) -> bool:
        """Write a new assignment, its ledger entry and Auto Revoke, then the snapshot that delivers it (or, with
        none, mark its system to be issued one at its next contact), and take its credits from its subscription
        last. False, with nothing taken, when the subscription does not have them (never over-assigns): the
        caller rolls back."""
        revoke: list[tuple[str, str, datetime]] = (
            [] if auto_revoke_at is None else [(JobKind.AUTO_REVOKE, item.id, auto_revoke_at)]
        )
        if self._sql.dialect == Dialect.POSTGRES:
            copies = dict(snapshot.delivered) if snapshot is not None else {}
            until = ts(copies.get(item.id))
            values = list(assignment_values(item))
            if until is not None:  # inserted as AssignmentQueries.mark_delivered would leave it
                values[_DOWNLOADED], values[_VALID_UNTIL] = 1, until
            parts: list[tuple[str, Part]] = [("new", (_INSERT_NEW, [*values, until]))]
            if snapshot is not None:
                parts += _snapshot_parts(snapshot, {item.id})
            else:
                parts.append(("dirty", ("UPDATE systems SET dirty = 1 WHERE id = ?", [item.system_id])))
            check_in = _check_in(snapshot) if snapshot is not None else []
            parts += [
                ("scheduled", _schedule_part(revoke + check_in)),
                ("entries", _ledger_part([entry] + ([snapshot.entry] if snapshot is not None else []))),
                # Taken last (the subscription's row is locked from here to the commit): READ COMMITTED makes it
                # wait for a concurrent take of the same row and look at the row again.
                ("took", (f"{TAKE_QUARTERS} RETURNING 1", [item.quarters, item.subscription_id, item.quarters])),
            ]
            row = await self._sql.one(*_with(parts, "SELECT COUNT(*) AS took FROM took"))
            return row is not None and int(row["took"]) == 1
        await self._assignments.insert(item)
        if auto_revoke_at is not None:
            await self._jobs.schedule(JobKind.AUTO_REVOKE, item.id, auto_revoke_at)
        await self._ledger.append_many([entry])
        if snapshot is not None:
            await self.record_snapshot(snapshot)
        else:
            await self._systems.mark_dirty([item.system_id])
        # Taken last, as on PostgreSQL.
        return await self._subscriptions.take_quarters(item.subscription_id, item.quarters)
