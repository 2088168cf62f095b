"""Reading a request's fields into domain values, shared by the API and the pages."""

from datetime import datetime
from typing import Any

from flex_emulator.shared.errors import BadRequest
from flex_emulator.shared.quarters import CreditAmountError, parse_quarters
from flex_emulator.shared.timefmt import parse_iso
from flex_emulator.shared.web import optional_text, require_text


def bad_field(name: str, message: str) -> BadRequest:
    return BadRequest(message, code=f"invalid_{name}")


def parse_assignment(body: dict[str, Any]) -> tuple[str, int, datetime | None]:
    """``{subscription_id, credits, auto_revoke_at?}`` as (subscription id, quarters, Auto Revoke time)."""
    subscription_id = require_text(body, "subscription_id", max_length=64)
    if body.get("credits") is None:
        raise BadRequest("The field 'credits' is missing.", code="missing_field")
    try:
        quarters = parse_quarters(body["credits"])
    except CreditAmountError as exc:
        raise bad_field("credits", str(exc)) from None
    raw_revoke = optional_text(body, "auto_revoke_at", max_length=64)
    try:
        auto_revoke_at = parse_iso(raw_revoke) if raw_revoke else None
    except ValueError:
        raise bad_field(
            "auto_revoke_at", "'auto_revoke_at' must be an ISO 8601 time such as 2026-12-01T09:00:00Z."
        ) from None
    return subscription_id, quarters, auto_revoke_at
