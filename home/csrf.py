"""CSRF protection for the HOME pages: a signed double-submit token (cookie + hidden form field).

The token is a random nonce with an HMAC from a per-process secret; a form is accepted only
when its hidden field equals the cookie and the HMAC verifies. A restart invalidates old
tokens: the page is simply reloaded.
"""

import hashlib
import hmac
import secrets

from aiohttp import web
from yarl import URL

from home.appkeys import NODE_KEY
from shared.errors import Forbidden
from shared.web import Handler

FIELD = "csrf_token"
SECRET_KEY = web.AppKey("csrf_secret", bytes)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_REQUEST_TOKEN = web.RequestKey("home_csrf_token", str)  # the token chosen for this request, to set as a cookie


class CsrfError(Exception):
    """A form post without a matching token."""


def cookie_name(request: web.Request, base: str = "home_csrf") -> str:
    """A cookie name unique to this HOME: browsers share cookies across ports of one host,
    so two HOMEs on one laptop would otherwise overwrite each other's tokens."""
    return f"{base}_{request.app[NODE_KEY].system_id}"


def _mac(secret: bytes, nonce: str) -> str:
    return hmac.new(secret, nonce.encode(), hashlib.sha256).hexdigest()[:32]


def new_token(secret: bytes) -> str:
    nonce = secrets.token_urlsafe(18)
    return f"{nonce}.{_mac(secret, nonce)}"


def is_valid(secret: bytes, token: str | None) -> bool:
    if not token or token.count(".") != 1:
        return False
    nonce, mac = token.split(".")
    return hmac.compare_digest(mac, _mac(secret, nonce))


def token_for(request: web.Request) -> str:
    """The token to put in this page's forms: the cookie's, or a new one (then set as a cookie)."""
    secret = request.app[SECRET_KEY]
    current = request.cookies.get(cookie_name(request))
    if is_valid(secret, current):
        assert current is not None
        return current
    if _REQUEST_TOKEN not in request:
        request[_REQUEST_TOKEN] = new_token(secret)
    return str(request[_REQUEST_TOKEN])


def set_cookie(request: web.Request, response: web.StreamResponse) -> None:
    if _REQUEST_TOKEN in request:
        response.set_cookie(cookie_name(request), request[_REQUEST_TOKEN], httponly=True, samesite="Strict", path="/")


def same_origin(request: web.Request) -> bool:
    """False when a browser says the request comes from another site's page (no Origin: not a browser form)."""
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return True
    return URL(origin).host_port_subcomponent == request.url.host_port_subcomponent


@web.middleware
async def api_origin_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The JSON API takes no token, so a write from another site's page (a cross-site form) is refused."""
    if request.method not in SAFE_METHODS and request.path.startswith(("/api/", "/_emulator/")) and not same_origin(request):
        raise Forbidden("Requests from another site's pages are not accepted.", code="cross_origin")
    return await handler(request)


def check(request: web.Request, submitted: str | None) -> None:
    """Refuse a form whose hidden token does not match the cookie, or that came from another site."""
    if not same_origin(request):
        raise CsrfError("The form was sent from another site.")
    cookie = request.cookies.get(cookie_name(request))
    if not submitted or not cookie or not hmac.compare_digest(submitted, cookie):
        raise CsrfError("The form's security token is missing or does not match.")
    if not is_valid(request.app[SECRET_KEY], cookie):
        raise CsrfError("The form's security token has expired.")
