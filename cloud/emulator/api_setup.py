"""``/_emulator/``: control routes for tests and demos (only with --emulator-api; no auth; loopback)."""

from typing import Any

from aiohttp import web

from flex_emulator.cloud.appkeys import ACCOUNTS, CLOCK, CONFIG, DB, SCHEDULER, SIGNER, SUBSCRIPTIONS
from flex_emulator.cloud.domain.models import Subscription, SubscriptionState
from flex_emulator.cloud.domain.subscriptions import NewSubscription
from flex_emulator.cloud.web.shapes import subscription_json
from flex_emulator.shared.catalog import LICENSE_TYPES
from flex_emulator.shared.clock import VirtualClock
from flex_emulator.shared.errors import BadRequest, Conflict, NotFound
from flex_emulator.shared.licenses import PerpetualLicense
from flex_emulator.shared.quarters import CreditAmountError, parse_quarters
from flex_emulator.shared.timefmt import iso
from flex_emulator.shared.tokens import new_jti
from flex_emulator.shared.web import clock_target, json_response, optional_text, read_json, require_int, require_text

routes = web.RouteTableDef()
MAX_FIRST_SUBSCRIPTIONS = 100  # an account's subscriptions made with it, in one request


def subscription_asked(body: dict[str, Any]) -> NewSubscription:
    duration = require_text(body, "duration")
    if duration not in ("monthly", "annual"):
        raise BadRequest("'duration' must be 'monthly' or 'annual'.", code="invalid_duration")
    state = optional_text(body, "state") or SubscriptionState.INACTIVE
    if state not in (SubscriptionState.INACTIVE, SubscriptionState.ACTIVE):
        raise BadRequest("'state' must be 'inactive' or 'active'.", code="invalid_state")
    if body.get("credits") is None:
        raise BadRequest("The field 'credits' is missing.", code="missing_field")
    try:
        quarters = parse_quarters(body["credits"])
    except CreditAmountError as exc:
        raise BadRequest(str(exc), code="invalid_credits") from None
    return NewSubscription(duration, quarters, state, optional_text(body, "order_id", max_length=64))


def subscriptions_asked(body: dict[str, Any]) -> list[NewSubscription]:
    """The optional ``subscriptions`` of a new account, each checked as ``POST .../subscriptions`` checks one."""
    listed = body.get("subscriptions", [])
    if not isinstance(listed, list) or not all(isinstance(item, dict) for item in listed):
        raise BadRequest("'subscriptions' must be a list of objects {duration, credits, ...}.", code="wrong_type")
    if len(listed) > MAX_FIRST_SUBSCRIPTIONS:
        raise BadRequest(f"'subscriptions' holds at most {MAX_FIRST_SUBSCRIPTIONS}.", code="out_of_range")
    return [subscription_asked(item) for item in listed]


@routes.post("/_emulator/accounts")
async def post_account(request: web.Request) -> web.Response:
    body = await read_json(request)
    name = require_text(body, "name", max_length=100)
    admin = body.get("admin")
    if not isinstance(admin, dict):
        raise BadRequest("The field 'admin' must be an object {email, password}.", code="missing_field")
    email = require_text(admin, "email", max_length=320)
    asked = subscriptions_asked(body)
    made: list[Subscription] = []
    cheap = request.app[CONFIG].cheap_passwords
    account_id, token = await request.app[ACCOUNTS].create(
        name,
        email,
        admin.get("password"),
        cheap_hash=cheap,
        within=request.app[SUBSCRIPTIONS].for_new_account(asked, made, "emulator"),
    )
    answer: dict[str, Any] = {"account": {"id": account_id, "name": name}, "token": token}
    if "subscriptions" in body:
        now = request.app[CLOCK].now()
        answer["subscriptions"] = [subscription_json(sub, now) for sub in made]
    return json_response(answer, status=201)


async def existing_account(request: web.Request) -> str:
    account_id = request.match_info["acc"]
    if await request.app[DB].read.accounts.get(account_id) is None:
        raise NotFound(f"There is no account {account_id}.")
    return account_id


@routes.post("/_emulator/accounts/{acc}/users")
async def post_account_user(request: web.Request) -> web.Response:
    account_id = await existing_account(request)
    body = await read_json(request)
    email, role = require_text(body, "email", max_length=320), require_text(body, "role")
    await request.app[ACCOUNTS].add_member(
        account_id, email, body.get("password"), role, cheap_hash=request.app[CONFIG].cheap_passwords
    )
    return json_response({"account_id": account_id, "email": body["email"], "role": body["role"]}, status=201)


@routes.post("/_emulator/accounts/{acc}/subscriptions")
async def post_subscription(request: web.Request) -> web.Response:
    account_id = await existing_account(request)
    asked = subscription_asked(await read_json(request))
    sub = await request.app[SUBSCRIPTIONS].create(
        account_id, asked.duration, asked.quarters, asked.state, asked.order_id, "emulator"
    )
    return json_response({"subscription": subscription_json(sub, request.app[CLOCK].now())}, status=201)


@routes.post("/_emulator/systems/{sys}/perpetual-licenses")
async def post_perpetual(request: web.Request) -> web.Response:
    system_id = request.match_info["sys"]
    body = await read_json(request)
    license_type = require_text(body, "license_type")
    if license_type not in LICENSE_TYPES:
        raise BadRequest(f"'license_type' must be one of: {', '.join(LICENSE_TYPES)}.", code="invalid_license_type")
    count = require_int(body, "count", minimum=1, maximum=10_000)
    if await request.app[DB].read.systems.get(system_id) is None:
        raise NotFound(f"There is no linked system {system_id}.")
    token = request.app[SIGNER].perpetual(
        PerpetualLicense(system_id, license_type, count, request.app[CLOCK].now(), new_jti())
    )
    filename = license_type.lower().replace(" ", "-")
    return web.Response(
        text=token,
        content_type="application/jwt",
        headers={"Content-Disposition": f'attachment; filename="{filename}.lic"'},
    )


def clock_json(request: web.Request) -> dict[str, Any]:
    clock = request.app[CLOCK]
    return {"now": iso(clock.now()), "virtual": clock.virtual}


@routes.get("/_emulator/clock")
async def get_clock(request: web.Request) -> web.Response:
    return json_response(clock_json(request))


@routes.post("/_emulator/clock")
async def post_clock(request: web.Request) -> web.Response:
    clock = request.app[CLOCK]
    if not isinstance(clock, VirtualClock):
        raise Conflict(
            "The clock is the wall clock; start the cloud with --virtual-clock to set it.", code="clock_not_virtual"
        )
    target = clock_target(await read_json(request), clock.now())
    handled = await request.app[SCHEDULER].advance_to(target)
    return json_response({**clock_json(request), "handled": handled})


@routes.get("/_emulator/invariant")
async def get_invariant(request: web.Request) -> web.Response:
    """Every subscription's available + held = total, re-derived from the tables and the ledger."""
    violations = await request.app[DB].read.ledger.invariant_violations()
    return json_response({"ok": not violations, "violations": violations})
