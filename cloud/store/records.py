"""How the cloud's table rows become domain records and back: column lists, and converters by column name."""

import json
from datetime import datetime

from flex_emulator.cloud.domain.models import Assignment, IssuedSnapshot, Job, LedgerEvent, Subscription, System
from flex_emulator.shared.sql import Row
from flex_emulator.shared.timefmt import epoch, from_epoch


def ts(moment: datetime | None) -> int | None:
    return None if moment is None else epoch(moment)


def dt(value: int | None) -> datetime | None:
    return None if value is None else from_epoch(value)


SUBSCRIPTION_COLUMNS = (
    "id, account_id, order_id, duration, quarters_total, quarters_available, state, created_at, "
    "term_start, term_end, cancelled_at, activated_at"
)
SYSTEM_COLUMNS = (
    "id, account_id, label, public_key, linked_at, last_seen, seq, acked_seq, dirty, online_via, home_in_use, "
    "home_in_use_at"
)
ASSIGNMENT_COLUMNS = (
    "id, account_id, system_id, subscription_id, quarters, assigned_at, auto_revoke_at, downloaded, "
    "valid_until, state, end_reason, ended_at, pending_after_seq, pending_reason"
)
SNAPSHOT_COLUMNS = "system_id, seq, issued_at, expires_at, check_in_at, token"
LEDGER_COLUMNS = "id, at, kind, actor, account_id, subscription_id, system_id, assignment_id, quarters, detail"


def prefixed(columns: str, table: str) -> str:
    """``a, b`` -> ``t.a, t.b``, for a column list in a join."""
    return ", ".join(f"{table}.{name.strip()}" for name in columns.split(","))


def subscription_row(row: Row, prefix: str = "") -> Subscription:
    """``prefix``: the columns' prefix in a join that names them so (``s_id``, ...)."""
    return Subscription(
        id=row[f"{prefix}id"],
        account_id=row[f"{prefix}account_id"],
        order_id=row[f"{prefix}order_id"],
        duration=row[f"{prefix}duration"],
        quarters_total=row[f"{prefix}quarters_total"],
        quarters_available=row[f"{prefix}quarters_available"],
        state=row[f"{prefix}state"],
        created_at=from_epoch(row[f"{prefix}created_at"]),
        term_start=dt(row[f"{prefix}term_start"]),
        term_end=dt(row[f"{prefix}term_end"]),
        cancelled_at=dt(row[f"{prefix}cancelled_at"]),
        activated_at=dt(row[f"{prefix}activated_at"]),
    )


def subscription_values(sub: Subscription) -> tuple[object, ...]:
    return (
        sub.id,
        sub.account_id,
        sub.order_id,
        sub.duration,
        sub.quarters_total,
        sub.quarters_available,
        sub.state,
        epoch(sub.created_at),
        ts(sub.term_start),
        ts(sub.term_end),
        ts(sub.cancelled_at),
        ts(sub.activated_at),
    )


def system_row(row: Row) -> System:
    return System(
        id=row["id"],
        account_id=row["account_id"],
        label=row["label"],
        public_key=bytes(row["public_key"]),
        linked_at=from_epoch(row["linked_at"]),
        last_seen=dt(row["last_seen"]),
        seq=row["seq"],
        acked_seq=row["acked_seq"],
        dirty=bool(row["dirty"]),
        online_via=row["online_via"],
        home_in_use=row["home_in_use"],
        home_in_use_at=dt(row["home_in_use_at"]),
    )


def assignment_row(row: Row) -> Assignment:
    return Assignment(
        id=row["id"],
        account_id=row["account_id"],
        system_id=row["system_id"],
        subscription_id=row["subscription_id"],
        quarters=row["quarters"],
        assigned_at=from_epoch(row["assigned_at"]),
        auto_revoke_at=dt(row["auto_revoke_at"]),
        downloaded=bool(row["downloaded"]),
        valid_until=dt(row["valid_until"]),
        state=row["state"],
        end_reason=row["end_reason"],
        ended_at=dt(row["ended_at"]),
        pending_after_seq=row["pending_after_seq"],
        pending_reason=row["pending_reason"],
    )


def assignment_values(item: Assignment) -> tuple[object, ...]:
    return (
        item.id,
        item.account_id,
        item.system_id,
        item.subscription_id,
        item.quarters,
        epoch(item.assigned_at),
        ts(item.auto_revoke_at),
        int(item.downloaded),
        ts(item.valid_until),
        item.state,
        item.end_reason,
        ts(item.ended_at),
        item.pending_after_seq,
        item.pending_reason,
    )


def snapshot_row(row: Row) -> IssuedSnapshot:
    return IssuedSnapshot(
        system_id=row["system_id"],
        seq=row["seq"],
        issued_at=from_epoch(row["issued_at"]),
        expires_at=from_epoch(row["expires_at"]),
        check_in_at=dt(row["check_in_at"]),
        token=row["token"],
    )


def ledger_row(row: Row) -> LedgerEvent:
    return LedgerEvent(
        id=row["id"],
        at=from_epoch(row["at"]),
        kind=row["kind"],
        actor=row["actor"],
        account_id=row["account_id"],
        subscription_id=row["subscription_id"],
        system_id=row["system_id"],
        assignment_id=row["assignment_id"],
        quarters=row["quarters"],
        detail=json.loads(row["detail"]),
    )


def job_row(row: Row) -> Job:
    return Job(kind=row["kind"], ref=row["ref"], due_at=from_epoch(row["due_at"]))
