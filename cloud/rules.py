"""Domain rules as plain functions: validity, selectability, terms, when credits may come back."""

import calendar
from datetime import datetime, timedelta

from cloud.models import Assignment, Subscription
from shared.tokens import COPY_VALIDITY, SKEW_TOLERANCE

AUTO_ACTIVATE_AFTER = timedelta(weeks=3)
CHECK_IN_BEFORE = timedelta(hours=24)
DURATIONS = {"monthly": 1, "annual": 12}
ROLES = ("admin", "operator")


def add_months(moment: datetime, months: int) -> datetime:
    """Calendar months later, keeping the day where the month has it (Jan 31 + 1 -> Feb 28/29)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def term_end(start: datetime, duration: str) -> datetime:
    return add_months(start, DURATIONS[duration])


def is_selectable(subscription: Subscription, now: datetime) -> bool:
    """Credits can come from an active subscription, or a cancelled one still in its last term."""
    if subscription.state == "active":
        return True
    return subscription.state == "cancelled" and subscription.term_end is not None and subscription.term_end > now


def validity_cap(subscription: Subscription, auto_revoke_at: datetime | None) -> datetime | None:
    """The latest any copy of an assignment may ever be valid: its Auto Revoke or a cancelled term's end."""
    caps = [moment for moment in (auto_revoke_at,) if moment is not None]
    if subscription.state in ("cancelled", "expired") and subscription.term_end is not None:
        caps.append(subscription.term_end)
    return min(caps) if caps else None


def copy_valid_until(delivered_at: datetime, cap: datetime | None) -> datetime:
    """A delivered copy is valid 30 days from delivery, capped."""
    until = delivered_at + COPY_VALIDITY
    return min(until, cap) if cap is not None else until


def check_in_at(entries: list[tuple[datetime, datetime | None]]) -> datetime | None:
    """When an online HOME should get a renewed copy: 24 hours before the first validity a renewal extends.

    ``entries`` are ``(valid_until, cap)`` pairs; a copy that already reaches its cap needs no renewal.
    """
    renewable = [until for until, cap in entries if cap is None or cap > until]
    return min(renewable) - CHECK_IN_BEFORE if renewable else None


def returns_at(assignment: Assignment) -> datetime | None:
    """When the credits come back with no further proof: the last issued validity plus the skew tolerance."""
    if assignment.state == "ended" or not assignment.downloaded or assignment.valid_until is None:
        return None
    return assignment.valid_until + SKEW_TOLERANCE


def may_return_now(assignment: Assignment, now: datetime) -> bool:
    """Rule 1 and 3 of the invariant: never delivered, or every copy HOME could hold has ended."""
    if not assignment.downloaded:
        return True
    until = returns_at(assignment)
    return until is not None and until <= now


def receipt_proves_dropped(assignment: Assignment, receipt_seq: int, held: tuple[str, ...]) -> bool:
    """Rule 2: HOME applied a snapshot at or after the first one that left the assignment out."""
    return (
        assignment.state == "revoke_pending"
        and assignment.pending_after_seq is not None
        and receipt_seq > assignment.pending_after_seq
        and assignment.id not in held
    )
