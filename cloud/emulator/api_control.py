"""``/_emulator/`` routes that control the whole cloud for tests: reset, dump and restore, wait until settled."""

import asyncio

from aiohttp import web

from flex_emulator.cloud.appkeys import CLOCK, DB, EMULATOR_STATE, HUB, SCHEDULER
from flex_emulator.shared.clock import VirtualClock
from flex_emulator.shared.errors import ApiError, BadRequest, Conflict, NotFound
from flex_emulator.shared.timefmt import iso
from flex_emulator.shared.web import json_response, read_json, timeout_query

routes = web.RouteTableDef()


@routes.post("/_emulator/reset")
async def post_reset(request: web.Request) -> web.Response:
    body = await read_json(request)
    clock = request.app[CLOCK]
    if body.get("now") is not None and not isinstance(clock, VirtualClock):
        raise Conflict(
            "The clock is the wall clock; start the cloud with --virtual-clock to set it.", code="clock_not_virtual"
        )
    await request.app[EMULATOR_STATE].reset(body.get("now"))
    return json_response({"reset": True, "now": iso(clock.now())})


@routes.get("/_emulator/state")
async def get_state(request: web.Request) -> web.Response:
    return json_response(await request.app[EMULATOR_STATE].dump())


@routes.put("/_emulator/state")
async def put_state(request: web.Request) -> web.Response:
    await request.app[EMULATOR_STATE].restore(await read_json(request))
    return json_response({"restored": True, "now": iso(request.app[CLOCK].now())})


def advance_param(request: web.Request) -> bool:
    raw = request.query.get("advance", "false")
    if raw not in ("true", "false"):
        raise BadRequest("'advance' must be true or false.", code="wrong_type")
    return raw == "true"


@routes.get("/_emulator/systems/{sys}/settled")
async def get_settled(request: web.Request) -> web.Response:
    """Answer once HOME has acknowledged the latest copy the cloud issued to it."""
    system_id, db, hub = request.match_info["sys"], request.app[DB], request.app[HUB]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_query(request)
    advance = advance_param(request)
    while True:
        system = await db.read.systems.get(system_id)
        if system is None:
            raise NotFound(f"There is no linked system {system_id}.")
        if not system.online:
            raise Conflict(f"System {system_id} is not online, so it cannot settle.", code="offline")
        if system.acked_seq >= system.seq and not system.dirty:
            return json_response(
                {"system_id": system_id, "seq": system.seq, "acked_seq": system.acked_seq, "online": True}
            )
        left = deadline - loop.time()
        if left <= 0:
            raise ApiError(
                f"System {system_id} has not acknowledged copy {system.seq} (it acknowledged {system.acked_seq}).",
                code="timeout",
                status=504,
            )
        resend_at = hub.resend_due(system_id)
        # Only for a copy or receipt known lost: one merely on its way is waited for, never pushed again early.
        lost = hub.lost_seq(system_id) >= system.seq
        if advance and lost and resend_at is not None and isinstance(request.app[CLOCK], VirtualClock):
            await request.app[SCHEDULER].advance_to(resend_at)  # the re-push (and anything due before it) runs
        if not await hub.wait_for_ack(system_id, system.seq, min(left, 0.5)):
            await asyncio.sleep(min(0.02, max(left, 0)))  # refused, or the link is changing: look again shortly
