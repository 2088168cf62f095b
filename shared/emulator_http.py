"""The emulator's view of a service's own HTTP API, for both services (with ``--emulator-api``): the faults
armed through ``/_emulator/http-faults`` and the request journal behind ``/_emulator/requests``.

One middleware, outside the error middleware, so what it records is the answer the client got. Requests
sent by the harness's own ``World`` (header ``X-Flex-Harness``) are recorded but never faulted: a test
faults its client's calls, not the world's set-up and checks.
"""

import asyncio
import contextlib
import socket
import struct
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from flex_emulator.shared.bodies import content_encoding, decode_body, is_json_type
from flex_emulator.shared.errors import ApiError
from flex_emulator.shared.http_faults import Action, HttpFault, HttpFaults, is_exempt
from flex_emulator.shared.journal import parse_cursor, parse_limit
from flex_emulator.shared.request_journal import MAX_JSON_BYTES, Body, RequestJournal, parse_filters, read_json_body
from flex_emulator.shared.web import Handler, error_json, json_response, read_json

HARNESS_HEADER = "X-Flex-Harness"
HANG_POLL_SECONDS = 0.02
Note = Callable[..., None]

FAULTS: web.AppKey[HttpFaults] = web.AppKey("http_faults", HttpFaults)
REQUESTS: web.AppKey[RequestJournal] = web.AppKey("request_journal", RequestJournal)
RELEASE: web.AppKey[asyncio.Event] = web.AppKey("http_fault_release", asyncio.Event)


def install(app: web.Application, now: Callable[[], datetime], note: Note) -> None:
    """Arm the middleware (first, outermost) and the two routes on ``app``; ``note`` writes a journal event."""
    app[FAULTS] = HttpFaults()
    app[REQUESTS] = RequestJournal()
    app[RELEASE] = asyncio.Event()
    app.middlewares.insert(0, _middleware(now, note))
    app.add_routes(routes)
    app.on_shutdown.append(_release_hung)


async def _release_hung(app: web.Application) -> None:
    app[RELEASE].set()  # a hung request ends with the service: its connection closes without an answer


def _reset(request: web.Request) -> None:
    """Close the connection at once with a TCP reset, as a crashed proxy or server would."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


async def _hang(request: web.Request) -> None:
    """Wait, answering nothing, until the client gives up (or the service stops, which resets the connection)."""
    release = request.app[RELEASE]
    while not release.is_set():
        transport = request.transport
        if transport is None or transport.is_closing():
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(HANG_POLL_SECONDS):
                await release.wait()
    _reset(request)


async def _apply(fault: HttpFault, request: web.Request, handler: Handler) -> web.StreamResponse:
    if fault.action == Action.STATUS:
        assert fault.status is not None
        response = error_json(
            fault.status,
            "injected_fault",
            f"An HTTP fault injected through the emulator API (fault {fault.id}) answered {fault.status}.",
        )
        if fault.retry_after is not None:
            response.headers["Retry-After"] = str(fault.retry_after)
        return response
    if fault.action == Action.LATENCY:
        assert fault.latency_ms is not None
        release = request.app[RELEASE]
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(fault.latency_ms / 1000):  # real time: what a client's own timeouts see
                await release.wait()
        if not release.is_set():
            return await handler(request)
        _reset(request)  # the service is stopping: the late request ends unanswered, as with a hang
        return web.Response(status=204)
    if fault.action == Action.HANG:
        await _hang(request)
    else:
        _reset(request)
    return web.Response(status=204)  # never reaches the client: its connection is gone


async def _body(request: web.Request, answered: bool) -> Body:
    if not answered or not request.body_exists or not is_json_type(request.content_type):
        return Body()
    declared = request.content_length
    if declared is not None and declared > MAX_JSON_BYTES:
        return Body(truncated=True)
    try:
        raw = decode_body(await request.read(), content_encoding(request), MAX_JSON_BYTES)
    except (ApiError, web.HTTPException, ConnectionError, ValueError):
        return Body()
    return read_json_body(raw)


def _query(request: web.Request) -> dict[str, Any]:
    return {key: (values if len(values := request.query.getall(key)) > 1 else values[0]) for key in request.query}


def _middleware(now: Callable[[], datetime], note: Note) -> Any:
    @web.middleware
    async def emulator_http(request: web.Request, handler: Handler) -> web.StreamResponse:
        if is_exempt(request.path):
            return await handler(request)
        started = time.perf_counter()
        at = now()
        fault = None if HARNESS_HEADER in request.headers else request.app[FAULTS].take(request.method, request.path)
        if fault is not None:
            note("http_fault", fault_id=str(fault.id), method=request.method, path=request.path, **_fault_detail(fault))
        status: int | None = None
        try:
            if fault is None:
                response = await handler(request)
            else:
                response = await _apply(fault, request, handler)
            if fault is None or fault.action in (Action.STATUS, Action.LATENCY):
                status = response.status
            return response
        except web.HTTPException as exc:  # a page's redirect leaves as an exception
            status = exc.status
            raise
        finally:
            body = await _body(request, status is not None)
            request.app[REQUESTS].record(
                at=at,
                method=request.method,
                path=request.path,
                query=_query(request),
                status=status,
                duration_ms=(time.perf_counter() - started) * 1000,
                headers=dict(request.headers),
                body=body,
                fault={"id": str(fault.id), "action": fault.action.value} if fault is not None else None,
            )

    return emulator_http


def _fault_detail(fault: HttpFault) -> dict[str, Any]:
    detail: dict[str, Any] = {"action": fault.action.value}
    for name in ("status", "retry_after", "latency_ms", "remaining"):
        if (value := getattr(fault, name)) is not None:
            detail[name] = value
    return detail


routes = web.RouteTableDef()


@routes.get("/_emulator/http-faults")
async def get_http_faults(request: web.Request) -> web.Response:
    return json_response(request.app[FAULTS].json())


@routes.post("/_emulator/http-faults")
async def post_http_faults(request: web.Request) -> web.Response:
    faults = request.app[FAULTS]
    faults.change(await read_json(request))
    return json_response(faults.json())


@routes.get("/_emulator/requests")
async def get_requests(request: web.Request) -> web.Response:
    after = parse_cursor(request.query.get("after"))
    limit = parse_limit(request.query.get("limit"))
    path, method = parse_filters(request.query)
    return json_response(request.app[REQUESTS].page(after, limit, path, method))
