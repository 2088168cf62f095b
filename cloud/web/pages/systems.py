"""Portal pages: the Systems list, Add system (admin), System details with live status, and Download."""

import hashlib
from datetime import datetime

from aiohttp import web

from flex_emulator.cloud.appkeys import CLOCK, DB, HUB, SYSTEMS, TRANSFERS
from flex_emulator.cloud.domain import rules
from flex_emulator.cloud.domain.models import Assignment, AssignmentState, System
from flex_emulator.cloud.web.downloads import credits_file_response
from flex_emulator.cloud.web.pages.kit import page_caller, read_form, render, text_field
from flex_emulator.cloud.web.pages.view_models import assignment_view
from flex_emulator.shared.errors import ApiError
from flex_emulator.shared.pagekit import Flash, iso_time, redirect, short, when
from flex_emulator.shared.quarters import format_credits
from flex_emulator.shared.web import json_response

routes = web.RouteTableDef()


def credits_version(system: System, items: list[Assignment], faults: list[str] | None = None) -> str:
    """A short fingerprint of what the details page shows, so an open page knows when to refresh."""
    parts = [str(system.seq)] + [
        f"{item.id}:{item.state}:{item.downloaded}:{iso_time(item.valid_until)}" for item in items
    ]
    parts += faults or []
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def presence(system: System, online: bool, now: datetime) -> dict[str, str | bool]:
    seen = rules.last_seen(system, online, now)
    return {"online": online, "last_seen": iso_time(seen), "last_seen_text": when(seen), "last_seen_short": short(seen)}


@routes.get("/accounts/{acc}/systems")
async def get_systems(request: web.Request) -> web.Response:
    who = await page_caller(request)
    db = request.app[DB]
    assigned = await db.read.systems.quarters_held(who.account_id)
    now = request.app[CLOCK].now()
    rows = [
        {
            "system": item,
            "online": item.online,
            "last_seen": rules.last_seen(item, item.online, now),
            "credits": format_credits(assigned.get(item.id, 0)),
        }
        for item in await db.read.systems.of_account(who.account_id)
    ]
    return await render(request, "systems.html", who, {"systems": rows}, section="systems")


@routes.get("/accounts/{acc}/presence")
async def get_presence(request: web.Request) -> web.Response:
    who = await page_caller(request)
    systems = await request.app[DB].read.systems.of_account(who.account_id)
    now = request.app[CLOCK].now()
    return json_response({"systems": {item.id: presence(item, item.online, now) for item in systems}})


@routes.get("/accounts/{acc}/add-system")
async def get_add_system(request: web.Request) -> web.Response:
    who = await page_caller(request, admin=True)
    return await render(request, "add_system.html", who, {"problem": "", "code": "", "label": ""}, section="systems")


@routes.post("/accounts/{acc}/systems")
async def post_system(request: web.Request) -> web.Response:
    form = await read_form(request)
    who = await page_caller(request, admin=True)
    code, label = text_field(form, "registration_code"), text_field(form, "label")

    async def again(problem: str, status: int = 400) -> web.Response:
        """The Add system dialog again, with the problem and what was pasted (unless far too long to show)."""
        kept = {"code": code if len(code) <= 4096 else "", "label": label[:100]}
        return await render(
            request, "add_system.html", who, {"problem": problem, **kept}, section="systems", status=status
        )

    if not code:
        return await again("Paste the registration code HOME shows on Settings → Licensing cloud.")
    if len(code) > 4096 or len(label) > 100:
        return await again("The registration code or label is too long.")
    try:
        system = await request.app[SYSTEMS].link(who.account_id, code, label or None, who.actor)
    except ApiError as exc:
        return await again(exc.message, exc.status)
    return redirect(
        request,
        f"/accounts/{who.account_id}/systems/{system.id}",
        Flash(
            kind="success",
            message=f"System {system.label} is linked to this account. It shows Online once HOME connects.",
        ),
    )


@routes.get("/accounts/{acc}/systems/{sys}")
async def get_system(request: web.Request) -> web.Response:
    who = await page_caller(request)
    system = await request.app[SYSTEMS].owned(who.account_id, request.match_info["sys"])
    online = system.online
    db = request.app[DB]
    items = await db.read.assignments.on_system(system.id)
    subs = {sub.id: sub for sub in await db.read.subscriptions.of_account(who.account_id)}
    views = [assignment_view(item, subs[item.subscription_id]) for item in items]
    faults = request.app[HUB].faults.of(system.id).labels()  # only ever set through the emulator API
    context = {
        "system": system,
        "online": online,
        "last_seen": rules.last_seen(system, online, request.app[CLOCK].now()),
        "open": [view for view in views if view.state != AssignmentState.ENDED],
        "ended": sorted(
            (view for view in views if view.state == AssignmentState.ENDED),
            key=lambda view: view.ended_at or view.assigned_at,
            reverse=True,
        ),
        "version": credits_version(system, items, faults),
        "faults": faults,
    }
    return await render(request, "system.html", who, context, section="systems")


@routes.get("/accounts/{acc}/systems/{sys}/presence")
async def get_system_presence(request: web.Request) -> web.Response:
    who = await page_caller(request)
    system = await request.app[SYSTEMS].owned(who.account_id, request.match_info["sys"])
    online = system.online
    items = await request.app[DB].read.assignments.on_system(system.id)
    faults = request.app[HUB].faults.of(system.id).labels()
    return json_response(
        {**presence(system, online, request.app[CLOCK].now()), "version": credits_version(system, items, faults)}
    )


@routes.post("/accounts/{acc}/systems/{sys}/credits-file")
async def post_credits_file(request: web.Request) -> web.Response:
    await read_form(request)
    who = await page_caller(request)
    system, issued = await request.app[TRANSFERS].download(who.account_id, request.match_info["sys"], who.actor)
    return credits_file_response(system.label, issued.seq, issued.token)
