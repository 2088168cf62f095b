"""The fleet's one HTTP server: which nodes run, and each node's state, credits and link switch by system id."""

from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from flex_emulator.home.domain.licensing import credits_report
from flex_emulator.home.fleet.config import FleetConfig
from flex_emulator.home.fleet.linking import link_from_config
from flex_emulator.home.fleet.nodes import Fleet, FleetNode
from flex_emulator.home.web import shapes
from flex_emulator.shared.bodies import HANDLER_ARGS
from flex_emulator.shared.clock import Clock
from flex_emulator.shared.errors import NotFound
from flex_emulator.shared.web import get_healthz, json_response, make_error_middleware, read_json, require_bool

FLEET = web.AppKey("fleet", Fleet)
routes = web.RouteTableDef()


def node_json(item: FleetNode, with_code: bool) -> dict[str, Any]:
    answer = {
        "system_id": item.system_id,
        "label": item.node.label,
        "seq": item.node.applied_seq,
        "cloud": item.link.view(),
    }
    return answer | ({"registration_code": item.registration_code} if with_code else {})


def found(request: web.Request) -> FleetNode:
    system_id = request.match_info["sys"]
    item = request.app[FLEET].find(system_id)
    if item is None:
        raise NotFound(f"There is no node {system_id} in this fleet.")
    return item


@routes.get("/api/v1/nodes")
async def get_nodes(request: web.Request) -> web.Response:
    """Every node; ``?codes=1`` adds the registration codes (to link them elsewhere)."""
    fleet = request.app[FLEET]
    with_code = request.query.get("codes") == "1"
    return json_response(
        {
            "count": len(fleet.nodes),
            "states": fleet.states(),
            "nodes": [node_json(item, with_code) for item in fleet.nodes],
        }
    )


@routes.put("/api/v1/nodes/cloud-link")
async def put_fleet_cloud_link(request: web.Request) -> web.Response:
    """Switch every node's link on or off; on, they connect a bounded number at a time."""
    fleet = request.app[FLEET]
    enabled = require_bool(await read_json(request), "enabled")
    await fleet.switch_links(enabled)
    return json_response({"count": len(fleet.nodes), "states": fleet.states()})


@routes.get("/api/v1/nodes/{sys}")
async def get_node(request: web.Request) -> web.Response:
    return json_response(node_json(found(request), with_code=True))


@routes.get("/api/v1/nodes/{sys}/licenses/credits")
async def get_node_credits(request: web.Request) -> web.Response:
    item = found(request)
    report = await credits_report(item.node, online=item.link.state == "online", link_on=item.link.enabled)
    return json_response(shapes.credits_json(report))


@routes.put("/api/v1/nodes/{sys}/cloud-link")
async def put_node_cloud_link(request: web.Request) -> web.Response:
    item = found(request)
    await item.link.set_enabled(require_bool(await read_json(request), "enabled"))
    return json_response(item.link.view())


async def fleet_ctx(app: web.Application) -> AsyncIterator[None]:
    fleet = app[FLEET]
    await fleet.open()
    try:
        await link_from_config(fleet)
        await fleet.connect()
        yield
    finally:
        await fleet.close()


def create_fleet_app(config: FleetConfig, clock: Clock) -> web.Application:
    app = web.Application(middlewares=[make_error_middleware()], handler_args=HANDLER_ARGS)
    app[FLEET] = Fleet(config, clock)
    app.cleanup_ctx.append(fleet_ctx)
    app.router.add_get("/healthz", get_healthz)
    app.add_routes(routes)
    return app
