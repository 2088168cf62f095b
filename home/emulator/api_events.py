"""``GET /_emulator/events``: HOME's event journal (only with --emulator-api)."""

from aiohttp import web

from flex_emulator.home.appkeys import NODE
from flex_emulator.shared.journal import page_json, parse_cursor, parse_kinds, parse_limit
from flex_emulator.shared.web import json_response

routes = web.RouteTableDef()


@routes.get("/_emulator/events")
async def get_events(request: web.Request) -> web.Response:
    after = parse_cursor(request.query.get("after"))
    limit = parse_limit(request.query.get("limit"))
    kinds = parse_kinds(request.query)
    node = request.app[NODE]
    await node.current_time()  # HOME's time read now: credits that ended by it are noted before the journal is read
    await node.db.write_journal()
    events = await node.db.read.journal_after(after, limit, kinds)
    return json_response(page_json(events, after))
