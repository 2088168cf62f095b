"""Portal pages: the Add Credits steps, Revoke (with the four steps for a disconnected system) and revoke keys."""

from aiohttp import web

from flex_emulator.cloud.appkeys import CLOCK, DB, SYSTEMS, TRANSFERS
from flex_emulator.cloud.domain import rules
from flex_emulator.cloud.domain.models import Assignment, AssignmentState, System
from flex_emulator.cloud.web.access import Caller
from flex_emulator.cloud.web.inputs import parse_assignment
from flex_emulator.cloud.web.pages.kit import page_caller, read_form, render, text_field
from flex_emulator.cloud.web.pages.view_models import assignment_view, revoke_usage_warning, subscription_view
from flex_emulator.shared.errors import ApiError
from flex_emulator.shared.pagekit import Flash, redirect
from flex_emulator.shared.quarters import format_credits
from flex_emulator.shared.snapshot_claims import MAX_RECEIPT_BYTES

routes = web.RouteTableDef()


def system_url(system: System) -> str:
    return f"/accounts/{system.account_id}/systems/{system.id}"


@routes.get("/accounts/{acc}/systems/{sys}/add")
async def get_add_credits(request: web.Request) -> web.Response:
    """Step 1 chooses a subscription (a GET form, so it works without script); step 2 the amount."""
    who = await page_caller(request)
    system = await request.app[SYSTEMS].owned(who.account_id, request.match_info["sys"])
    query = request.query
    return await add_credits_page(
        request,
        who,
        system,
        query.get("subscription", ""),
        second=query.get("step") == "2",
        credits=query.get("credits", ""),
    )


async def add_credits_page(
    request: web.Request,
    who: Caller,
    system: System,
    subscription_id: str,
    *,
    second: bool,
    credits: str = "",
    problem: str = "",
    auto_revoke: tuple[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    """The Add Credits dialog at its step; a refused POST shows it again with the problem and what was typed."""
    now = request.app[CLOCK].now()
    subs = [subscription_view(sub, now) for sub in await request.app[DB].read.subscriptions.of_account(who.account_id)]
    chosen = next((sub for sub in subs if sub.id == subscription_id), None)
    if second and (chosen is None or not chosen.selectable):
        problem = (
            "Choose an active subscription."
            if chosen is None
            else f"Subscription {chosen.order_id} cannot supply credits."
        )
        second = False
    context = {
        "system": system,
        "subscriptions": subs,
        "chosen": chosen,
        "step": 2 if second else 1,
        "problem": problem,
        "credits": credits or (format_credits(min(4, chosen.quarters_available)) if chosen else "1"),
        "auto_revoke": auto_revoke,
        "today": now.date().isoformat(),
    }
    return await render(request, "add_credits.html", who, context, section="systems", status=status)


@routes.post("/accounts/{acc}/systems/{sys}/assignments")
async def post_assignment(request: web.Request) -> web.Response:
    form = await read_form(request)
    who = await page_caller(request)
    system = await request.app[SYSTEMS].owned(who.account_id, request.match_info["sys"])
    sub_id, credits = text_field(form, "subscription_id"), text_field(form, "credits")
    date, time = text_field(form, "auto_revoke_date"), text_field(form, "auto_revoke_time") or "00:00"
    kept = (date, time) if form.get("auto_revoke") else None

    async def again(problem: str, status: int = 400) -> web.Response:
        return await add_credits_page(
            request, who, system, sub_id, second=True, credits=credits, problem=problem, auto_revoke=kept, status=status
        )

    if not sub_id:
        return await add_credits_page(
            request, who, system, "", second=False, problem="Choose a subscription first.", status=400
        )
    if not credits:
        return await again("Enter the number of credits to assign.")
    if kept is not None and not date:
        return await again("Choose the date (and time) for Auto Revoke, or switch Auto Revoke off.")
    try:
        subscription_id, quarters, auto_revoke_at = parse_assignment(
            {"subscription_id": sub_id, "credits": credits, "auto_revoke_at": f"{date}T{time}" if kept else None}
        )
        assigned = await request.app[TRANSFERS].assign(
            who.account_id, system.id, subscription_id, quarters, auto_revoke_at, who.actor
        )
    except ApiError as exc:
        return await again(exc.message, exc.status)
    item, order = assigned.assignment, assigned.subscription.order_id
    if item.downloaded:
        message = f"{format_credits(item.quarters)} credits from {order} were sent to {system.label}."
    else:
        message = (
            f"{format_credits(item.quarters)} credits from {order} were added for {system.label}. "
            "The system is offline: click Download and upload the file on HOME's FileLicenses page."
        )
    return redirect(request, system_url(system), Flash(kind="success", message=message))


async def owned_assignment(request: web.Request, system: System) -> Assignment:
    return await request.app[SYSTEMS].assignment(system, request.match_info["id"])


@routes.get("/accounts/{acc}/systems/{sys}/assignments/{id}/revoke")
async def get_revoke(request: web.Request) -> web.Response:
    who = await page_caller(request)
    system = await request.app[SYSTEMS].owned(who.account_id, request.match_info["sys"])
    return await revoke_page(request, who, system, await owned_assignment(request, system))


async def revoke_page(
    request: web.Request,
    who: Caller,
    system: System,
    item: Assignment,
    *,
    problem: str = "",
    revoke_key: str = "",
    status: int = 200,
) -> web.Response:
    """The Revoke dialog: confirm, or for a revoke waiting for HOME's proof the four steps (a refusal shown in it)."""
    sub = await request.app[DB].read.subscriptions.get(item.subscription_id)
    assert sub is not None
    held = await request.app[SYSTEMS].quarters_held(system)
    context = {
        "system": system,
        "online": system.online,
        "usage_warning": revoke_usage_warning(system, system.online, held, item),
        "item": assignment_view(item, sub),
        "steps": rules.REVOKE_STEPS,
        "problem": problem,
        "revoke_key": revoke_key,
    }
    return await render(request, "revoke.html", who, context, section="systems", status=status)


@routes.post("/accounts/{acc}/systems/{sys}/assignments/{id}/revoke")
async def post_revoke(request: web.Request) -> web.Response:
    form = await read_form(request)
    who = await page_caller(request)
    system = await request.app[SYSTEMS].owned(who.account_id, request.match_info["sys"])
    item = await owned_assignment(request, system)
    here = f"{system_url(system)}/assignments/{item.id}/revoke"
    try:
        item = await request.app[TRANSFERS].revoke(who.account_id, system.id, item.id, who.actor, form.get("confirm"))
    except ApiError as exc:
        return await revoke_page(request, who, system, item, problem=exc.message, status=exc.status)
    if item.state == AssignmentState.REVOKE_PENDING:
        return redirect(
            request,
            here,
            Flash(
                kind="info",
                message="HOME holds a copy of these credits, so they come back once HOME proves it dropped them. "
                "Follow the four steps below.",
            ),
        )
    return redirect(
        request,
        system_url(system),
        Flash(
            kind="success", message=f"Revoked: {format_credits(item.quarters)} credits are back in their subscription."
        ),
    )


@routes.get("/accounts/{acc}/systems/{sys}/revoke-key")
async def get_revoke_key(request: web.Request) -> web.Response:
    who = await page_caller(request)
    return await revoke_key_page(
        request, who, await request.app[SYSTEMS].owned(who.account_id, request.match_info["sys"])
    )


async def revoke_key_page(
    request: web.Request, who: Caller, system: System, *, problem: str = "", revoke_key: str = "", status: int = 200
) -> web.Response:
    db = request.app[DB]
    pending = await db.read.assignments.on_system(system.id, (AssignmentState.REVOKE_PENDING,))
    subs = {sub.id: sub for sub in await db.read.subscriptions.of_account(who.account_id)}
    context = {
        "system": system,
        "pending": [assignment_view(item, subs[item.subscription_id]) for item in pending],
        "problem": problem,
        "revoke_key": revoke_key,
    }
    return await render(request, "revoke_key.html", who, context, section="systems", status=status)


@routes.post("/accounts/{acc}/systems/{sys}/revoke-key")
async def post_revoke_key(request: web.Request) -> web.Response:
    form = await read_form(request)
    who = await page_caller(request)
    system = await request.app[SYSTEMS].owned(who.account_id, request.match_info["sys"])
    key = text_field(form, "revoke_key")
    pending_id = text_field(form, "assignment_id")  # sent by the four steps of a pending revoke

    async def again(problem: str, status: int = 400) -> web.Response:
        """The same dialog again, with the problem and the key as pasted (unless it is far too long to show)."""
        kept = key if len(key) <= MAX_RECEIPT_BYTES else ""
        item = await request.app[DB].read.assignments.get(pending_id) if pending_id else None
        if item is not None and item.system_id == system.id:
            return await revoke_page(request, who, system, item, problem=problem, revoke_key=kept, status=status)
        return await revoke_key_page(request, who, system, problem=problem, revoke_key=kept, status=status)

    if not key:
        return await again("Paste the revoke key HOME shows on Licenses → Credits.")
    if len(key) > MAX_RECEIPT_BYTES:
        return await again("That is far too long to be a revoke key.")
    try:
        returned = await request.app[SYSTEMS].enter_revoke_key(who.account_id, system.id, key, who.actor)
    except ApiError as exc:
        return await again(f"The revoke key was refused: {exc.message}", exc.status)
    if returned:
        count = len(returned)
        credits = format_credits(sum(item.quarters for item in returned))
        message = f"Revoke key accepted: {credits} credits came back ({count} assignment{'s' if count != 1 else ''})."
        return redirect(request, system_url(system), Flash(kind="success", message=message))
    return redirect(
        request,
        system_url(system),
        Flash(kind="info", message="Revoke key accepted. No credits were waiting for it, so nothing changed."),
    )
