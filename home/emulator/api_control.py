"""The emulator control routes (only with ``--emulator-api``): read and move the virtual clock, reset."""

from aiohttp import web

from flex_emulator.home.appkeys import CLOCK, CONFIG, LINK, NODE
from flex_emulator.shared.clock import ClockError, VirtualClock
from flex_emulator.shared.errors import Conflict
from flex_emulator.shared.timefmt import iso
from flex_emulator.shared.web import clock_target, json_response, read_json, require_bool

routes = web.RouteTableDef()


async def clock_json(request: web.Request) -> web.Response:
    clock = request.app[CLOCK]
    now = await request.app[NODE].current_time(force_persist=True)
    # "now" is HOME's own time (never behind what it has seen); "clock" is the machine clock itself.
    return json_response({"now": iso(now), "virtual": clock.virtual, "clock": iso(clock.now())})


@routes.get("/_emulator/clock")
async def get_clock(request: web.Request) -> web.Response:
    return await clock_json(request)


@routes.post("/_emulator/clock")
async def post_clock(request: web.Request) -> web.Response:
    clock = request.app[CLOCK]
    if request.app[CONFIG].clock_file is not None:
        # Moving a shared clock here would skip the cloud's due work (expiries, auto revokes) for the time passed.
        raise Conflict(
            "This HOME shares its clock file with the cloud: move the time with the cloud's POST /_emulator/clock, "
            "which also runs everything that became due there.",
            code="clock_shared",
        )
    if not isinstance(clock, VirtualClock):
        raise Conflict(
            "This HOME runs on the wall clock; start it with --virtual-clock to set the time.", code="clock_not_virtual"
        )
    target = clock_target(await read_json(request), clock.now())
    try:
        if clock.driver is not None:
            # In one process with a cloud on the same clock: the cloud moves it and runs what fell due on the way.
            await clock.driver(target)
        else:
            clock.set(target)
    except ClockError as exc:
        raise Conflict(str(exc), code="clock_backwards") from None
    await request.app[LINK].future_copy.retry()
    return await clock_json(request)


@routes.post("/_emulator/reset")
async def post_reset(request: web.Request) -> web.Response:
    body = await read_json(request)
    new_identity = require_bool(body, "identity") if "identity" in body else False
    link, node = request.app[LINK], request.app[NODE]
    reconnect = link.enabled and new_identity
    if reconnect:
        await link.set_enabled(False)  # the link authenticates as the old system: start it again as the new one
    link.future_copy.forget()
    await node.reset(new_identity)
    if reconnect:
        await link.set_enabled(True)
    return json_response({"reset": True, "system_id": node.system_id})
