"""The page kit of both services: signed cookies, flash messages, redirects, CSRF checks, time filters, page headers."""

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from yarl import URL

from flex_emulator.shared.errors import Forbidden
from flex_emulator.shared.timefmt import iso
from flex_emulator.shared.web import API_PREFIXES, Handler, json_response

CSRF_SECRET = web.AppKey("csrf_secret", bytes)
# How the service names its flash cookie (a HOME adds its system id: browsers share cookies across ports).
FLASH_COOKIE: web.AppKey[Callable[[web.Request], str]] = web.AppKey("flash_cookie")
DIALOG_HEADER = "X-Flex-Dialog"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
FLASH_SECONDS = 120
SHARED_STATIC = Path(__file__).parent / "static"

# Everything a page loads is its own: no inline script, no third-party origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


# --- signing -------------------------------------------------------------------------------------


def sign(request: web.Request, purpose: str, value: str) -> str:
    """An HMAC of ``value`` under this service's page secret; ``purpose`` keeps one use from passing for another."""
    return hmac.new(request.app[CSRF_SECRET], f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def matches(sent: object, expected: str) -> bool:
    return isinstance(sent, str) and bool(sent) and hmac.compare_digest(sent, expected)


def seal(request: web.Request, purpose: str, data: object) -> str:
    """``data`` as JSON in a cookie value the browser can carry but not change."""
    payload = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    return f"{payload}.{sign(request, purpose, payload)}"


def unseal(request: web.Request, purpose: str, raw: str | None) -> Any:
    """What ``seal`` wrapped, or None for a missing, changed or unreadable value."""
    if not raw or raw.count(".") != 1:
        return None
    payload, mac = raw.split(".")
    if not hmac.compare_digest(mac, sign(request, purpose, payload)):
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, binascii.Error, TypeError):
        return None


# --- flash messages and redirects ----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Flash:
    kind: str  # success | info | warning | error
    message: str
    title: str = ""


def set_flash(request: web.Request, response: web.StreamResponse, cookie: str, flash: Flash) -> None:
    """Show ``flash`` once, on the page the browser is sent to next."""
    value = seal(request, "flash", asdict(flash))
    response.set_cookie(cookie, value, max_age=FLASH_SECONDS, httponly=True, samesite="Lax", path="/")


def read_flash(request: web.Request, cookie: str) -> Flash | None:
    fields = unseal(request, "flash", request.cookies.get(cookie))
    if not isinstance(fields, dict):
        return None
    return Flash(
        kind=str(fields.get("kind", "info")), title=str(fields.get("title", "")), message=str(fields.get("message", ""))
    )


def see_other(location: str) -> web.Response:
    """POST-redirect-GET: a 303 to ``location``."""
    return web.Response(status=303, headers={"Location": location})


def from_dialog(request: web.Request) -> bool:
    """A form posted by the portal's script from inside a dialog (it sends ``X-Flex-Dialog: 1``)."""
    return request.headers.get(DIALOG_HEADER) == "1"


def redirect(request: web.Request, location: str, flash: Flash | None = None) -> web.Response:
    """POST-redirect-GET: a 303 to ``location`` with an optional one-time message; to a dialog's script
    ``{"location"}`` instead, so the page it opens next shows the message."""
    response = json_response({"location": location}) if request.method == "POST" and from_dialog(request) else None
    response = response or see_other(location)
    if flash is not None:
        set_flash(request, response, request.app[FLASH_COOKIE](request), flash)
    return response


def safe_next(target: str | None) -> str:
    """Only a path on this site is followed after sign-in; any other value is ignored ("/").

    Browsers drop tabs and newlines from a URL and read a backslash as a slash, so ``/\t/evil.example``
    and ``/\\evil.example`` would lead off-site like ``//evil.example``, and a newline in a header breaks
    the answer: a path of printable ASCII only (anything else arrives percent-encoded from a real link)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if any(not " " < char < "\x7f" or char == "\\" for char in target):
        return "/"
    return target


# --- cross-site requests ---------------------------------------------------------------------------


def same_origin(request: web.Request) -> bool:
    """False when a browser says the request comes from another site's page.

    No Origin at all is a script or the cloud link, not a browser form: allowed. ``Origin: null``
    is what a sandboxed frame or a local file sends: not this site, so refused.
    """
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    try:
        url = URL(origin.strip())
        return (
            url.absolute
            and url.scheme in ("http", "https")
            and url.host_port_subcomponent == request.url.host_port_subcomponent
        )
    except (ValueError, TypeError):
        return False


def require_same_origin(request: web.Request) -> None:
    if not same_origin(request):
        raise Forbidden("Requests from another site's pages are not accepted.", code="cross_origin")


EMULATOR_PREFIX = "/_emulator/"


def origin_guard(*, writes_to: tuple[str, ...] = ()) -> Any:
    """Refuses requests from another site's page (a cross-site form or fetch, a sandboxed frame's ``Origin:
    null``): of any method under ``/_emulator/`` (no token guards those routes, and some GETs write), and the
    writes under ``writes_to`` (an API without a token check, as HOME's). Scripts and the cloud link send no
    Origin and pass; so does the service's own page (the inspector, HOME's pages)."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if path.startswith(EMULATOR_PREFIX) or (request.method not in SAFE_METHODS and path.startswith(writes_to)):
            require_same_origin(request)
        return await handler(request)

    return guard


# --- time in words ------------------------------------------------------------------------------


def when(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).strftime("%d %b %Y, %H:%M UTC")


def short(moment: datetime | None) -> str:
    """For table cells; the page footer says the times are UTC."""
    return "" if moment is None else moment.astimezone(UTC).strftime("%d %b %Y %H:%M")


def exact(moment: datetime | None) -> str:
    """For tooltips: the exact time, to the second."""
    return "" if moment is None else moment.astimezone(UTC).strftime("%A %d %B %Y, %H:%M:%S UTC")


def day(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).strftime("%d %b %Y")


def iso_time(moment: datetime | None) -> str:
    return iso(moment) or ""


TIME_FILTERS: dict[str, Callable[[datetime | None], str]] = {
    "when": when,
    "short": short,
    "exact": exact,
    "day": day,
    "iso": iso_time,
}


# --- set-up -----------------------------------------------------------------------------------------


def setup_templates(
    app: web.Application, templates: Path, filters: dict[str, Callable[..., Any]], **options: Any
) -> jinja2.Environment:
    """Jinja with autoescape and strict undefined names, the time filters and the service's own filters."""
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(templates)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        **options,
    )
    env.filters.update(TIME_FILTERS)
    env.filters.update(filters)
    return env


async def protect_page(request: web.Request, response: web.StreamResponse) -> None:
    """Security headers on every page response (the JSON APIs answer without them)."""
    # A WebSocket upgrade is no page; returning first also spares building request.path, which would stay
    # cached on the request for the link's whole life.
    if isinstance(response, web.WebSocketResponse) or request.path.startswith(API_PREFIXES):
        return
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.content_type in ("text/html", "application/json", "application/jwt"):
        response.headers.setdefault("Cache-Control", "no-store")
