"""Sign-in, accounts, users (admin) and the account's history."""

import asyncio
import functools
from datetime import datetime

from aiohttp import web

from cloud import rules
from cloud.access import authenticate, bearer_token, caller
from cloud.appkeys import CLOCK, DB
from cloud.ids import new_id
from cloud.passwords import hash_password, new_token, token_digest, verify_password
from cloud.store import Queries
from cloud.views import event_json, member_json, membership_json
from shared.errors import BadRequest, Conflict, NotFound, Unauthorized
from shared.web import json_response, read_json, require_text

routes = web.RouteTableDef()


@functools.cache
def unknown_user_hash() -> str:
    """Checked against when the email is unknown, so that takes as long; made on first use, not at import."""
    return hash_password(new_token())


async def sign_in(request: web.Request, email: str, password: str) -> tuple[str, list[dict[str, str]]]:
    """Check the password and open a session; shared by the API and the sign-in page."""
    db = request.app[DB]
    user = await db.read.users.by_email(email)
    # scrypt takes tens of milliseconds: off the event loop, and as long for an unknown email as for a known one
    stored = user.password_hash if user is not None else await asyncio.to_thread(unknown_user_hash)
    if not await asyncio.to_thread(verify_password, password, stored) or user is None:
        raise Unauthorized("The email or password is not right.", code="bad_credentials")
    token = new_token()
    async with db.transaction() as tx:
        await tx.users.start_session(token_digest(token), user.id, request.app[CLOCK].now())
    return token, [membership_json(item) for item in await db.read.users.memberships(user.id)]


@routes.post("/api/v1/auth/token")
async def post_token(request: web.Request) -> web.Response:
    body = await read_json(request)
    token, accounts = await sign_in(request, require_text(body, "email", max_length=320), require_text(body, "password", max_length=1024))
    return json_response({"token": token, "accounts": accounts})


@routes.post("/api/v1/auth/logout")
async def post_logout(request: web.Request) -> web.Response:
    await authenticate(request)
    token = bearer_token(request)
    assert token is not None
    await sign_out(request, token)
    return json_response({"signed_out": True})


async def sign_out(request: web.Request, token: str) -> None:
    """End a session; shared by the API and the portal's Sign out."""
    async with request.app[DB].transaction() as tx:
        await tx.users.end_session(token_digest(token))


@routes.get("/api/v1/accounts")
async def get_accounts(request: web.Request) -> web.Response:
    user = await authenticate(request)
    memberships = await request.app[DB].read.users.memberships(user.id)
    return json_response({"accounts": [membership_json(item) for item in memberships]})


@routes.get("/api/v1/accounts/{acc}/users")
async def get_users(request: web.Request) -> web.Response:
    who = await caller(request, admin=True)
    members = await request.app[DB].read.accounts.members(who.account_id)
    return json_response({"users": [member_json(item) for item in members]})


async def add_member(request: web.Request, account_id: str, email: str, password: object, role: str, *, cheap_hash: bool = False) -> None:
    """Make ``email`` a member with ``role``, creating the user when new (then a password is needed)."""
    async with request.app[DB].transaction() as tx:
        await add_member_in(tx, account_id, email, password, role, request.app[CLOCK].now(), cheap_hash=cheap_hash)


async def add_member_in(
    tx: Queries, account_id: str, email: str, password: object, role: str, now: datetime, *, cheap_hash: bool = False
) -> str:
    """``add_member`` inside a caller's transaction: a refusal raises, so the caller's writes roll back too.
    Returns the user's id; ``cheap_hash`` is for users the emulator API makes in test worlds (see passwords.py)."""
    if role not in rules.ROLES:
        raise BadRequest("The role must be 'admin' or 'operator'.", code="invalid_role")
    if "@" not in email:
        raise BadRequest("That is not an email address.", code="invalid_email")
    if password is not None and not isinstance(password, str):
        raise BadRequest("The field 'password' must be text.", code="wrong_type")
    user = await tx.users.by_email(email)
    if user is None:
        if not password or len(password) < 8:
            raise BadRequest("A new user needs a password of at least 8 characters.", code="invalid_password")
        hashed = hash_password(password, cheap=True) if cheap_hash else await asyncio.to_thread(hash_password, password)
        user = await tx.users.create(new_id("usr"), email, hashed, now)
    await tx.accounts.add_member(account_id, user.id, role)
    return user.id


@routes.post("/api/v1/accounts/{acc}/users")
async def post_user(request: web.Request) -> web.Response:
    who = await caller(request, admin=True)
    body = await read_json(request)
    await add_member(request, who.account_id, require_text(body, "email", max_length=320), body.get("password"), require_text(body, "role"))
    members = await request.app[DB].read.accounts.members(who.account_id)
    return json_response({"users": [member_json(item) for item in members]}, status=201)


@routes.delete("/api/v1/accounts/{acc}/users/{user_id}")
async def delete_user(request: web.Request) -> web.Response:
    who = await caller(request, admin=True)
    user_id = request.match_info["user_id"]
    await remove_member(request, who.account_id, user_id)
    return json_response({"removed": user_id})


async def remove_member(request: web.Request, account_id: str, user_id: str) -> None:
    """Take a user out of the account; the last admin stays. Shared by the API and the Users page."""
    async with request.app[DB].transaction() as tx:
        members = await tx.accounts.members(account_id)
        if user_id not in {item.user_id for item in members}:
            raise NotFound(f"There is no user {user_id} in this account.")
        admins = [item for item in members if item.role == "admin"]
        if [item.user_id for item in admins] == [user_id]:
            raise Conflict("An account keeps at least one admin.", code="last_admin")
        await tx.accounts.remove_member(account_id, user_id)


@routes.get("/api/v1/accounts/{acc}/history")
async def get_history(request: web.Request) -> web.Response:
    who = await caller(request)
    try:
        limit = min(max(int(request.query.get("limit", "500")), 1), 5000)
    except ValueError:
        raise BadRequest("'limit' must be a whole number.", code="wrong_type") from None
    events = await request.app[DB].read.ledger.history(who.account_id, limit)
    return json_response({"events": [event_json(item) for item in events]})
