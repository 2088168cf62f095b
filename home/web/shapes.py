"""The JSON shapes of the HOME API, built from the domain's dataclasses."""

from datetime import datetime
from typing import Any

from flex_emulator.home.domain import holdings
from flex_emulator.home.domain.licensing import Applied, CreditsReport, PerpetualLine
from flex_emulator.home.domain.models import FileKind
from flex_emulator.home.domain.spending import ResourceView
from flex_emulator.shared.quarters import to_credits
from flex_emulator.shared.snapshot_claims import SnapshotEntry
from flex_emulator.shared.timefmt import iso


def totals_json(totals: holdings.Totals) -> dict[str, Any]:
    return {
        "total": to_credits(totals.total),
        "in_use": to_credits(totals.in_use),
        "remaining": to_credits(totals.remaining),
        "shortfall": to_credits(totals.shortfall),
    }


def entry_json(entry: SnapshotEntry, now: datetime, link_on: bool) -> dict[str, Any]:
    return {
        "assignment_id": entry.assignment_id,
        "credits": to_credits(entry.credits),
        "assigned_at": iso(entry.assigned_at),
        "valid_until": iso(entry.valid_until),
        "renewable_until": iso(entry.renewable_until),
        "subscription_id": entry.subscription_id,
        "order_id": entry.order_id,
        "duration": entry.duration,
        "subscription_state": entry.subscription_state,
        "renewal": holdings.renewal(entry, link_on),
        "expired": not holdings.is_valid(entry, now),
    }


def credits_json(report: CreditsReport) -> dict[str, Any]:
    return {
        **totals_json(report.totals),
        "now": iso(report.now),
        "seq": report.seq,
        "revoke_key": report.revoke_key,
        "status": {
            "state": report.status.state,
            "valid_until": iso(report.status.valid_until),
            "message": report.status.message,
        },
        "entries": [entry_json(entry, report.now, report.link_on) for entry in report.entries],
        "timeline": [
            {"date": day.date.isoformat(), "valid": to_credits(day.valid), "renewable": to_credits(day.renewable)}
            for day in report.timeline
        ],
    }


def applied_json(applied: Applied, report: CreditsReport) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": applied.kind,
        "result": applied.result,
        "seq": report.seq,
        "credits": totals_json(report.totals),
        "revoke_key": report.revoke_key,
    }
    if applied.kind == FileKind.PERPETUAL:
        body["license"] = {"license_type": applied.license_type, "count": applied.count}
    return body


def perpetual_json(lines: list[PerpetualLine]) -> dict[str, Any]:
    return {
        "licenses": [
            {"license_type": line.license_type, "total": line.total, "in_use": line.in_use, "remaining": line.remaining}
            for line in lines
        ]
    }


def resource_json(view: ResourceView) -> dict[str, Any]:
    resource = view.resource
    return {
        "id": resource.id,
        "name": resource.name,
        "license_type_needed": resource.license_type_needed,
        "count": resource.count,
        "license_type": resource.license_type,
        "status": view.status,
        "running": view.running,
        "perpetual_in_use": resource.perpetual_in_use,
        "credits_in_use": to_credits(resource.credits_in_use),
        "created_at": iso(resource.created_at),
    }
