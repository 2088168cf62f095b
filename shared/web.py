"""aiohttp pieces both services use: the error middleware, JSON body reading, field checks."""

import json
import math
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from flex_emulator.shared.bodies import (
    BadJson,
    body_error,
    is_json_type,
    parse_json,
    read_body,
    refuse_unsupported_encoding,
)
from flex_emulator.shared.errors import ApiError, BadRequest
from flex_emulator.shared.timefmt import TimeOutOfRange, parse_iso

log = structlog.get_logger()

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
HtmlErrorRenderer = Callable[[web.Request, int, str, str], Awaitable[web.StreamResponse]]

API_PREFIXES = ("/api/", "/_emulator/", "/.well-known/", "/healthz")

MAX_CLOCK_JUMP = timedelta(days=20 * 365)

_HTTP_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
}


def _dumps(data: Any) -> str:
    return json.dumps(data) + "\n"


def json_response(data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """Every JSON answer of both services; it ends with a newline, so curl outputs in a row stay on their own lines."""
    return web.json_response(data, status=status, headers=headers, dumps=_dumps)


def error_json(status: int, code: str, message: str) -> web.Response:
    return json_response({"error": {"code": code, "message": message}}, status=status)


def wants_html(request: web.Request) -> bool:
    return not request.path.startswith(API_PREFIXES) and "text/html" in request.headers.get("Accept", "")


def missing_static_file(request: web.Request) -> bool:
    """A static route's file that does not exist: aiohttp would answer an empty 404 of its own, past this middleware."""
    resource = request.match_info.route.resource
    if not isinstance(resource, web.StaticResource):
        return False
    try:
        return not (Path(resource.get_info()["directory"]) / request.match_info.get("filename", "")).is_file()
    except (OSError, ValueError):  # a name the file system cannot even look up
        return True


def make_error_middleware(render_html: HtmlErrorRenderer | None = None) -> Any:
    """Every failure leaves as the contract's error shape (or an error page for a browser)."""

    async def answer(request: web.Request, status: int, code: str, message: str) -> web.StreamResponse:
        if render_html is not None and wants_html(request):
            return await render_html(request, status, code, message)
        return error_json(status, code, message)

    # One coroutine, not a helper awaited by it: a WebSocket handler runs inside this for its link's whole life.
    @web.middleware
    async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        response: web.StreamResponse
        try:
            refuse_unsupported_encoding(request)
            if missing_static_file(request):
                raise web.HTTPNotFound()
            response = await handler(request)
        except (web.RequestPayloadError, HttpProcessingError):  # a body reader that did not go through shared/bodies.py
            exc = body_error()
            response = await answer(request, exc.status, exc.code, exc.message)
        except ApiError as exc:
            response = await answer(request, exc.status, exc.code, exc.message)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            code = _HTTP_CODES.get(exc.status, "http_error")
            message = {
                404: f"There is nothing at {request.path}.",
                405: f"{request.method} is not allowed on {request.path}.",
                413: "The request body is too large for this service.",
            }.get(exc.status, exc.reason)
            response = await answer(request, exc.status, code, message)
        except ConnectionResetError:
            # The client left before its answer (e.g. a HOME whose link handshake timed out): nothing broke here.
            log.info("client_gone", method=request.method, path=request.path)
            response = error_json(499, "client_gone", "The client closed the connection before the answer.")
        except Exception:
            log.exception("request_failed", method=request.method, path=request.path)
            response = await answer(
                request, 500, "internal_error", "Something went wrong on our side; the change was not made."
            )
        if request.content.exception() is not None:  # the body could not be read: this connection is spent
            response.force_close()
        return response

    return error_middleware


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request's JSON object body; anything else is a clear 4xx. An empty body is ``{}`` when sent as JSON or
    as no type at all (none, or the ``application/octet-stream`` an HTTP client such as aiohttp names an absent
    body with, which no page can send without a CORS preflight). A body-less form from another site's page,
    which an old browser posts without Origin, is not taken for an empty JSON body."""
    raw = await read_body(request)
    sent_as_json = is_json_type(request.content_type)
    if not raw.strip() and (sent_as_json or request.content_type == "application/octet-stream"):
        return {}
    if not sent_as_json:
        raise ApiError(
            "Send the body as JSON with 'Content-Type: application/json'.", code="unsupported_media_type", status=415
        )
    try:
        data = parse_json(raw)
    except BadJson as exc:
        raise BadRequest(f"The request body is not accepted: {exc}", code="bad_json") from None
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.", code="bad_json")
    return data


def require_text(body: dict[str, Any], name: str, *, max_length: int = 10_000) -> str:
    value = body.get(name)
    if value is None:
        raise BadRequest(f"The field {name!r} is missing.", code="missing_field")
    if not isinstance(value, str):
        raise BadRequest(f"The field {name!r} must be text.", code="wrong_type")
    value = value.strip()
    if not value:
        raise BadRequest(f"The field {name!r} is empty.", code="missing_field")
    if len(value) > max_length:
        raise BadRequest(f"The field {name!r} is too long.", code="too_long")
    return value


def optional_text(body: dict[str, Any], name: str, *, max_length: int = 10_000) -> str | None:
    if body.get(name) in (None, ""):
        return None
    return require_text(body, name, max_length=max_length)


def require_bool(body: dict[str, Any], name: str) -> bool:
    value = body.get(name)
    if value is None:
        raise BadRequest(f"The field {name!r} is missing.", code="missing_field")
    if not isinstance(value, bool):
        raise BadRequest(f"The field {name!r} must be true or false.", code="wrong_type")
    return value


def require_int(body: dict[str, Any], name: str, *, minimum: int = 0, maximum: int = 1_000_000) -> int:
    value = body.get(name)
    if value is None:
        raise BadRequest(f"The field {name!r} is missing.", code="missing_field")
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadRequest(f"The field {name!r} must be a whole number.", code="wrong_type")
    if not minimum <= value <= maximum:
        raise BadRequest(f"The field {name!r} must be between {minimum} and {maximum}.", code="out_of_range")
    return value


def whole_number(text: str, *, max_digits: int = 18) -> int | None:
    """``text`` as a non-negative whole number written in ASCII digits, else None.

    ``str.isdigit`` and ``int`` also take "²", "１" and "٣": an id or a count typed with them is not a number here.
    """
    if not text or len(text) > max_digits or not text.isascii() or not text.isdigit():
        return None
    return int(text)


async def get_healthz(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


_SECONDS = re.compile(r"[0-9]{1,9}(\.[0-9]{1,9})?")


def timeout_query(request: web.Request) -> float:
    """The ``timeout`` query parameter of a route that waits: seconds, 0 to 300, 5 when absent."""
    raw = request.query.get("timeout", "5")
    # ASCII digits only: float() would also take "1_0", "٣" or "1e1", which no client means as seconds
    if not _SECONDS.fullmatch(raw):
        raise BadRequest("'timeout' must be a number of seconds.", code="wrong_type")
    timeout = float(raw)
    if not 0 <= timeout <= 300:
        raise BadRequest("'timeout' must be between 0 and 300 seconds.", code="out_of_range")
    return timeout


def clock_target(body: dict[str, Any], now: datetime) -> datetime:
    """Where ``POST /_emulator/clock`` asks the clock to go: ``{advance_seconds}`` or ``{now}``."""

    if body.get("advance_seconds") is not None:
        seconds = body["advance_seconds"]
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not math.isfinite(seconds):
            raise BadRequest("'advance_seconds' must be a number.", code="wrong_type")
        if seconds < 0:
            raise BadRequest("The virtual clock only moves forward.", code="clock_backwards")
        if seconds > MAX_CLOCK_JUMP.total_seconds():
            raise BadRequest("Advance at most twenty years at a time.", code="out_of_range")
        return now + timedelta(seconds=seconds)
    if body.get("now") is not None:
        try:
            target = parse_iso(require_text(body, "now", max_length=64))
        except TimeOutOfRange:
            raise BadRequest("'now' must be a time between 1970 and 9000.", code="out_of_range") from None
        except ValueError:
            raise BadRequest(
                "'now' must be an ISO 8601 time such as 2026-11-28T10:00:00Z.", code="wrong_type"
            ) from None
        if target < now:
            raise BadRequest("The virtual clock only moves forward.", code="clock_backwards")
        if target - now > MAX_CLOCK_JUMP:
            raise BadRequest("Advance at most twenty years at a time.", code="out_of_range")
        return target
    raise BadRequest("Give 'advance_seconds' or 'now'.", code="missing_field")
