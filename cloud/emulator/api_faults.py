"""``/_emulator/events`` (the journal) and ``/_emulator/systems/{sys}/link-faults`` (only with --emulator-api)."""

from aiohttp import web

from flex_emulator.cloud.appkeys import CLUSTER, DB, HUB
from flex_emulator.cloud.link.faults import parse_request
from flex_emulator.shared.errors import NotFound
from flex_emulator.shared.journal import page_json, parse_cursor, parse_kinds, parse_limit
from flex_emulator.shared.web import json_response, read_json

routes = web.RouteTableDef()


@routes.get("/_emulator/events")
async def get_events(request: web.Request) -> web.Response:
    after = parse_cursor(request.query.get("after"))
    limit = parse_limit(request.query.get("limit"))
    kinds = parse_kinds(request.query)
    db = request.app[DB]
    await request.app[CLUSTER].write_journals()
    return json_response(page_json(await db.read.journal.after(after, limit, kinds=kinds), after))


async def linked_system(request: web.Request) -> str:
    system_id = request.match_info["sys"]
    if await request.app[DB].read.systems.get(system_id) is None:
        raise NotFound(f"There is no linked system {system_id}.")
    return system_id


@routes.get("/_emulator/systems/{sys}/link-faults")
async def get_link_faults(request: web.Request) -> web.Response:
    system_id = await linked_system(request)
    return json_response({"system_id": system_id, "faults": request.app[HUB].faults.of(system_id).json()})


@routes.post("/_emulator/systems/{sys}/link-faults")
async def post_link_faults(request: web.Request) -> web.Response:
    system_id = await linked_system(request)
    hub = request.app[HUB]
    faults, cut_now = hub.faults.apply(system_id, parse_request(await read_json(request)))
    await hub.share_faults(system_id)
    if cut_now:
        await hub.disconnect(system_id, reason=b"link cut (emulator fault)")
    return json_response({"system_id": system_id, "faults": faults.json()})
