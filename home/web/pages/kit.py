"""HOME's pages: Jinja set-up, the common page context, CSRF tokens, flash messages and the error page.

CSRF: a signed double-submit token. The token is a random nonce with an HMAC from the page secret;
a form is accepted only when its hidden field equals the cookie and the HMAC verifies.
"""

import secrets
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import structlog
from aiohttp import web
from multidict import MultiDictProxy

from flex_emulator.home.appkeys import CONFIG, LINK, NODE
from flex_emulator.home.domain.wording import credit_noun
from flex_emulator.shared import bodies, pagekit
from flex_emulator.shared.errors import Forbidden
from flex_emulator.shared.keys import load_or_create_secret
from flex_emulator.shared.quarters import format_credits

log = structlog.get_logger()

HERE = Path(__file__).parents[2]  # the home package: templates/ and static/ sit at its root
TEMPLATES = HERE / "templates"
HOME_STATIC = HERE / "static"
FLASH_COOKIE = "home_flash"  # plus this HOME's system id: see cookie_name
CSRF_COOKIE = "home_csrf"
CSRF_FIELD = "csrf_token"
_REQUEST_TOKEN = web.RequestKey("home_csrf_token", str)  # the token chosen for this request, to set as a cookie

# One meaning per word, as in the portal: Online / Offline say whether a live link to the cloud is up right
# now; Disconnected says the link is switched off here (Settings → Licensing cloud, or --offline): the portal,
# which cannot tell why a link is down, shows such a system Offline.
LINK_BADGES = {
    "online": ("badge-online", "Online"),
    "connecting": ("badge-offline", "Connecting…"),
    "offline": ("badge-offline", "Offline"),
    "disabled": ("badge-offline", "Disconnected"),
    "not_linked": ("badge-warning", "Not linked"),
}
ERROR_TITLES = {403: "Not allowed", 404: "Page not found", 405: "Not allowed here", 413: "Too large"}


class CsrfError(Forbidden):
    """A form post without a matching token: the error middleware answers it (an error page for a browser)."""

    code = "csrf_failed"

    def __init__(self, reason: str) -> None:
        super().__init__(f"{reason} Nothing was changed. Reload the page and try again.")


def cookie_name(request: web.Request, base: str) -> str:
    """A cookie name unique to this HOME: browsers share cookies across ports of one host,
    so two HOMEs on one laptop would otherwise overwrite each other's cookies."""
    return f"{base}_{request.app[NODE].system_id}"


# --- CSRF ------------------------------------------------------------------------------------------


def _token_is_valid(request: web.Request, token: str | None) -> bool:
    if not token or token.count(".") != 1:
        return False
    nonce, mac = token.split(".")
    return pagekit.matches(mac, pagekit.sign(request, "csrf", nonce)[:32])


def csrf_token(request: web.Request) -> str:
    """The token to put in this page's forms: the cookie's, or a new one (then set as a cookie)."""
    current = request.cookies.get(cookie_name(request, CSRF_COOKIE))
    if current is not None and _token_is_valid(request, current):
        return current
    if _REQUEST_TOKEN not in request:
        nonce = secrets.token_urlsafe(18)
        request[_REQUEST_TOKEN] = f"{nonce}.{pagekit.sign(request, 'csrf', nonce)[:32]}"
    return str(request[_REQUEST_TOKEN])


def check_csrf(request: web.Request, submitted: str | None) -> None:
    """Refuse a form whose hidden token does not match the cookie, or that came from another site."""
    if not pagekit.same_origin(request):
        raise CsrfError("The form was sent from another site.")
    cookie = request.cookies.get(cookie_name(request, CSRF_COOKIE))
    if not submitted or not cookie or not pagekit.matches(submitted, cookie):
        raise CsrfError("The form's security token is missing or does not match.")
    if not _token_is_valid(request, cookie):
        raise CsrfError("The form's security token has expired.")


async def checked_form(request: web.Request) -> MultiDictProxy[Any]:
    if not pagekit.same_origin(request):
        raise CsrfError("The form was sent from another site.")
    form = await bodies.read_form(request)
    field = form.get(CSRF_FIELD)
    check_csrf(request, field if isinstance(field, str) else None)
    return form


# --- flash, redirect, render ---------------------------------------------------------------------


async def render(
    request: web.Request, template: str, context: dict[str, Any], *, active: str, status: int = 200
) -> web.Response:
    """A page in the common layout (top bar with label and link state, navigation, one-time message)."""
    node = request.app[NODE]
    link = request.app[LINK]
    badge_class, badge_text = LINK_BADGES.get(link.state, ("badge-offline", link.state))
    flash_cookie = cookie_name(request, FLASH_COOKIE)
    message = pagekit.read_flash(request, flash_cookie)
    page = {
        "label": node.label,
        "system_id": node.system_id,
        "link_state": link.state,
        "badge_class": badge_class,
        "badge_text": badge_text,
        "active": active,
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token(request),
        "flash": message,
        **context,
    }
    response = aiohttp_jinja2.render_template(template, request, page, status=status)
    if _REQUEST_TOKEN in request:
        response.set_cookie(
            cookie_name(request, CSRF_COOKIE), request[_REQUEST_TOKEN], httponly=True, samesite="Strict", path="/"
        )
    if message is not None or flash_cookie in request.cookies:
        response.del_cookie(flash_cookie, path="/")
    return response


async def render_error_page(request: web.Request, status: int, code: str, message: str) -> web.StreamResponse:
    context = {
        "status": status,
        "code": code,
        "message": message,
        "title": ERROR_TITLES.get(status, "Something went wrong"),
    }
    try:
        return await render(request, "error.html", context, active="", status=status)
    except Exception:  # the layout itself failed (e.g. during start-up): plain text still explains
        log.exception("error_page_failed", status=status)
        return web.Response(status=status, text=f"{status} {message}", content_type="text/plain")


def setup(app: web.Application) -> None:
    """Templates, filters, the page secret, security headers and the static files (routes are added by create_app)."""
    app[pagekit.FLASH_COOKIE] = lambda request: cookie_name(request, FLASH_COOKIE)
    app[pagekit.CSRF_SECRET] = load_or_create_secret(app[CONFIG].data_dir / "page-secret")
    filters = {"credits": format_credits, "credit_noun": credit_noun}
    pagekit.setup_templates(app, TEMPLATES, filters, trim_blocks=True, lstrip_blocks=True)
    app.router.add_static("/static/home/", HOME_STATIC, name="home_static")
    app.router.add_static("/static/", pagekit.SHARED_STATIC, name="static")
    app.on_response_prepare.append(pagekit.protect_page)
