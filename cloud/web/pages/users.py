"""Portal pages: Users (admins manage members and roles) and the account's History."""

from aiohttp import web
from yarl import URL

from flex_emulator.cloud.appkeys import ACCOUNTS, DB
from flex_emulator.cloud.domain import rules
from flex_emulator.cloud.web.access import Caller
from flex_emulator.cloud.web.pages.kit import page_caller, read_form, render, text_field
from flex_emulator.cloud.web.pages.view_models import event_view, system_labels
from flex_emulator.shared.errors import ApiError
from flex_emulator.shared.pagekit import Flash, redirect
from flex_emulator.shared.web import whole_number

routes = web.RouteTableDef()

HISTORY_PAGE = 50
HISTORY_FILTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "credits": ("Credit movements", ("assigned", "returned", "revoke_requested", "revoke_key_entered")),
    "files": ("Credits files and check-ins", ("snapshot_issued",)),
    "subscriptions": (
        "Subscriptions",
        (
            "subscription_created",
            "subscription_activated",
            "subscription_cancelled",
            "subscription_renewed",
            "subscription_expired",
        ),
    ),
    "systems": ("Systems linked or unlinked", ("system_linked", "system_unlinked")),
}


@routes.get("/accounts/{acc}/users")
async def get_users(request: web.Request) -> web.Response:
    return await users_page(request, await page_caller(request, admin=True))


async def users_page(
    request: web.Request, who: Caller, *, problem: str = "", email: str = "", role: str = "operator", status: int = 200
) -> web.Response:
    """The members and the Add a member form; after a refusal, with the problem and the email and role as chosen."""
    members = await request.app[DB].read.accounts.members(who.account_id)
    invitations = await request.app[DB].read.accounts.invitations_of(who.account_id)
    context = {
        "members": members,
        "invitations": invitations,
        "roles": rules.ROLES,
        "problem": problem,
        "email": email,
        "role": role,
    }
    return await render(request, "users.html", who, context, section="users", status=status)


@routes.post("/accounts/{acc}/users")
async def post_user(request: web.Request) -> web.Response:
    form = await read_form(request)
    who = await page_caller(request, admin=True)
    back = f"/accounts/{who.account_id}/users"
    email, role, password = text_field(form, "email"), text_field(form, "role"), text_field(form, "password")

    async def again(problem: str, status: int = 400) -> web.Response:
        return await users_page(request, who, problem=problem, email=email[:320], role=role, status=status)

    if not email:
        return await again("Enter the email address of the person to invite.")
    try:
        invitation = await request.app[ACCOUNTS].invite(who.account_id, email, password or None, role, who.actor)
    except ApiError as exc:
        return await again(exc.message, exc.status)
    message = f"{invitation.email} is invited as {role}: they join once they accept, signed in, on their Accounts page."
    return redirect(request, back, Flash(kind="success", message=message))


@routes.post("/accounts/{acc}/invitations/{inv}/withdraw")
async def withdraw_invitation(request: web.Request) -> web.Response:
    await read_form(request)
    who = await page_caller(request, admin=True)
    back = f"/accounts/{who.account_id}/users"
    try:
        invitation = await request.app[ACCOUNTS].withdraw(who.account_id, request.match_info["inv"])
    except ApiError as exc:
        return redirect(request, back, Flash(kind="error", message=exc.message))
    return redirect(request, back, Flash(kind="info", message=f"The invitation for {invitation.email} is withdrawn."))


async def remove_page(request: web.Request, who: Caller, *, problem: str = "", status: int = 200) -> web.Response:
    """The dialog that confirms removing a member."""
    member = await request.app[ACCOUNTS].member(who.account_id, request.match_info["user_id"])
    context = {"member": member, "problem": problem}
    return await render(request, "remove_user.html", who, context, section="users", status=status)


@routes.get("/accounts/{acc}/users/{user_id}/remove")
async def get_remove_user(request: web.Request) -> web.Response:
    return await remove_page(request, await page_caller(request, admin=True))


@routes.post("/accounts/{acc}/users/{user_id}/remove")
async def remove_user(request: web.Request) -> web.Response:
    await read_form(request)
    who = await page_caller(request, admin=True)
    back = f"/accounts/{who.account_id}/users"
    members = {item.user_id: item.email for item in await request.app[DB].read.accounts.members(who.account_id)}
    try:
        await request.app[ACCOUNTS].remove_member(who.account_id, request.match_info["user_id"])
    except ApiError as exc:
        return await remove_page(request, who, problem=exc.message, status=exc.status)
    removed = request.match_info["user_id"]
    message = f"{members.get(removed, 'The user')} was removed from this account."
    return redirect(request, "/" if removed == who.user.id else back, Flash(kind="success", message=message))


@routes.get("/accounts/{acc}/history")
async def get_history(request: web.Request) -> web.Response:
    """The account's events, newest first, a page at a time, narrowed to one kind of event and/or one system."""
    who = await page_caller(request)
    db = request.app[DB]
    systems = system_labels(await db.read.systems.of_account(who.account_id))
    orders = {sub.id: sub.order_id for sub in await db.read.subscriptions.of_account(who.account_id)}
    what = request.query.get("what", "")
    what = what if what in HISTORY_FILTERS else ""
    system = request.query.get("system", "")
    system = system if system in systems else ""
    before = request.query.get("before", "")
    before_id = whole_number(before)  # "²" or "１" is no event id: the first page
    found = await db.read.ledger.history(
        who.account_id,
        HISTORY_PAGE + 1,
        before_id=before_id,
        system_id=system or None,
        kinds=HISTORY_FILTERS[what][1] if what else (),
    )
    shown = found[:HISTORY_PAGE]
    filters = {key: value for key, value in (("what", what), ("system", system)) if value}
    older = (
        str(URL(request.path).with_query({**filters, "before": str(shown[-1].id)})) if len(found) > HISTORY_PAGE else ""
    )
    newest = str(URL(request.path).with_query(filters)) if before_id is not None else ""
    context = {
        "events": [event_view(item, systems, orders) for item in shown],
        "filters": {key: label for key, (label, _) in HISTORY_FILTERS.items()},
        "what": what,
        "system": system,
        "systems": sorted(systems.items(), key=lambda pair: pair[1].lower()),
        "older": older,
        "newest": newest,
        "page_size": HISTORY_PAGE,
    }
    return await render(request, "history.html", who, context, section="history")
