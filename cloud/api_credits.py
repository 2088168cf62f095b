"""Subscriptions, systems, assignments, revokes, the credits file and revoke keys."""

from typing import Any

from aiohttp import web

from cloud.access import caller
from cloud.appkeys import CLOCK, DB, HUB, SUBSCRIPTIONS, TRANSFERS
from cloud.errors import bad_field, refused
from cloud.models import Assignment
from cloud.views import assignment_json, subscription_json, system_json
from shared.credits import CreditAmountError, parse_quarters, to_credits
from shared.errors import BadRequest, Conflict, NotFound
from shared.keys import raw_public
from shared.snapshot_claims import MAX_RECEIPT_BYTES
from shared.timefmt import parse_iso
from shared.tokens import TokenError, verify_registration
from shared.web import json_response, optional_text, read_json, require_text

routes = web.RouteTableDef()


async def assignment_body(request: web.Request, item: Assignment) -> dict[str, Any]:
    sub = await request.app[DB].read.subscriptions.get(item.subscription_id)
    assert sub is not None
    return assignment_json(item, sub)


# --- subscriptions ---------------------------------------------------------------------------


@routes.get("/api/v1/accounts/{acc}/subscriptions")
async def get_subscriptions(request: web.Request) -> web.Response:
    who = await caller(request)
    now = request.app[CLOCK].now()
    subs = await request.app[DB].read.subscriptions.of_account(who.account_id)
    return json_response({"subscriptions": [subscription_json(sub, now) for sub in subs]})


@routes.post("/api/v1/accounts/{acc}/subscriptions/{sub}/activate")
async def activate_subscription(request: web.Request) -> web.Response:
    who = await caller(request, admin=True)
    sub = await request.app[SUBSCRIPTIONS].activate(who.account_id, request.match_info["sub"], who.actor)
    return json_response({"subscription": subscription_json(sub, request.app[CLOCK].now())})


@routes.post("/api/v1/accounts/{acc}/subscriptions/{sub}/cancel")
async def cancel_subscription(request: web.Request) -> web.Response:
    who = await caller(request, admin=True)
    sub = await request.app[SUBSCRIPTIONS].cancel(who.account_id, request.match_info["sub"], who.actor)
    return json_response({"subscription": subscription_json(sub, request.app[CLOCK].now())})


# --- systems ----------------------------------------------------------------------------------


@routes.get("/api/v1/accounts/{acc}/systems")
async def get_systems(request: web.Request) -> web.Response:
    who = await caller(request)
    db = request.app[DB]
    online = request.app[HUB].online_ids()  # before reading: a system goes Offline only after last_seen is saved
    assigned = await db.read.systems.quarters_held(who.account_id)
    systems = await db.read.systems.of_account(who.account_id)
    now = request.app[CLOCK].now()
    return json_response({"systems": [system_json(item, item.id in online, now, assigned.get(item.id, 0)) for item in systems]})


async def link_system(request: web.Request, account_id: str, code: str, label: str | None, actor: str) -> dict[str, Any]:
    """Link a HOME system by its registration code; a system belongs to one account only."""
    try:
        registration = verify_registration(code)
    except TokenError as exc:
        raise refused(exc) from None
    db, now = request.app[DB], request.app[CLOCK].now()
    name = (label or registration.label or registration.system_id)[:100]
    async with db.transaction() as tx:
        existing = await tx.systems.get(registration.system_id)
        if existing is not None:
            where = "this account" if existing.account_id == account_id else "another account"
            raise Conflict(f"System {registration.system_id} is already linked to {where}.", code="already_linked")
        await tx.systems.insert(registration.system_id, account_id, name, raw_public(registration.public_key), now)
        await tx.ledger.append(now, "system_linked", actor, account_id, system_id=registration.system_id, detail={"label": name})
    system = await db.read.systems.get(registration.system_id)
    assert system is not None
    return system_json(system, request.app[HUB].is_online(system.id), now, 0)


@routes.post("/api/v1/accounts/{acc}/systems")
async def post_system(request: web.Request) -> web.Response:
    who = await caller(request, admin=True)
    body = await read_json(request)
    system = await link_system(
        request, who.account_id, require_text(body, "registration_code", max_length=4096),
        optional_text(body, "label", max_length=100), who.actor,
    )  # fmt: skip
    return json_response({"system": system}, status=201)


@routes.get("/api/v1/accounts/{acc}/systems/{sys}")
async def get_system(request: web.Request) -> web.Response:
    who = await caller(request)
    db = request.app[DB]
    online = request.app[HUB].is_online(request.match_info["sys"])  # before reading, as in get_systems
    system = await db.read.systems.get(request.match_info["sys"])
    if system is None or system.account_id != who.account_id:
        raise NotFound(f"There is no system {request.match_info['sys']} in this account.")
    items = await db.read.assignments.on_system(system.id)
    return json_response(
        {
            "system": system_json(system, online, request.app[CLOCK].now()),
            "assignments": [await assignment_body(request, item) for item in items],
        }
    )


@routes.delete("/api/v1/accounts/{acc}/systems/{sys}")
async def delete_system(request: web.Request) -> web.Response:
    who = await caller(request, admin=True)
    db, system_id = request.app[DB], request.match_info["sys"]
    async with db.transaction() as tx:
        system = await tx.systems.get(system_id)
        if system is None or system.account_id != who.account_id:
            raise NotFound(f"There is no system {system_id} in this account.")
        if await tx.assignments.on_system(system_id, ("active", "revoke_pending")):
            raise Conflict("Revoke every assignment of this system before unlinking it.", code="system_has_credits")
        await tx.systems.delete(system_id)
        await tx.ledger.append(request.app[CLOCK].now(), "system_unlinked", who.actor, who.account_id, system_id=system_id)
    await request.app[HUB].disconnect(system_id)
    return json_response({"unlinked": system_id})


# --- assignments ------------------------------------------------------------------------------


def parse_assignment(body: dict[str, Any]) -> tuple[str, int, Any]:
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
        raise bad_field("auto_revoke_at", "'auto_revoke_at' must be an ISO 8601 time such as 2026-12-01T09:00:00Z.") from None
    return subscription_id, quarters, auto_revoke_at


@routes.post("/api/v1/accounts/{acc}/systems/{sys}/assignments")
async def post_assignment(request: web.Request) -> web.Response:
    who = await caller(request)
    subscription_id, quarters, auto_revoke_at = parse_assignment(await read_json(request))
    item = await request.app[TRANSFERS].assign(
        who.account_id, request.match_info["sys"], subscription_id, quarters, auto_revoke_at, who.actor
    )
    return json_response({"assignment": await assignment_body(request, item)}, status=201)


REVOKE_STEPS = [
    "Download the latest credits file for this system.",
    "Upload it into HOME on its FileLicenses page.",
    "Copy the revoke key HOME then shows on Licenses → Credits.",
    "Enter the revoke key here.",
]


@routes.post("/api/v1/accounts/{acc}/systems/{sys}/assignments/{id}/revoke")
async def revoke_assignment(request: web.Request) -> web.Response:
    who = await caller(request)
    body = await read_json(request)
    if require_text(body, "confirm", max_length=32) != "confirm":
        raise BadRequest("Type the word confirm to revoke.", code="confirmation_required")
    item = await request.app[TRANSFERS].revoke(who.account_id, request.match_info["sys"], request.match_info["id"], who.actor)
    answer: dict[str, Any] = {"assignment": await assignment_body(request, item)}
    if item.state == "revoke_pending":
        answer["steps"] = REVOKE_STEPS
        answer["returns_at"] = answer["assignment"]["returns_at"]
    return json_response(answer)


@routes.post("/api/v1/accounts/{acc}/systems/{sys}/credits-file")
async def post_credits_file(request: web.Request) -> web.Response:
    who = await caller(request)
    system, issued = await request.app[TRANSFERS].download(who.account_id, request.match_info["sys"], who.actor)
    return credits_file_response(system.label, issued.seq, issued.token)


def credits_file_response(label: str, seq: int, token: str) -> web.Response:
    slug = "".join(ch if ch.isalnum() else "-" for ch in label.lower()).strip("-") or "home"
    return web.Response(
        body=token.encode("ascii"),
        content_type="application/jwt",
        headers={"Content-Disposition": f'attachment; filename="credits-{slug}-{seq}.jwt"'},
    )


@routes.post("/api/v1/accounts/{acc}/systems/{sys}/revoke-keys")
async def post_revoke_key(request: web.Request) -> web.Response:
    who = await caller(request)
    body = await read_json(request)
    returned = await enter_revoke_key(request, who.account_id, request.match_info["sys"], require_text(body, "revoke_key", max_length=MAX_RECEIPT_BYTES), who.actor)
    return json_response(returned)


async def enter_revoke_key(request: web.Request, account_id: str, system_id: str, key: str, actor: str) -> dict[str, Any]:
    system = await request.app[DB].read.systems.get(system_id)
    if system is None or system.account_id != account_id:
        raise NotFound(f"There is no system {system_id} in this account.")
    try:
        outcome = await request.app[TRANSFERS].accept_receipt(system_id, key, "revoke_key", actor)
    except TokenError as exc:
        raise refused(exc) from None
    return {
        "returned": [item.id for item in outcome.returned],
        "credits_returned": to_credits(sum(item.quarters for item in outcome.returned)),
    }
