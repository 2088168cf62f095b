"""The portal's wiring: templates, static files, page routes, security headers and the HTML error page."""

from pathlib import Path

import aiohttp_jinja2
import jinja2
import structlog
from aiohttp import web
from yarl import URL

from cloud import (
    pages_auth,
    pages_credits,
    pages_subscriptions,
    pages_systems,
    pages_users,
)
from cloud.access import SESSION_COOKIE, authenticate
from cloud.appkeys import CONFIG
from cloud.pages_session import CSRF_SECRET, redirect, render, safe_next
from cloud.pages_views import day, exact, iso_time, short, when
from shared import web as shared_web
from shared.errors import ApiError
from shared.keys import load_or_create_secret
from shared.web import API_PREFIXES

log = structlog.get_logger()

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
SHARED_STATIC = Path(shared_web.__file__).parent / "static"

# Everything the portal loads is its own: no inline script, no third-party origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
ERROR_TITLES = {
    400: "That did not work",
    403: "Not allowed",
    404: "Not found",
    405: "Not possible here",
    413: "Too large",
    500: "Something went wrong",
}


def shared_stylesheet() -> bool:
    """The shared stylesheet is linked only once it exists (it is written alongside the HOME pages)."""
    return (SHARED_STATIC / "style.css").is_file()


def setup(app: web.Application) -> None:
    app[CSRF_SECRET] = load_or_create_secret(app[CONFIG].data_dir / "page-secret")
    env = aiohttp_jinja2.setup(
        app, loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined, default_helpers=False
    )
    env.filters.update(when=when, short=short, day=day, exact=exact, iso=iso_time)
    env.globals["shared_stylesheet"] = shared_stylesheet
    app.router.add_static("/static/portal", STATIC)
    if SHARED_STATIC.is_dir():
        app.router.add_static("/static", SHARED_STATIC)
    for module in (pages_auth, pages_subscriptions, pages_systems, pages_credits, pages_users):
        app.add_routes(module.routes)
    app.on_response_prepare.append(protect_page)


async def protect_page(request: web.Request, response: web.StreamResponse) -> None:
    if request.path.startswith(API_PREFIXES):
        return
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.content_type in ("text/html", "application/json", "application/jwt"):
        response.headers.setdefault("Cache-Control", "no-store")


async def render_error_page(request: web.Request, status: int, code: str, message: str) -> web.StreamResponse:
    """The error middleware's answer for a browser: sign-in for a missing session, else a friendly page."""
    if status == 401:
        target = request.path_qs if request.method == "GET" else None
        location = "/signin" if target in (None, "/") else str(URL("/signin").with_query(next=safe_next(target)))
        text = "Please sign in to continue." if request.method == "GET" else "Your session has ended; please sign in again."
        response = redirect(request, location, "info", text)
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
