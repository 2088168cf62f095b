"""The JSON shapes of the contract, built from domain records."""

from datetime import datetime
from typing import Any

from flex_emulator.cloud.domain import rules
from flex_emulator.cloud.domain.models import (
    Assignment,
    Invitation,
    LedgerEvent,
    Member,
    Membership,
    Subscription,
    System,
)
from flex_emulator.shared.quarters import to_credits
from flex_emulator.shared.timefmt import iso


def membership_json(membership: Membership) -> dict[str, Any]:
    return {"id": membership.account_id, "name": membership.account_name, "role": membership.role}


def member_json(member: Member) -> dict[str, Any]:
    return {"user_id": member.user_id, "email": member.email, "role": member.role}


def invitation_json(item: Invitation) -> dict[str, Any]:
    return {
        "id": item.id,
        "account": {"id": item.account_id, "name": item.account_name},
        "email": item.email,
        "role": item.role,
        "invited_by": item.invited_by,
        "created_at": iso(item.created_at),
    }


def subscription_json(sub: Subscription, now: datetime) -> dict[str, Any]:
    return {
        "id": sub.id,
        "order_id": sub.order_id,
        "duration": sub.duration,
        "state": sub.state,
        "selectable": rules.is_selectable(sub, now),
        "credits_total": to_credits(sub.quarters_total),
        "credits_available": to_credits(sub.quarters_available),
        "created_at": iso(sub.created_at),
        "term_start": iso(sub.term_start),
        "term_end": iso(sub.term_end),
        "cancelled_at": iso(sub.cancelled_at),
    }


def system_json(system: System, online: bool, now: datetime, quarters_assigned: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": system.id,
        "label": system.label,
        "online": online,
        "last_seen": iso(rules.last_seen(system, online, now)),
        "linked_at": iso(system.linked_at),
        "seq": system.seq,
    }
    if quarters_assigned is not None:
        body["credits_assigned"] = to_credits(quarters_assigned)
    if system.home_in_use is not None:  # from HOME's latest receipt: what its running resources used
        in_use, reported_at = to_credits(system.home_in_use), iso(system.home_in_use_at)
        body["home_usage"] = {"credits_in_use": in_use, "reported_at": reported_at}
    return body


def assignment_json(item: Assignment, sub: Subscription) -> dict[str, Any]:
    return {
        "id": item.id,
        "system_id": item.system_id,
        "credits": to_credits(item.quarters),
        "assigned_at": iso(item.assigned_at),
        "valid_until": iso(item.valid_until),
        "auto_revoke_at": iso(item.auto_revoke_at),
        "downloaded": item.downloaded,
        "state": item.state,
        "end_reason": item.end_reason,
        "ended_at": iso(item.ended_at),
        "returns_at": iso(rules.returns_at(item, sub)),
        "subscription": {"id": sub.id, "order_id": sub.order_id, "duration": sub.duration, "state": sub.state},
    }


def event_json(event: LedgerEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": iso(event.at),
        "kind": event.kind,
        "actor": event.actor,
        "subscription_id": event.subscription_id,
        "system_id": event.system_id,
        "assignment_id": event.assignment_id,
        "credits": to_credits(event.quarters),
        **event.detail,
    }
