"""Domain rules as plain functions: validity, selectability, terms, when credits may come back."""

import calendar
from datetime import datetime, timedelta

from flex_emulator.cloud.domain.models import Assignment, AssignmentState, Subscription, SubscriptionState, System
from flex_emulator.shared.tokens import COPY_VALIDITY, SKEW_TOLERANCE

AUTO_ACTIVATE_AFTER = timedelta(weeks=3)
CHECK_IN_BEFORE = timedelta(hours=24)
DURATIONS = {"monthly": 1, "annual": 12}
ROLES = ("admin", "operator")
CONFIRM_WORD = "confirm"


def add_months(moment: datetime, months: int) -> datetime:
    """Calendar months later, keeping the day where the month has it (Jan 31 + 1 -> Feb 28/29)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def term_end(start: datetime, duration: str) -> datetime:
    return add_months(start, DURATIONS[duration])


def next_term_end(activated_at: datetime, duration: str, current_end: datetime) -> datetime:
    """The first term end after ``current_end``, counted from activation (Jan 31: Feb 28, Mar 31, Apr 30)."""
    months = DURATIONS[duration]
    elapsed = (current_end.year - activated_at.year) * 12 + current_end.month - activated_at.month
    terms = max(1, elapsed // months)
    while add_months(activated_at, terms * months) <= current_end:
        terms += 1
    return add_months(activated_at, terms * months)


def is_selectable(subscription: Subscription, now: datetime) -> bool:
    """Credits can come from an active subscription, or a cancelled one still in its last term."""
    if subscription.state == SubscriptionState.ACTIVE:
        return True
    return (
        subscription.state == SubscriptionState.CANCELLED
        and subscription.term_end is not None
        and subscription.term_end > now
    )


def validity_cap(subscription: Subscription, auto_revoke_at: datetime | None) -> datetime | None:
    """The latest any copy of an assignment may ever be valid: its Auto Revoke or a cancelled term's end."""
    caps = [moment for moment in (auto_revoke_at,) if moment is not None]
    if (
        subscription.state in (SubscriptionState.CANCELLED, SubscriptionState.EXPIRED)
        and subscription.term_end is not None
    ):
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


def ends_with_term(assignment: Assignment, subscription: Subscription) -> bool:
    """Whether every copy HOME may hold ends by the end of a cancelled subscription, which then returns it."""
    return (
        subscription.state in (SubscriptionState.CANCELLED, SubscriptionState.EXPIRED)
        and subscription.term_end is not None
        and (
            not assignment.downloaded
            or (assignment.valid_until is not None and assignment.valid_until <= subscription.term_end)
        )
    )


def returns_at(assignment: Assignment, subscription: Subscription) -> datetime | None:
    """When the credits come back with no further proof: the latest validity HOME may hold plus the skew
    tolerance, or a cancelled subscription's end when every such copy ends by then."""
    if assignment.state == AssignmentState.ENDED or not assignment.downloaded or assignment.valid_until is None:
        return None
    until = assignment.valid_until + SKEW_TOLERANCE
    if ends_with_term(assignment, subscription):
        assert subscription.term_end is not None
        return min(until, subscription.term_end)
    return until


def may_return_now(assignment: Assignment, subscription: Subscription, now: datetime) -> bool:
    """Rule 1 and 3 of the invariant: never delivered, or every copy HOME could hold has ended."""
    if not assignment.downloaded:
        return True
    until = returns_at(assignment, subscription)
    return until is not None and until <= now


def last_seen(system: System, online: bool, now: datetime) -> datetime | None:
    """A connected system is seen now; the stored time is when its link last closed."""
    return now if online else system.last_seen


def receipt_proves_dropped(assignment: Assignment, receipt_seq: int, held: tuple[str, ...]) -> bool:
    """Rule 2: HOME applied a snapshot at or after the first one that left the assignment out."""
    return (
        assignment.state == AssignmentState.REVOKE_PENDING
        and assignment.pending_after_seq is not None
        and receipt_seq > assignment.pending_after_seq
        and assignment.id not in held
    )


REVOKE_STEPS = [
    "Download the latest credits file for this system.",
    "Upload it into HOME on its FileLicenses page.",
    "Copy the revoke key HOME then shows on Licenses → Credits.",
    "Enter the revoke key here.",
]


def revoke_confirmed(typed: object) -> bool:
    """Revoke needs the word typed exactly: not ``Confirm``, not ``confirm `` (the seed's rule, API and page alike)."""
    return typed == CONFIRM_WORD


def revoke_leaves_home_short(system: System, held_quarters: int, revoked_quarters: int) -> bool:
    """Would HOME's running resources (as its latest receipt said) use more credits than HOME holds once
    ``revoked_quarters`` of the ``held_quarters`` are gone? They would keep running, but show Unlicensed and
    could not start again."""
    return system.home_in_use is not None and system.home_in_use > held_quarters - revoked_quarters
