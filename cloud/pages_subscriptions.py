"""Portal pages: the account's subscriptions, with Activate and Cancel for admins."""

from aiohttp import web

from cloud.appkeys import CLOCK, DB, SUBSCRIPTIONS
from cloud.display import subscription_view
from cloud.site import page_caller, read_form, redirect, render
from shared.errors import ApiError
from shared.pagekit import day

routes = web.RouteTableDef()


@routes.get("/accounts/{acc}/subscriptions")
async def get_subscriptions(request: web.Request) -> web.Response:
    who = await page_caller(request)
    now = request.app[CLOCK].now()
    subs = [subscription_view(sub, now) for sub in await request.app[DB].read.subscriptions.of_account(who.account_id)]
    return await render(request, "subscriptions.html", who, {"subscriptions": subs}, section="subscriptions")


@routes.post("/accounts/{acc}/subscriptions/{sub}/activate")
async def activate_subscription(request: web.Request) -> web.Response:
    await read_form(request)
    who = await page_caller(request, admin=True)
    back = f"/accounts/{who.account_id}/subscriptions"
    try:
        sub = await request.app[SUBSCRIPTIONS].activate(who.account_id, request.match_info["sub"], who.actor)
    except ApiError as exc:
        return redirect(request, back, "error", exc.message)
    return redirect(request, back, "success", f"Subscription {sub.order_id} is active; its term ends {day(sub.term_end)}.")


@routes.post("/accounts/{acc}/subscriptions/{sub}/cancel")
async def cancel_subscription(request: web.Request) -> web.Response:
    await read_form(request)
    who = await page_caller(request, admin=True)
    back = f"/accounts/{who.account_id}/subscriptions"
    try:
        sub = await request.app[SUBSCRIPTIONS].cancel(who.account_id, request.match_info["sub"], who.actor)
    except ApiError as exc:
        return redirect(request, back, "error", exc.message)
    return redirect(
        request, back, "success", f"Subscription {sub.order_id} is cancelled. Its credits stay usable until {day(sub.term_end)}."
    )
