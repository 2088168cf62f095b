"""How the cloud's table rows become domain records, and back: column lists and converters."""

from datetime import datetime
from typing import Any

import aiosqlite

from cloud.models import Assignment, Subscription, System
from shared.timefmt import epoch, from_epoch

Row = aiosqlite.Row | tuple[Any, ...]


def ts(moment: datetime | None) -> int | None:
    return None if moment is None else epoch(moment)


def dt(value: int | None) -> datetime | None:
    return None if value is None else from_epoch(value)


def subscription_row(row: Row) -> Subscription:
    return Subscription(
        id=row[0], account_id=row[1], order_id=row[2], duration=row[3], quarters_total=row[4],
        quarters_available=row[5], state=row[6], created_at=from_epoch(row[7]), term_start=dt(row[8]),
        term_end=dt(row[9]), cancelled_at=dt(row[10]), activated_at=dt(row[11]),
    )  # fmt: skip


def system_row(row: Row) -> System:
    return System(
        id=row[0], account_id=row[1], label=row[2], public_key=bytes(row[3]), linked_at=from_epoch(row[4]),
        last_seen=dt(row[5]), seq=row[6], acked_seq=row[7], dirty=bool(row[8]),
    )  # fmt: skip


def assignment_row(row: Row) -> Assignment:
    return Assignment(
        id=row[0], account_id=row[1], system_id=row[2], subscription_id=row[3], quarters=row[4],
        assigned_at=from_epoch(row[5]), auto_revoke_at=dt(row[6]), downloaded=bool(row[7]),
        valid_until=dt(row[8]), state=row[9], end_reason=row[10], ended_at=dt(row[11]),
        pending_after_seq=row[12], pending_reason=row[13],
    )  # fmt: skip


SUBSCRIPTION_COLUMNS = (
    "id, account_id, order_id, duration, quarters_total, quarters_available, state, created_at, "
    "term_start, term_end, cancelled_at, activated_at"
)
SYSTEM_COLUMNS = "id, account_id, label, public_key, linked_at, last_seen, seq, acked_seq, dirty"
ASSIGNMENT_COLUMNS = (
    "id, account_id, system_id, subscription_id, quarters, assigned_at, auto_revoke_at, downloaded, "
    "valid_until, state, end_reason, ended_at, pending_after_seq, pending_reason"
)
