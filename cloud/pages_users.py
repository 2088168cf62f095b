"""Portal pages: Users (admins manage members and roles) and the account's History."""

from aiohttp import web

from cloud import rules
from cloud.appkeys import ACCOUNTS, DB
from cloud.display import event_view, system_labels
from cloud.site import page_caller, read_form, redirect, render, text_field
from shared.errors import ApiError

routes = web.RouteTableDef()

HISTORY_LIMIT = 500


@routes.get("/accounts/{acc}/users")
async def get_users(request: web.Request) -> web.Response:
    who = await page_caller(request, admin=True)
    members = await request.app[DB].read.accounts.members(who.account_id)
    return await render(request, "users.html", who, {"members": members, "roles": rules.ROLES}, section="users")


@routes.post("/accounts/{acc}/users")
async def post_user(request: web.Request) -> web.Response:
    form = await read_form(request)
    who = await page_caller(request, admin=True)
    back = f"/accounts/{who.account_id}/users"
    email, role, password = text_field(form, "email"), text_field(form, "role"), text_field(form, "password")
    if not email:
        return redirect(request, back, "error", "Enter the email address of the user to add.")
    if len(email) > 320 or len(password) > 1024:
        return redirect(request, back, "error", "The email or password is too long.")
    try:
        await request.app[ACCOUNTS].add_member(who.account_id, email, password or None, role)
    except ApiError as exc:
        return redirect(request, back, "error", exc.message)
    return redirect(request, back, "success", f"{email} is now a member of this account as {role}.")


@routes.post("/accounts/{acc}/users/{user_id}/remove")
async def remove_user(request: web.Request) -> web.Response:
    await read_form(request)
    who = await page_caller(request, admin=True)
    back = f"/accounts/{who.account_id}/users"
    members = {item.user_id: item.email for item in await request.app[DB].read.accounts.members(who.account_id)}
    try:
        await request.app[ACCOUNTS].remove_member(who.account_id, request.match_info["user_id"])
    except ApiError as exc:
        return redirect(request, back, "error", exc.message)
    removed = request.match_info["user_id"]
    message = f"{members.get(removed, 'The user')} was removed from this account."
    return redirect(request, "/" if removed == who.user.id else back, "success", message)


@routes.get("/accounts/{acc}/history")
async def get_history(request: web.Request) -> web.Response:
    who = await page_caller(request)
    db = request.app[DB]
    systems = system_labels(await db.read.systems.of_account(who.account_id))
    orders = {sub.id: sub.order_id for sub in await db.read.subscriptions.of_account(who.account_id)}
    events = [event_view(item, systems, orders) for item in await db.read.ledger.history(who.account_id, HISTORY_LIMIT)]
    return await render(request, "history.html", who, {"events": events, "limit": HISTORY_LIMIT}, section="history")
