"""Server-rendered HOME pages: Jinja set-up, the shared page context, flash messages and the error page."""

import base64
import hashlib
import hmac
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from home import csrf
from home.appkeys import CONFIG_KEY, LINK_KEY, NODE_KEY
from home.wording import credit_noun
from shared.credits import format_credits
from shared.keys import load_or_create_secret
from shared.timefmt import iso

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
HOME_STATIC = HERE / "static"
SHARED_STATIC = HERE.parent / "shared" / "static"
FLASH_COOKIE = "home_flash"  # plus this HOME's system id: see csrf.cookie_name

LINK_BADGES = {
    "online": ("badge-online", "Online"),
    "connecting": ("badge-offline", "Connecting…"),
    "offline": ("badge-offline", "Offline"),
    "disabled": ("badge-offline", "Disconnected"),
    "not_linked": ("badge-warning", "Not linked"),
}


@dataclass(frozen=True)
class Flash:
    kind: str  # success | info | warning | error
    title: str
    message: str


def _sign(secret: bytes, data: str) -> str:
    return hmac.new(secret, data.encode(), hashlib.sha256).hexdigest()[:32]


def flash(request: web.Request, response: web.StreamResponse, message: Flash) -> None:
    """Show ``message`` once, on the page the browser is redirected to."""
    data = base64.urlsafe_b64encode(json.dumps(asdict(message)).encode()).decode()
    value = f"{data}.{_sign(request.app[csrf.SECRET_KEY], data)}"
    response.set_cookie(csrf.cookie_name(request, FLASH_COOKIE), value, httponly=True, samesite="Strict", path="/", max_age=120)


def _take_flash(request: web.Request) -> Flash | None:
    raw = request.cookies.get(csrf.cookie_name(request, FLASH_COOKIE))
    if not raw or raw.count(".") != 1:
        return None
    data, mac = raw.split(".")
    if not hmac.compare_digest(mac, _sign(request.app[csrf.SECRET_KEY], data)):
        return None
    try:
        fields = json.loads(base64.urlsafe_b64decode(data.encode()))
        return Flash(str(fields["kind"]), str(fields["title"]), str(fields["message"]))
    except (ValueError, KeyError, TypeError):
        return None


def redirect(request: web.Request, location: str, message: Flash | None = None) -> web.Response:
    """POST-redirect-GET: a 303 to ``location``, with an optional one-time message."""
    response = web.Response(status=303, headers={"Location": location})
    if message is not None:
        flash(request, response, message)
    return response


def when(moment: datetime | None) -> str:
    return moment.strftime("%d %b %Y %H:%M UTC") if moment else "—"


def day(moment: datetime | None) -> str:
    return moment.strftime("%d %b %Y") if moment else "—"


async def render(
    request: web.Request, template: str, context: dict[str, Any], *, active: str, status: int = 200
) -> web.Response:
    """A page in the common layout (top bar with label and link state, navigation, one-time message)."""
    node = request.app[NODE_KEY]
    link = request.app[LINK_KEY]
    badge_class, badge_text = LINK_BADGES.get(link.state, ("badge-offline", link.state))
    message = _take_flash(request)
    page = {
        "label": node.label,
        "system_id": node.system_id,
        "link_state": link.state,
        "badge_class": badge_class,
        "badge_text": badge_text,
        "active": active,
        "csrf_field": csrf.FIELD,
        "csrf_token": csrf.token_for(request),
        "flash": message,
        **context,
    }
    response = aiohttp_jinja2.render_template(template, request, page, status=status)
    csrf.set_cookie(request, response)
    flash_cookie = csrf.cookie_name(request, FLASH_COOKIE)
    if message is not None or flash_cookie in request.cookies:
        response.del_cookie(flash_cookie, path="/")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"
    )
    return response


async def render_error_page(request: web.Request, status: int, code: str, message: str) -> web.StreamResponse:
    titles = {403: "Not allowed", 404: "Page not found", 405: "Not allowed here", 413: "Too large"}
    context = {"status": status, "code": code, "message": message, "title": titles.get(status, "Something went wrong")}
    try:
        return await render(request, "error.html", context, active="", status=status)
    except Exception:  # noqa: BLE001 - the layout itself failed (e.g. during start-up): plain text still explains
        return web.Response(status=status, text=f"{status} {message}", content_type="text/plain")


def setup(app: web.Application) -> None:
    """Templates, filters, the CSRF secret and the static files (routes are added by create_app)."""
    app[csrf.SECRET_KEY] = load_or_create_secret(app[CONFIG_KEY].data_dir / "page-secret")
    env = aiohttp_jinja2.setup(
        app, loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["credits"] = format_credits
    env.filters["credit_noun"] = credit_noun
    env.filters["when"] = when
    env.filters["day"] = day
    env.filters["iso"] = iso
    app.router.add_static("/static/home/", HOME_STATIC, name="home_static")
    app.router.add_static("/static/", SHARED_STATIC, name="static")
