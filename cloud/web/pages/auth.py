"""Portal pages: sign in, sign out, and choosing an account."""

from aiohttp import web

from flex_emulator.cloud.appkeys import ACCOUNTS
from flex_emulator.cloud.web.access import SESSION_COOKIE, authenticate
from flex_emulator.cloud.web.pages.kit import (
    PRESESSION_COOKIE,
    new_presession,
    page_caller,
    read_form,
    render,
    signin_csrf,
    text_field,
)
from flex_emulator.shared.errors import ApiError, Forbidden, Unauthorized
from flex_emulator.shared.pagekit import Flash, redirect, safe_next, see_other

routes = web.RouteTableDef()


@routes.get("/")
async def get_home(request: web.Request) -> web.Response:
    try:
        user = await authenticate(request, cookie=True)
    except Unauthorized:
        return see_other("/signin")
    accounts = await request.app[ACCOUNTS].memberships(user)
    if len(accounts) == 1 and not await request.app[ACCOUNTS].invitations_for(user):
        return see_other(f"/accounts/{accounts[0].account_id}/systems")
    return see_other("/accounts")


@routes.get("/accounts")
async def get_accounts(request: web.Request) -> web.Response:
    user = await authenticate(request, cookie=True)
    invitations = await request.app[ACCOUNTS].invitations_for(user)
    return await render(request, "accounts.html", None, {"invitations": invitations}, user=user)


@routes.post("/invitations/{inv}/accept")
async def accept_invitation(request: web.Request) -> web.Response:
    await read_form(request)
    user = await authenticate(request, cookie=True)
    try:
        joined = await request.app[ACCOUNTS].accept(user, request.match_info["inv"])
    except ApiError as exc:
        return redirect(request, "/accounts", Flash(kind="error", message=exc.message))
    return redirect(
        request,
        f"/accounts/{joined.account_id}/systems",
        Flash(kind="success", message=f"You joined {joined.account_name} as {joined.role}."),
    )


@routes.post("/invitations/{inv}/decline")
async def decline_invitation(request: web.Request) -> web.Response:
    await read_form(request)
    user = await authenticate(request, cookie=True)
    try:
        await request.app[ACCOUNTS].decline(user, request.match_info["inv"])
    except ApiError as exc:
        return redirect(request, "/accounts", Flash(kind="error", message=exc.message))
    return redirect(request, "/accounts", Flash(kind="info", message="The invitation is declined; nothing changed."))


@routes.get("/accounts/{acc}")
async def get_account(request: web.Request) -> web.Response:
    who = await page_caller(request)
    return see_other(f"/accounts/{who.account_id}/systems")


@routes.get("/signin")
async def get_signin(request: web.Request) -> web.Response:
    target = safe_next(request.query.get("next"))
    try:
        await authenticate(request, cookie=True)
        return see_other(target)
    except Unauthorized:
        pass
    return await signin_page(request, target)


async def signin_page(
    request: web.Request, target: str, *, email: str = "", problem: str = "", status: int = 200
) -> web.Response:
    """The sign-in form; after a refusal, again with the problem and the email as typed (never the password)."""
    presession = request.cookies.get(PRESESSION_COOKIE) or new_presession()
    context = {"signin_csrf": signin_csrf(request, presession), "next": target, "email": email, "problem": problem}
    response = await render(request, "signin.html", None, context, status=status)
    response.set_cookie(PRESESSION_COOKIE, presession, httponly=True, samesite="Lax", path="/", secure=request.secure)
    return response


@routes.post("/signin")
async def post_signin(request: web.Request) -> web.Response:
    try:
        form = await read_form(request, signin=True)
    except Forbidden as exc:
        if exc.code != "csrf_failed":  # another site's page: refused outright
            raise
        return redirect(
            request, "/signin", Flash(kind="error", message="The sign-in form had expired. Please try again.")
        )
    target = safe_next(text_field(form, "next"))
    email, password = text_field(form, "email"), text_field(form, "password")
    if not email or not password:
        return await signin_page(
            request, target, email=email[:320], problem="Enter your email and password.", status=400
        )
    try:
        token, _ = await request.app[ACCOUNTS].sign_in(email, password)
    except Unauthorized as exc:
        return await signin_page(request, target, email=email[:320], problem=exc.message, status=401)
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:
        await request.app[ACCOUNTS].sign_out(previous)
    response = see_other(target)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Lax", path="/", secure=request.secure)
    response.del_cookie(PRESESSION_COOKIE, path="/")
    return response


@routes.post("/signout")
async def post_signout(request: web.Request) -> web.Response:
    await read_form(request)
    await request.app[ACCOUNTS].sign_out(request.cookies[SESSION_COOKIE])
    response = redirect(request, "/signin", Flash(kind="info", message="You are signed out."))
    response.del_cookie(SESSION_COOKIE, path="/")
    return response
