"""Portal sessions: the session cookie, CSRF tokens, flash messages and rendering a page.

CSRF: every POST form carries ``csrf`` = HMAC(per-process secret, session token). The sign-in
form, which has no session yet, uses a random pre-session cookie instead (double submit).
The check runs before a handler does anything else.
"""

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from multidict import MultiDictProxy

from cloud.access import SESSION_COOKIE, Caller, caller
from cloud.appkeys import CLOCK, DB
from cloud.models import User
from shared.errors import Forbidden, Unauthorized

CSRF_SECRET = web.AppKey("csrf_secret", bytes)
CSRF_FIELD = "csrf"
PRESESSION_COOKIE = "flex_presession"
FLASH_COOKIE = "flex_flash"
FLASH_SECONDS = 60
FormData = MultiDictProxy[str | bytes | bytearray | web.FileField]

CSRF_REFUSED = "This form has expired or did not come from the portal, so nothing was changed. Reload the page and try again."


def _mac(request: web.Request, purpose: str, value: str) -> str:
    return hmac.new(request.app[CSRF_SECRET], f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def session_csrf(request: web.Request) -> str:
    token = request.cookies.get(SESSION_COOKIE, "")
    return _mac(request, "session", token) if token else ""


def signin_csrf(request: web.Request, presession: str) -> str:
    return _mac(request, "signin", presession)


def new_presession() -> str:
    return secrets.token_urlsafe(24)


async def read_form(request: web.Request, *, signin: bool = False) -> FormData:
    """The posted form, only when its CSRF token matches; otherwise nothing happens (403)."""
    basis = request.cookies.get(PRESESSION_COOKIE if signin else SESSION_COOKIE, "")
    if not basis and not signin:
        raise Unauthorized("Your session has ended; sign in again.")
    form = await request.post()
    sent = form.get(CSRF_FIELD)
    expected = _mac(request, "signin" if signin else "session", basis)
    if not basis or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise Forbidden(CSRF_REFUSED, code="csrf_failed")
    return form


def text_field(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


async def page_caller(request: web.Request, *, admin: bool = False) -> Caller:
    """The signed-in member for a page under /accounts/{acc}/ (no session: sign-in page; outsider: 404)."""
    return await caller(request, admin=admin, cookie=True)


# --- flash messages -------------------------------------------------------------------------------


def see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def with_flash(response: web.Response, request: web.Request, kind: str, text: str) -> web.Response:
    """Attach a one-time message (``success``, ``error`` or ``info``) for the next page shown."""
    payload = base64.urlsafe_b64encode(json.dumps([kind, text]).encode()).decode().rstrip("=")
    response.set_cookie(
        FLASH_COOKIE, f"{payload}.{_mac(request, 'flash', payload)}", max_age=FLASH_SECONDS, httponly=True, samesite="Lax", path="/"
    )
    return response


def redirect(request: web.Request, location: str, kind: str | None = None, text: str | None = None) -> web.Response:
    response = see_other(location)
    return with_flash(response, request, kind or "success", text) if text else response


def read_flash(request: web.Request) -> dict[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw or "." not in raw:
        return None
    payload, _, mac = raw.partition(".")
    if not hmac.compare_digest(mac, _mac(request, "flash", payload)):
        return None
    try:
        kind, text = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, binascii.Error, TypeError):
        return None
    return {"kind": str(kind), "text": str(text)}


# --- rendering ---------------------------------------------------------------------------------------


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
    user = who.user if who else user
    accounts = await request.app[DB].read.users.memberships(user.id) if user else []
    current = next((item for item in accounts if who and item.account_id == who.account_id), None)
    base = {
        "who": who,
        "user": user,
        "accounts": accounts,
        "account": current,
        "is_admin": who is not None and who.role == "admin",
        "csrf": session_csrf(request),
        "flash": read_flash(request),
        "section": section,
        "now": request.app[CLOCK].now(),
    }
    response = aiohttp_jinja2.render_template(template, request, {**base, **context}, status=status)
    if base["flash"] is not None:
        response.del_cookie(FLASH_COOKIE, path="/")
    return response


def safe_next(target: str | None) -> str:
    """Only a path on this site (never ``//host`` or a full URL) is followed after sign-in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"
