"""Portal pages: the account's subscriptions, with Activate and Cancel for admins (each confirmed in a dialog)."""

from aiohttp import web

from flex_emulator.cloud.appkeys import CLOCK, DB, SUBSCRIPTIONS
from flex_emulator.cloud.domain import rules
from flex_emulator.cloud.web.access import Caller
from flex_emulator.cloud.web.pages.kit import page_caller, read_form, render
from flex_emulator.cloud.web.pages.view_models import subscription_view
from flex_emulator.shared.errors import ApiError
from flex_emulator.shared.pagekit import Flash, day, redirect

routes = web.RouteTableDef()

CHANGES = ("activate", "cancel")


@routes.get("/accounts/{acc}/subscriptions")
async def get_subscriptions(request: web.Request) -> web.Response:
    who = await page_caller(request)
    now = request.app[CLOCK].now()
    subs = [subscription_view(sub, now) for sub in await request.app[DB].read.subscriptions.of_account(who.account_id)]
    return await render(request, "subscriptions.html", who, {"subscriptions": subs}, section="subscriptions")


async def change_page(
    request: web.Request, who: Caller, change: str, *, problem: str = "", status: int = 200
) -> web.Response:
    """The dialog that confirms Activate or Cancel: what happens, then one button."""
    sub = await request.app[SUBSCRIPTIONS].owned(who.account_id, request.match_info["sub"])
    now = request.app[CLOCK].now()
    context = {
        "sub": subscription_view(sub, now),
        "change": change,
        "term_end_if_activated": rules.term_end(now, sub.duration),
        "problem": problem,
    }
    return await render(request, "subscription_change.html", who, context, section="subscriptions", status=status)


@routes.get("/accounts/{acc}/subscriptions/{sub}/{change:activate|cancel}")
async def get_change(request: web.Request) -> web.Response:
    who = await page_caller(request, admin=True)
    return await change_page(request, who, request.match_info["change"])


@routes.post("/accounts/{acc}/subscriptions/{sub}/{change:activate|cancel}")
async def post_change(request: web.Request) -> web.Response:
    await read_form(request)
    who = await page_caller(request, admin=True)
    change = request.match_info["change"]
    service = request.app[SUBSCRIPTIONS]
    try:
        if change == "activate":
            sub = await service.activate(who.account_id, request.match_info["sub"], who.actor)
            message = f"Subscription {sub.order_id} is active; its term ends {day(sub.term_end)}."
        else:
            sub = await service.cancel(who.account_id, request.match_info["sub"], who.actor)
            message = f"Subscription {sub.order_id} is cancelled. Its credits stay usable until {day(sub.term_end)}."
    except ApiError as exc:
        return await change_page(request, who, change, problem=exc.message, status=exc.status)
    return redirect(request, f"/accounts/{who.account_id}/subscriptions", Flash(kind="success", message=message))
