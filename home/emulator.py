"""The emulator control routes (only with ``--emulator-api``): read and move the virtual clock."""

from aiohttp import web

from home.appkeys import CLOCK_KEY, CONFIG_KEY, NODE_KEY
from shared.clock import ClockError, VirtualClock
from shared.errors import Conflict
from shared.timefmt import iso
from shared.web import clock_target, json_response, read_json

routes = web.RouteTableDef()


async def clock_json(request: web.Request) -> web.Response:
    clock = request.app[CLOCK_KEY]
    now = await request.app[NODE_KEY].current_time(force_persist=True)
    # "now" is HOME's own time (never behind what it has seen); "clock" is the machine clock itself.
    return json_response({"now": iso(now), "virtual": clock.virtual, "clock": iso(clock.now())})


@routes.get("/_emulator/clock")
async def get_clock(request: web.Request) -> web.Response:
    return await clock_json(request)


@routes.post("/_emulator/clock")
async def post_clock(request: web.Request) -> web.Response:
    clock = request.app[CLOCK_KEY]
    if request.app[CONFIG_KEY].clock_file is not None:
        # Moving a shared clock here would skip the cloud's due work (expiries, auto revokes) for the time passed.
        raise Conflict(
            "This HOME shares its clock file with the cloud: move the time with the cloud's POST /_emulator/clock, "
            "which also runs everything that became due there.",
            code="clock_shared",
        )
    if not isinstance(clock, VirtualClock):
        raise Conflict("This HOME runs on the wall clock; start it with --virtual-clock to set the time.", code="clock_not_virtual")
    target = clock_target(await read_json(request), clock.now())
    try:
        clock.set(target)
    except ClockError as exc:
        raise Conflict(str(exc), code="clock_backwards") from None
    return await clock_json(request)
