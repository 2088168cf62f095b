"""The inspector's routes (only with --emulator-api): its page, its live stream and timeline, and its controls."""

import json
from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from flex_emulator.cloud.appkeys import CLOCK, INSPECTOR
from flex_emulator.cloud.emulator.inspector import parse_view
from flex_emulator.shared.errors import BadRequest
from flex_emulator.shared.pagekit import CONTENT_SECURITY_POLICY
from flex_emulator.shared.web import json_response, read_json, require_bool, require_text

routes = web.RouteTableDef()
STATIC = Path(__file__).parent / "static"
STATIC_PREFIX = "/_emulator/inspector/static"
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def system_param(request: web.Request) -> str:
    system_id = request.query.get("system", "")
    if not system_id:
        raise BadRequest("Say which system: ?system=SYSTEM_ID.", code="missing_field")
    return system_id


@routes.get("/_emulator/inspector")
async def get_inspector(request: web.Request) -> web.Response:
    """One system's page (``?system=``), or the list of systems to choose from."""
    inspector = request.app[INSPECTOR]
    if "system" not in request.query:
        context: dict[str, Any] = {"systems": await inspector.systems(), "system": None}
    else:
        system = await inspector.system(system_param(request))
        context = {"systems": [], "system": system, "virtual": request.app[CLOCK].virtual}
    response = aiohttp_jinja2.render_template("inspector.html", request, context | {"static": STATIC_PREFIX})
    response.headers.update(PAGE_HEADERS)  # a page, though under /_emulator/ (which the page hook leaves alone)
    return response


@routes.get("/_emulator/inspector/timeline")
async def get_timeline(request: web.Request) -> web.Response:
    inspector = request.app[INSPECTOR]
    view = parse_view(system_param(request), request.query.get("after"))
    items, problem = await inspector.read(view)
    status = await inspector.status(view.system_id, problem)
    return json_response({"system_id": view.system_id, "items": items, "status": status, "next": view.cursor})


@routes.get("/_emulator/inspector/stream")
async def get_stream(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: ``item`` and ``status`` messages as they happen; a reconnecting browser resumes
    after the id it last saw (``Last-Event-ID``)."""
    inspector = request.app[INSPECTOR]
    view = parse_view(system_param(request), request.headers.get("Last-Event-ID"))
    await inspector.system(view.system_id)  # a 404 before the stream starts
    stream = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"})
    await stream.prepare(request)
    try:
        await stream.write(b"retry: 1000\n\n")
        async for name, data in inspector.follow(view):
            await stream.write(f"id: {view.cursor}\nevent: {name}\ndata: {json.dumps(data)}\n\n".encode())
    except (ConnectionResetError, ConnectionError):
        pass  # the page went away
    return stream


@routes.get("/_emulator/systems/{sys}/home-address")
async def get_home_address(request: web.Request) -> web.Response:
    return json_response(await request.app[INSPECTOR].address(request.match_info["sys"]))


@routes.put("/_emulator/systems/{sys}/home-address")
async def put_home_address(request: web.Request) -> web.Response:
    body = await read_json(request)
    url = require_text(body, "url", max_length=300)
    return json_response(await request.app[INSPECTOR].set_address(request.match_info["sys"], url))


@routes.put("/_emulator/systems/{sys}/cloud-link")
async def put_cloud_link(request: web.Request) -> web.Response:
    enabled = require_bool(await read_json(request), "enabled")
    return json_response(await request.app[INSPECTOR].set_link(request.match_info["sys"], enabled))


@routes.post("/_emulator/systems/{sys}/clock")
async def post_system_clock(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await request.app[INSPECTOR].advance_clock(request.match_info["sys"], body))


def add_static(app: web.Application) -> None:
    app.router.add_static(STATIC_PREFIX, STATIC)
