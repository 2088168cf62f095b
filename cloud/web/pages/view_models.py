"""What the portal's pages show, built from domain records: labels in words, warnings, times."""

from dataclasses import dataclass
from datetime import datetime

from flex_emulator.cloud.domain import rules
from flex_emulator.cloud.domain.models import (
    Assignment,
    AssignmentState,
    LedgerEvent,
    Subscription,
    SubscriptionState,
    System,
)
from flex_emulator.shared.pagekit import short
from flex_emulator.shared.quarters import format_credits
from flex_emulator.shared.timefmt import parse_iso

TYPE_LABELS = {"monthly": "Monthly", "annual": "Annual"}
LENGTHS = {"monthly": "1 month", "annual": "12 months"}
STATE_LABELS: dict[str, str] = {
    SubscriptionState.INACTIVE: "Inactive",
    SubscriptionState.ACTIVE: "Active",
    SubscriptionState.CANCELLED: "Cancelled",
    SubscriptionState.EXPIRED: "Expired",
}
ASSIGNMENT_STATE_LABELS: dict[str, str] = {
    AssignmentState.ACTIVE: "Active",
    AssignmentState.REVOKE_PENDING: "Revoke pending",
    AssignmentState.ENDED: "Ended",
}
END_REASONS = {
    "revoked": "Revoked",
    "auto_revoked": "Auto Revoke",
    "expired": "Validity ended",
    "subscription_ended": "Subscription ended",
}
EVENT_WORDS = {
    "assigned": "Credits assigned",
    "returned": "Credits returned",
    "revoke_requested": "Revoke requested",
    "revoke_key_entered": "Revoke key entered",
    "subscription_created": "Subscription created",
    "subscription_activated": "Subscription activated",
    "subscription_cancelled": "Subscription cancelled",
    "subscription_renewed": "Subscription renewed",
    "subscription_expired": "Subscription expired",
    "system_linked": "System linked",
    "system_unlinked": "System unlinked",
}
RETURN_PROOF = {"link": ", HOME confirmed online", "revoke_key": ", proved by revoke key"}
SNAPSHOT_WORDS = {"file": "Credits file downloaded", "link": "Credits sent online", "check_in": "Online check-in"}


@dataclass(frozen=True)
class SubscriptionView:
    id: str
    order_id: str
    type_label: str
    state: str
    state_label: str
    length: str
    total: str
    available: str
    term_start: datetime | None
    term_end: datetime | None
    quarters_available: int
    selectable: bool
    usable_until: datetime | None  # set for a cancelled subscription still in its last term: the yellow warning
    activates_at: datetime | None  # an inactive subscription activates by itself then

    @property
    def type_state(self) -> str:
        return f"{self.type_label} ({self.state_label})"


def subscription_view(sub: Subscription, now: datetime) -> SubscriptionView:
    selectable = rules.is_selectable(sub, now)
    return SubscriptionView(
        id=sub.id,
        order_id=sub.order_id,
        type_label=TYPE_LABELS.get(sub.duration, sub.duration.title()),
        state=sub.state,
        state_label=STATE_LABELS.get(sub.state, sub.state.title()),
        length=LENGTHS.get(sub.duration, sub.duration),
        total=format_credits(sub.quarters_total),
        available=format_credits(sub.quarters_available),
        term_start=sub.term_start,
        term_end=sub.term_end,
        quarters_available=sub.quarters_available,
        selectable=selectable,
        usable_until=sub.term_end if selectable and sub.state == SubscriptionState.CANCELLED else None,
        activates_at=sub.created_at + rules.AUTO_ACTIVATE_AFTER if sub.state == SubscriptionState.INACTIVE else None,
    )


@dataclass(frozen=True)
class AssignmentView:
    id: str
    credits: str
    assigned_at: datetime
    valid_until: datetime | None
    auto_revoke_at: datetime | None
    downloaded: bool
    state: str
    returns_at: datetime | None
    ended_at: datetime | None
    end_reason: str
    order_id: str
    sub_type: str
    sub_state: str
    sub_ends: datetime | None  # the yellow flag: its subscription is cancelled and ends then

    @property
    def state_label(self) -> str:
        return ASSIGNMENT_STATE_LABELS.get(self.state, self.state)

    @property
    def clock_margin_minutes(self) -> int:
        """How many minutes ``returns_at`` lies past ``valid_until``: the room left for a HOME clock that runs
        behind (0 when the credits come back as the copy expires, at a cancelled subscription's end)."""
        if self.returns_at is None or self.valid_until is None or self.returns_at <= self.valid_until:
            return 0
        return int((self.returns_at - self.valid_until).total_seconds() // 60)


def revoke_usage_warning(system: System, online: bool, held_quarters: int, item: Assignment) -> str:
    """The Revoke dialog's warning when an online HOME's running resources use credits it would no longer hold."""
    if not online or item.state != AssignmentState.ACTIVE:
        return ""
    if not rules.revoke_leaves_home_short(system, held_quarters, item.quarters) or system.home_in_use is None:
        return ""
    in_use, left = format_credits(system.home_in_use), format_credits(held_quarters - item.quarters)
    return (
        f"{system.label}'s running resources use {in_use} credits (as HOME reported at {short(system.home_in_use_at)} "
        f"UTC), and without these {format_credits(item.quarters)} it would hold {left}. Resources using the missing "
        "credits keep running until they are stopped, but show Unlicensed and cannot start again."
    )


def assignment_view(item: Assignment, sub: Subscription) -> AssignmentView:
    return AssignmentView(
        id=item.id,
        credits=format_credits(item.quarters),
        assigned_at=item.assigned_at,
        valid_until=item.valid_until,
        auto_revoke_at=item.auto_revoke_at,
        downloaded=item.downloaded,
        state=item.state,
        returns_at=rules.returns_at(item, sub),
        ended_at=item.ended_at,
        end_reason=END_REASONS.get(item.end_reason or "", item.end_reason or ""),
        order_id=sub.order_id,
        sub_type=TYPE_LABELS.get(sub.duration, sub.duration),
        sub_state=STATE_LABELS.get(sub.state, sub.state),
        sub_ends=sub.term_end if sub.state == SubscriptionState.CANCELLED else None,
    )


@dataclass(frozen=True)
class EventView:
    at: datetime
    what: str
    detail: str
    actor: str
    credits: str
    system: str
    order_id: str


def event_view(event: LedgerEvent, systems: dict[str, str], orders: dict[str, str]) -> EventView:
    """One ledger row in words; ``systems`` maps ids to labels and ``orders`` subscription ids to order ids."""
    what = EVENT_WORDS.get(event.kind, event.kind.replace("_", " ").capitalize())
    detail = ""
    if event.kind == "snapshot_issued":
        what = SNAPSHOT_WORDS.get(str(event.detail.get("via")), "Credits file issued")
        detail = f"credits file number {event.detail.get('seq')}"
    elif event.kind == "returned":
        detail = END_REASONS.get(str(event.detail.get("reason")), str(event.detail.get("reason", "")))
        detail += RETURN_PROOF.get(str(event.detail.get("via")), "")
    elif event.kind == "revoke_requested" and event.detail.get("reason") == "auto_revoked":
        what = "Auto Revoke requested"
        detail = "HOME holds a copy: the credits come back with its proof or when that copy ends"
    elif event.kind == "assigned" and event.detail.get("auto_revoke_at"):
        detail = f"Auto Revoke {_detail_time(event.detail['auto_revoke_at'])}"
    elif event.kind == "subscription_cancelled" and event.detail.get("usable_until"):
        detail = f"usable until {_detail_time(event.detail['usable_until'])}"
    elif event.kind in ("subscription_activated", "subscription_renewed") and event.detail.get("term_end"):
        detail = f"term ends {_detail_time(event.detail['term_end'])}"
    system = ""
    if event.system_id:
        system = systems.get(event.system_id) or str(event.detail.get("label") or event.system_id)
    return EventView(
        at=event.at,
        what=what,
        detail=detail,
        actor=actor_words(event.actor, systems),
        credits=format_credits(event.quarters) if event.quarters else "",
        system=system,
        order_id=orders.get(event.subscription_id or "", ""),
    )


def _detail_time(value: object) -> str:
    try:
        return short(parse_iso(str(value)))
    except ValueError:
        return str(value)


def actor_words(actor: str, systems: dict[str, str]) -> str:
    if actor == "scheduler":
        return "Automatic"
    if actor.startswith("system:"):
        system_id = actor.removeprefix("system:")
        return f"HOME {systems.get(system_id, system_id)}"
    return actor


def system_labels(systems: list[System]) -> dict[str, str]:
    return {item.id: item.label for item in systems}
