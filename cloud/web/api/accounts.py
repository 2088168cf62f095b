"""Sign-in, accounts, users (admin) and the account's history."""

from aiohttp import web

from flex_emulator.cloud.appkeys import ACCOUNTS, DB
from flex_emulator.cloud.web.access import authenticate, bearer_token, caller
from flex_emulator.cloud.web.shapes import event_json, invitation_json, member_json, membership_json
from flex_emulator.shared.errors import BadRequest
from flex_emulator.shared.web import json_response, read_json, require_text, whole_number

routes = web.RouteTableDef()


@routes.post("/api/v1/auth/token")
async def post_token(request: web.Request) -> web.Response:
    body = await read_json(request)
    email, password = require_text(body, "email", max_length=320), require_text(body, "password", max_length=1024)
    token, memberships = await request.app[ACCOUNTS].sign_in(email, password)
    return json_response({"token": token, "accounts": [membership_json(item) for item in memberships]})


@routes.post("/api/v1/auth/logout")
async def post_logout(request: web.Request) -> web.Response:
    await authenticate(request)
    token = bearer_token(request)
    assert token is not None
    await request.app[ACCOUNTS].sign_out(token)
    return json_response({"signed_out": True})


@routes.get("/api/v1/accounts")
async def get_accounts(request: web.Request) -> web.Response:
    user = await authenticate(request)
    memberships = await request.app[ACCOUNTS].memberships(user)
    return json_response({"accounts": [membership_json(item) for item in memberships]})


@routes.get("/api/v1/accounts/{acc}/users")
async def get_users(request: web.Request) -> web.Response:
    who = await caller(request, admin=True)
    members = await request.app[DB].read.accounts.members(who.account_id)
    return json_response({"users": [member_json(item) for item in members]})


@routes.post("/api/v1/accounts/{acc}/invitations")
@routes.post("/api/v1/accounts/{acc}/users")  # the same: nobody joins an account without accepting
async def post_invitation(request: web.Request) -> web.Response:
    who = await caller(request, admin=True)
    body = await read_json(request)
    email, role = require_text(body, "email", max_length=320), require_text(body, "role", max_length=32)
    invitation = await request.app[ACCOUNTS].invite(who.account_id, email, body.get("password"), role, who.actor)
    return json_response({"invitation": invitation_json(invitation)}, status=202)


@routes.get("/api/v1/accounts/{acc}/invitations")
async def get_account_invitations(request: web.Request) -> web.Response:
    who = await caller(request, admin=True)
    invitations = await request.app[DB].read.accounts.invitations_of(who.account_id)
    return json_response({"invitations": [invitation_json(item) for item in invitations]})


@routes.delete("/api/v1/accounts/{acc}/invitations/{inv}")
async def delete_invitation(request: web.Request) -> web.Response:
    who = await caller(request, admin=True)
    invitation = await request.app[ACCOUNTS].withdraw(who.account_id, request.match_info["inv"])
    return json_response({"withdrawn": invitation.id})


@routes.get("/api/v1/invitations")
async def get_my_invitations(request: web.Request) -> web.Response:
    user = await authenticate(request)
    invitations = await request.app[ACCOUNTS].invitations_for(user)
    return json_response({"invitations": [invitation_json(item) for item in invitations]})


@routes.post("/api/v1/invitations/{inv}/accept")
async def accept_invitation(request: web.Request) -> web.Response:
    user = await authenticate(request)
    membership = await request.app[ACCOUNTS].accept(user, request.match_info["inv"])
    return json_response({"account": membership_json(membership)})


@routes.post("/api/v1/invitations/{inv}/decline")
async def decline_invitation(request: web.Request) -> web.Response:
    user = await authenticate(request)
    await request.app[ACCOUNTS].decline(user, request.match_info["inv"])
    return json_response({"declined": request.match_info["inv"]})


@routes.delete("/api/v1/accounts/{acc}/users/{user_id}")
async def delete_user(request: web.Request) -> web.Response:
    who = await caller(request, admin=True)
    user_id = request.match_info["user_id"]
    await request.app[ACCOUNTS].remove_member(who.account_id, user_id)
    return json_response({"removed": user_id})


@routes.get("/api/v1/accounts/{acc}/history")
async def get_history(request: web.Request) -> web.Response:
    who = await caller(request)
    limit = whole_number(request.query.get("limit", "500"), max_digits=9)
    if limit is None:
        raise BadRequest("'limit' must be a whole number.", code="wrong_type")
    before = request.query.get("before")
    before_id = whole_number(before) if before else None
    if before and before_id is None:
        raise BadRequest("'before' must be an event id (a whole number).", code="wrong_type")
    events = await request.app[DB].read.ledger.history(
        who.account_id,
        min(max(limit, 1), 5000),
        before_id=before_id,
        system_id=request.query.get("system") or None,
        kinds=tuple(request.query.getall("kind", [])),
    )
    return json_response({"events": [event_json(item) for item in events]})
