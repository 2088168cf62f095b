"""The portal's pages: templates, static files, sessions and CSRF, flash messages, rendering and the error page.

CSRF: every POST form carries ``csrf`` = HMAC(page secret, session token). The sign-in form,
which has no session yet, uses a random pre-session cookie instead (double submit).
The check runs before a handler does anything else.
"""

import secrets
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import structlog
from aiohttp import web
from multidict import MultiDictProxy
from yarl import URL

from flex_emulator.cloud.appkeys import ACCOUNTS, CLOCK, CONFIG
from flex_emulator.cloud.domain.models import User
from flex_emulator.cloud.web.access import SESSION_COOKIE, Caller, authenticate, caller
from flex_emulator.shared import bodies, pagekit
from flex_emulator.shared.errors import ApiError, Forbidden, Unauthorized
from flex_emulator.shared.keys import load_or_create_secret
from flex_emulator.shared.pagekit import Flash, from_dialog, safe_next

log = structlog.get_logger()

SERVICE = Path(__file__).parents[2]  # the cloud package: templates/ and static/ sit at its root
TEMPLATES = SERVICE / "templates"
STATIC = SERVICE / "static"
CSRF_FIELD = "csrf"
PRESESSION_COOKIE = "flex_presession"
FLASH_COOKIE = "flex_flash"
FormData = MultiDictProxy[str | bytes | bytearray | web.FileField]

CSRF_REFUSED = (
    "This form has expired or did not come from the portal, so nothing was changed. Reload the page and try again."
)
ERROR_TITLES = {
    400: "That did not work",
    403: "Not allowed",
    404: "Not found",
    405: "Not possible here",
    413: "Too large",
    500: "Something went wrong",
}


def setup(app: web.Application) -> None:
    """Templates, filters, the page secret, security headers and static files (create_app adds the page routes)."""
    app[pagekit.FLASH_COOKIE] = lambda request: FLASH_COOKIE
    app[pagekit.CSRF_SECRET] = load_or_create_secret(app[CONFIG].data_dir / "page-secret")
    env = pagekit.setup_templates(app, TEMPLATES, {}, default_helpers=False)
    env.globals["shared_stylesheet"] = shared_stylesheet
    env.globals["emulator_api"] = app[CONFIG].emulator_api
    app.router.add_static("/static/portal", STATIC)
    if pagekit.SHARED_STATIC.is_dir():
        app.router.add_static("/static", pagekit.SHARED_STATIC)
    app.on_response_prepare.append(pagekit.protect_page)


def shared_stylesheet() -> bool:
    """The shared stylesheet is linked only once it exists (it is written alongside the HOME pages)."""
    return (pagekit.SHARED_STATIC / "style.css").is_file()


# --- sessions and CSRF ------------------------------------------------------------------------------


def session_csrf(request: web.Request) -> str:
    token = request.cookies.get(SESSION_COOKIE, "")
    return pagekit.sign(request, "session", token) if token else ""


def signin_csrf(request: web.Request, presession: str) -> str:
    return pagekit.sign(request, "signin", presession)


def new_presession() -> str:
    return secrets.token_urlsafe(24)


async def read_form(request: web.Request, *, signin: bool = False) -> FormData:
    """The posted form, only when it comes from the portal's own pages and its CSRF token matches;
    otherwise nothing happens (403). A form that cannot be read (not UTF-8, malformed) is a 400."""
    pagekit.require_same_origin(request)
    basis = request.cookies.get(PRESESSION_COOKIE if signin else SESSION_COOKIE, "")
    if not basis and not signin:
        raise Unauthorized("Your session has ended; sign in again.")
    form = await bodies.read_form(request)
    expected = pagekit.sign(request, "signin" if signin else "session", basis)
    if not basis or not pagekit.matches(form.get(CSRF_FIELD), expected):
        raise Forbidden(CSRF_REFUSED, code="csrf_failed")
    return form


def text_field(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


async def page_caller(request: web.Request, *, admin: bool = False) -> Caller:
    """The signed-in member for a page under /accounts/{acc}/ (no session: sign-in page; outsider: 404)."""
    return await caller(request, admin=admin, cookie=True)


# --- flash, redirect, render --------------------------------------------------------------------------


async def render(
    request: web.Request,
    template: str,
    who: Caller | None,
    context: dict[str, Any],
    *,
    section: str = "",
    status: int = 200,
    user: User | None = None,
) -> web.Response:
    """A portal page with what every page shows: the user, the account menu, the flash, the CSRF token.

    ``who`` is the member of the account in the URL; ``user`` alone is for pages outside an account.
    """
    if status >= 400 and from_dialog(request) and request.method == "POST":
        # to the dialog's script a refusal is the dialog again, its answer:
        # not a failed request in the browser's console
        status = 200
    user = who.user if who else user
    accounts = await request.app[ACCOUNTS].memberships(user) if user else []
    current = next((item for item in accounts if who and item.account_id == who.account_id), None)
    base = {
        "who": who,
        "user": user,
        "accounts": accounts,
        "account": current,
        "is_admin": who is not None and who.role == "admin",
        "csrf": session_csrf(request),
        "flash": pagekit.read_flash(request, FLASH_COOKIE),
        "section": section,
        "now": request.app[CLOCK].now(),
    }
    response = aiohttp_jinja2.render_template(template, request, {**base, **context}, status=status)
    if base["flash"] is not None:
        response.del_cookie(FLASH_COOKIE, path="/")
    return response


async def render_error_page(request: web.Request, status: int, code: str, message: str) -> web.StreamResponse:
    """The error middleware's answer for a browser: sign-in for a missing session, else a friendly page."""
    if status == 401:
        target = request.path_qs if request.method == "GET" else None
        location = "/signin" if target in (None, "/") else str(URL("/signin").with_query(next=safe_next(target)))
        text = (
            "Please sign in to continue."
            if request.method == "GET"
            else "Your session has ended; please sign in again."
        )
        response = pagekit.redirect(request, location, Flash(kind="info", message=text))
        response.del_cookie(SESSION_COOKIE, path="/")
        return response
    title = ERROR_TITLES.get(status, "Something is not right")
    context = {"status": status, "title": title, "message": message, "code": code}
    try:
        user = await authenticate(request, cookie=True) if status != 500 else None
    except ApiError:
        user = None
    try:
        return await render(request, "error.html", None, context, status=status, user=user)
    except Exception:  # the page itself failed; still answer the person in plain words
        log.exception("error_page_failed", status=status)
        return web.Response(text=f"{status} {title}: {message}", status=status)
