"""Portal pages: the Add Credits steps, Revoke (with the four steps for a disconnected system) and revoke keys."""

from aiohttp import web
from yarl import URL

from cloud import rules
from cloud.appkeys import CLOCK, DB, HUB, SYSTEMS, TRANSFERS
from cloud.display import assignment_view, subscription_view
from cloud.inputs import parse_assignment
from cloud.models import Assignment, System
from cloud.site import page_caller, read_form, redirect, render, text_field
from shared.credits import format_credits
from shared.errors import ApiError, NotFound
from shared.snapshot_claims import MAX_RECEIPT_BYTES

routes = web.RouteTableDef()


def system_url(system: System) -> str:
    return f"/accounts/{system.account_id}/systems/{system.id}"


def add_url(system: System, subscription_id: str = "", credits: str = "") -> str:
    url = URL(f"{system_url(system)}/add")
    return str(url.with_query(step="2", subscription=subscription_id, credits=credits) if subscription_id else url)


@routes.get("/accounts/{acc}/systems/{sys}/add")
async def get_add_credits(request: web.Request) -> web.Response:
    """Step 1 chooses a subscription (a GET form, so it works without script); step 2 the amount."""
    who = await page_caller(request)
    system = await request.app[SYSTEMS].owned(who.account_id, request.match_info["sys"])
    now = request.app[CLOCK].now()
    subs = [subscription_view(sub, now) for sub in await request.app[DB].read.subscriptions.of_account(who.account_id)]
    chosen = next((sub for sub in subs if sub.id == request.query.get("subscription")), None)
    second = request.query.get("step") == "2"
    problem = ""
    if second and (chosen is None or not chosen.selectable):
        problem = "Choose an active subscription." if chosen is None else f"Subscription {chosen.order_id} cannot supply credits."
    step = 2 if second and not problem else 1
    context = {
        "system": system,
        "subscriptions": subs,
        "chosen": chosen,
        "step": step,
        "problem": problem,
        "credits": request.query.get("credits") or (format_credits(min(4, chosen.quarters_available)) if chosen else "1"),
        "today": now.date().isoformat(),
    }
    return await render(request, "add_credits.html", who, context, section="systems")


@routes.post("/accounts/{acc}/systems/{sys}/assignments")
async def post_assignment(request: web.Request) -> web.Response:
    form = await read_form(request)
    who = await page_caller(request)
    system = await request.app[SYSTEMS].owned(who.account_id, request.match_info["sys"])
    sub_id, credits = text_field(form, "subscription_id"), text_field(form, "credits")
    if not sub_id:
        return redirect(request, add_url(system), "error", "Choose a subscription first.")
    back = add_url(system, sub_id, credits)
    if not credits:
        return redirect(request, back, "error", "Enter the number of credits to assign.")
    auto_revoke = None
    if form.get("auto_revoke"):
        date, time = text_field(form, "auto_revoke_date"), text_field(form, "auto_revoke_time") or "00:00"
        if not date:
            return redirect(request, back, "error", "Choose the date (and time) for Auto Revoke, or switch Auto Revoke off.")
        auto_revoke = f"{date}T{time}"
    try:
        subscription_id, quarters, auto_revoke_at = parse_assignment(
            {"subscription_id": sub_id, "credits": credits, "auto_revoke_at": auto_revoke}
        )
        item = await request.app[TRANSFERS].assign(who.account_id, system.id, subscription_id, quarters, auto_revoke_at, who.actor)
    except ApiError as exc:
        return redirect(request, back, "error", exc.message)
    sub = await request.app[DB].read.subscriptions.get(item.subscription_id)
    order = sub.order_id if sub else ""
    if item.downloaded:
        message = f"{format_credits(item.quarters)} credits from {order} were sent to {system.label}."
    else:
        message = (
            f"{format_credits(item.quarters)} credits from {order} were added for {system.label}. The system is offline: "
            "click Download and upload the file on HOME's FileLicenses page."
        )
    return redirect(request, system_url(system), "success", message)


async def owned_assignment(request: web.Request, system: System) -> Assignment:
    item = await request.app[DB].read.assignments.get(request.match_info["id"])
    if item is None or item.system_id != system.id:
        raise NotFound(f"There is no assignment {request.match_info['id']} on this system.")
    return item


@routes.get("/accounts/{acc}/systems/{sys}/assignments/{id}/revoke")
async def get_revoke(request: web.Request) -> web.Response:
    who = await page_caller(request)
    system = await request.app[SYSTEMS].owned(who.account_id, request.match_info["sys"])
    item = await owned_assignment(request, system)
    sub = await request.app[DB].read.subscriptions.get(item.subscription_id)
    assert sub is not None
    context = {
        "system": system,
        "online": request.app[HUB].is_online(system.id),
        "item": assignment_view(item, sub),
        "steps": rules.REVOKE_STEPS,
    }
    return await render(request, "revoke.html", who, context, section="systems")


@routes.post("/accounts/{acc}/systems/{sys}/assignments/{id}/revoke")
async def post_revoke(request: web.Request) -> web.Response:
    form = await read_form(request)
    who = await page_caller(request)
    system = await request.app[SYSTEMS].owned(who.account_id, request.match_info["sys"])
    item = await owned_assignment(request, system)
    here = f"{system_url(system)}/assignments/{item.id}/revoke"
    if text_field(form, "confirm").lower() != "confirm":
        return redirect(request, here, "error", "Type the word confirm to revoke.")
    try:
        item = await request.app[TRANSFERS].revoke(who.account_id, system.id, item.id, who.actor)
    except ApiError as exc:
        return redirect(request, system_url(system), "error", exc.message)
    if item.state == "revoke_pending":
        return redirect(
            request, here, "info",
            "HOME holds a copy of these credits, so they come back once HOME proves it dropped them. Follow the four steps below.",
        )  # fmt: skip
    return redirect(request, system_url(system), "success", f"Revoked: {format_credits(item.quarters)} credits are back in their subscription.")


@routes.get("/accounts/{acc}/systems/{sys}/revoke-key")
async def get_revoke_key(request: web.Request) -> web.Response:
    who = await page_caller(request)
    system = await request.app[SYSTEMS].owned(who.account_id, request.match_info["sys"])
    db = request.app[DB]
    pending = await db.read.assignments.on_system(system.id, ("revoke_pending",))
    subs = {sub.id: sub for sub in await db.read.subscriptions.of_account(who.account_id)}
    context = {"system": system, "pending": [assignment_view(item, subs[item.subscription_id]) for item in pending]}
    return await render(request, "revoke_key.html", who, context, section="systems")


@routes.post("/accounts/{acc}/systems/{sys}/revoke-key")
async def post_revoke_key(request: web.Request) -> web.Response:
    form = await read_form(request)
    who = await page_caller(request)
    system = await request.app[SYSTEMS].owned(who.account_id, request.match_info["sys"])
    back = text_field(form, "return_to")
    if not back.startswith(system_url(system) + "/"):
        back = f"{system_url(system)}/revoke-key"
    key = text_field(form, "revoke_key")
    if not key:
        return redirect(request, back, "error", "Paste the revoke key HOME shows on Licenses → Credits.")
    if len(key) > MAX_RECEIPT_BYTES:
        return redirect(request, back, "error", "That is far too long to be a revoke key.")
    try:
        returned = await request.app[SYSTEMS].enter_revoke_key(who.account_id, system.id, key, who.actor)
    except ApiError as exc:
        return redirect(request, back, "error", f"The revoke key was refused: {exc.message}")
    if returned:
        count = len(returned)
        message = f"Revoke key accepted: {format_credits(sum(item.quarters for item in returned))} credits came back ({count} assignment{'s' if count != 1 else ''})."
        return redirect(request, system_url(system), "success", message)
    return redirect(request, system_url(system), "info", "Revoke key accepted. No credits were waiting for it, so nothing changed.")
