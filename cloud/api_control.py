"""``/_emulator/`` routes that control the whole cloud for tests: reset, dump and restore, wait until settled."""

import asyncio
from typing import Any

from aiohttp import web

from cloud.appkeys import CLOCK, CONFIG, DB, HUB, SCHEDULER, SIGNER
from cloud.store.state import StateError
from shared.clock import VirtualClock
from shared.errors import ApiError, BadRequest, Conflict, NotFound
from shared.keys import key_from_pem
from shared.timefmt import epoch, iso, parse_iso
from shared.web import json_response, read_json

routes = web.RouteTableDef()

STATE_FORMAT = "flex-emulator/state"
STATE_VERSION = 1
VIRTUAL_NOW_META = "virtual_now"


@routes.post("/_emulator/reset")
async def post_reset(request: web.Request) -> web.Response:
    body = await read_json(request)
    clock = request.app[CLOCK]
    target = None
    if body.get("now") is not None:
        if not isinstance(clock, VirtualClock):
            raise Conflict("The clock is the wall clock; start the cloud with --virtual-clock to set it.", code="clock_not_virtual")
        try:
            target = parse_iso(str(body["now"]))
        except ValueError:
            raise BadRequest("'now' must be an ISO 8601 time such as 2026-11-28T10:00:00Z.", code="wrong_type") from None
    async with request.app[DB].transaction() as tx:
        await tx.state.empty_tables()
        if target is not None:
            await tx.meta.set(VIRTUAL_NOW_META, str(epoch(target)))
    if isinstance(clock, VirtualClock) and target is not None:
        clock.rewind(target)
    await forget_links(request.app)
    return json_response({"reset": True, "now": iso(clock.now())})


async def forget_links(app: web.Application) -> None:
    """Close every HOME link and forget what was pushed on them: the systems they belonged to are gone."""
    await app[HUB].close_all()
    app[HUB].forget()
    app[SCHEDULER].wake()


@routes.get("/_emulator/state")
async def get_state(request: web.Request) -> web.Response:
    async with request.app[DB].transaction() as tx:
        document = {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "service": "cloud",
            "schema_version": await tx.state.schema_version(),
            "now": iso(request.app[CLOCK].now()),
            "keys": {"cloud_key": request.app[SIGNER].private_pem()},
            "tables": await tx.state.dump_tables(),
        }
    return json_response(document)


def check_document(document: dict[str, Any], schema_version: int) -> dict[str, Any]:
    """The parts of a state document that must be right before anything is replaced."""
    if document.get("format") != STATE_FORMAT or document.get("version") != STATE_VERSION or document.get("service") != "cloud":
        raise BadRequest(f"This is not a cloud state document ({STATE_FORMAT} version {STATE_VERSION}).", code="invalid_state")
    if document.get("schema_version") != schema_version:
        raise BadRequest(
            f"The document was saved by database schema {document.get('schema_version')}; this cloud runs {schema_version}.",
            code="invalid_state",
        )
    tables, keys = document.get("tables"), document.get("keys")
    if not isinstance(tables, dict) or not isinstance(keys, dict) or not isinstance(keys.get("cloud_key"), str):
        raise BadRequest("A state document needs 'tables' and 'keys': {cloud_key}.", code="invalid_state")
    return tables


@routes.put("/_emulator/state")
async def put_state(request: web.Request) -> web.Response:
    document = await read_json(request)
    db, clock = request.app[DB], request.app[CLOCK]
    tables = check_document(document, await db.read.state.schema_version())
    try:
        key = key_from_pem(document["keys"]["cloud_key"])
    except ValueError:
        raise BadRequest("'keys.cloud_key' is not an Ed25519 private key in PEM form.", code="invalid_state") from None
    try:
        saved_now = parse_iso(str(document.get("now")))
    except ValueError:
        raise BadRequest("'now' must be the ISO 8601 time the document was saved at.", code="invalid_state") from None
    try:
        async with db.transaction() as tx:
            await tx.state.load_tables(tables)
            if isinstance(clock, VirtualClock):
                await tx.meta.set(VIRTUAL_NOW_META, str(epoch(saved_now)))
    except StateError as exc:
        raise BadRequest(f"The state document does not fit: {exc}", code="invalid_state") from None
    request.app[SIGNER].replace(key, request.app[CONFIG].data_dir)
    if isinstance(clock, VirtualClock):
        clock.rewind(saved_now)  # a virtual clock goes back to when the document was saved
    await forget_links(request.app)
    return json_response({"restored": True, "now": iso(clock.now())})


def timeout_param(request: web.Request) -> float:
    try:
        timeout = float(request.query.get("timeout", "5"))
    except ValueError:
        raise BadRequest("'timeout' must be a number of seconds.", code="wrong_type") from None
    if not 0 <= timeout <= 300:
        raise BadRequest("'timeout' must be between 0 and 300 seconds.", code="out_of_range")
    return timeout


@routes.get("/_emulator/systems/{sys}/settled")
async def get_settled(request: web.Request) -> web.Response:
    """Answer once HOME has acknowledged the latest copy the cloud issued to it."""
    system_id, db, hub = request.match_info["sys"], request.app[DB], request.app[HUB]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_param(request)
    while True:
        system = await db.read.systems.get(system_id)
        if system is None:
            raise NotFound(f"There is no linked system {system_id}.")
        if not hub.is_online(system_id):
            raise Conflict(f"System {system_id} is not online, so it cannot settle.", code="offline")
        if system.acked_seq >= system.seq and not system.dirty:
            return json_response({"system_id": system_id, "seq": system.seq, "acked_seq": system.acked_seq, "online": True})
        left = deadline - loop.time()
        if left <= 0:
            raise ApiError(
                f"System {system_id} has not acknowledged copy {system.seq} (it acknowledged {system.acked_seq}).",
                code="timeout", status=504,
            )  # fmt: skip
        if not await hub.wait_for_ack(system_id, system.seq, min(left, 0.5)):
            await asyncio.sleep(min(0.02, max(left, 0)))  # refused, or the link is changing: look again shortly
