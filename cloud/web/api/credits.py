"""Subscriptions, systems, assignments, revokes, the credits file and revoke keys."""

from typing import Any

from aiohttp import web

from flex_emulator.cloud.appkeys import CLOCK, CONFIG, DB, SIGNER, SUBSCRIPTIONS, SYSTEMS, TRANSFERS
from flex_emulator.cloud.domain import rules
from flex_emulator.cloud.domain.models import Assignment, AssignmentState
from flex_emulator.cloud.emulator.file_faults import faulty_credits_file
from flex_emulator.cloud.web.access import caller
from flex_emulator.cloud.web.downloads import credits_file_response
from flex_emulator.cloud.web.inputs import parse_assignment
from flex_emulator.cloud.web.shapes import assignment_json, subscription_json, system_json
from flex_emulator.shared.errors import BadRequest
from flex_emulator.shared.quarters import to_credits
from flex_emulator.shared.snapshot_claims import MAX_RECEIPT_BYTES
from flex_emulator.shared.web import json_response, optional_text, read_json, require_text

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
    assigned = await db.read.systems.quarters_held(who.account_id)
    systems = await db.read.systems.of_account(who.account_id)
    now = request.app[CLOCK].now()
    return json_response(
        {"systems": [system_json(item, item.online, now, assigned.get(item.id, 0)) for item in systems]}
    )


@routes.post("/api/v1/accounts/{acc}/systems")
async def post_system(request: web.Request) -> web.Response:
    who = await caller(request, admin=True)
    body = await read_json(request)
    code = require_text(body, "registration_code", max_length=4096)
    system = await request.app[SYSTEMS].link(
        who.account_id, code, optional_text(body, "label", max_length=100), who.actor
    )
    return json_response({"system": system_json(system, system.online, request.app[CLOCK].now(), 0)}, status=201)


@routes.get("/api/v1/accounts/{acc}/systems/{sys}")
async def get_system(request: web.Request) -> web.Response:
    who = await caller(request)
    system = await request.app[SYSTEMS].owned(who.account_id, request.match_info["sys"])
    db = request.app[DB]
    items = await db.read.assignments.on_system(system.id)
    subs = await db.read.subscriptions.get_many([item.subscription_id for item in items])  # one read, not one per row
    return json_response(
        {
            "system": system_json(system, system.online, request.app[CLOCK].now()),
            "assignments": [assignment_json(item, subs[item.subscription_id]) for item in items],
        }
    )


@routes.delete("/api/v1/accounts/{acc}/systems/{sys}")
async def delete_system(request: web.Request) -> web.Response:
    who = await caller(request, admin=True)
    system_id = request.match_info["sys"]
    await request.app[SYSTEMS].unlink(who.account_id, system_id, who.actor)
    return json_response({"unlinked": system_id})


# --- assignments ------------------------------------------------------------------------------


@routes.post("/api/v1/accounts/{acc}/systems/{sys}/assignments")
async def post_assignment(request: web.Request) -> web.Response:
    who = await caller(request)
    subscription_id, quarters, auto_revoke_at = parse_assignment(await read_json(request))
    assigned = await request.app[TRANSFERS].assign(
        who.account_id, request.match_info["sys"], subscription_id, quarters, auto_revoke_at, who.actor
    )
    return json_response({"assignment": assignment_json(assigned.assignment, assigned.subscription)}, status=201)


@routes.post("/api/v1/accounts/{acc}/systems/{sys}/assignments/{id}/revoke")
async def revoke_assignment(request: web.Request) -> web.Response:
    who = await caller(request)
    body = await read_json(request)
    require_text(body, "confirm", max_length=32)  # missing, empty or not text: its own 400
    item = await request.app[TRANSFERS].revoke(
        who.account_id, request.match_info["sys"], request.match_info["id"], who.actor, body["confirm"]
    )
    answer: dict[str, Any] = {"assignment": await assignment_body(request, item)}
    if item.state == AssignmentState.REVOKE_PENDING:
        answer["steps"] = rules.REVOKE_STEPS
        answer["returns_at"] = answer["assignment"]["returns_at"]
    return json_response(answer)


@routes.post("/api/v1/accounts/{acc}/systems/{sys}/credits-file")
async def post_credits_file(request: web.Request) -> web.Response:
    who = await caller(request)
    fault = request.query.get("fault")
    if fault is not None:
        if not request.app[CONFIG].emulator_api:
            raise BadRequest(
                "Bad credits files on demand need the emulator API (--emulator-api).", code="emulator_api_disabled"
            )
        app = request.app
        system, seq, token = await faulty_credits_file(
            app[DB], app[SIGNER], app[CLOCK].now(), who.account_id, request.match_info["sys"], fault
        )
        return credits_file_response(system.label, seq, token)
    system, issued = await request.app[TRANSFERS].download(who.account_id, request.match_info["sys"], who.actor)
    return credits_file_response(system.label, issued.seq, issued.token)


@routes.post("/api/v1/accounts/{acc}/systems/{sys}/revoke-keys")
async def post_revoke_key(request: web.Request) -> web.Response:
    who = await caller(request)
    body = await read_json(request)
    key = require_text(body, "revoke_key", max_length=MAX_RECEIPT_BYTES)
    returned = await request.app[SYSTEMS].enter_revoke_key(who.account_id, request.match_info["sys"], key, who.actor)
    return json_response(
        {
            "returned": [item.id for item in returned],
            "credits_returned": to_credits(sum(item.quarters for item in returned)),
        }
    )
