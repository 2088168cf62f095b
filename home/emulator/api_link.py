"""Waiting for HOME's cloud link (only with ``--emulator-api``): a test asks once and is answered when the link
reaches the state it waits for, instead of asking again and again; it may switch the link in the same request."""

from aiohttp import web

from flex_emulator.home.appkeys import LINK
from flex_emulator.home.link.cloud_link import STATES, CloudLink
from flex_emulator.shared.errors import ApiError, BadRequest
from flex_emulator.shared.web import json_response, read_json, require_bool, timeout_query

routes = web.RouteTableDef()


def wanted_state(request: web.Request) -> tuple[str, float] | None:
    """The ``state`` to wait for and the ``timeout`` (None without ``state``), both checked."""
    wanted = request.query.get("state")
    if wanted is None:
        return None
    if wanted not in STATES:
        raise BadRequest(f"'state' must be one of: {', '.join(STATES)}.", code="invalid_link_state")
    return wanted, timeout_query(request)


async def answer_when(link: CloudLink, waiting: tuple[str, float] | None) -> web.Response:
    """The link, once it is in the state waited for (504 ``timeout`` if it is not in time)."""
    if waiting is not None:
        wanted, timeout = waiting
        try:
            await link.wait_for_state(wanted, timeout)
        except TimeoutError:
            raise ApiError(
                f"The cloud link is {link.state}, not {wanted}, after {timeout:g} s.", code="timeout", status=504
            ) from None
    return json_response(link.view())


@routes.get("/_emulator/cloud-link")
async def get_cloud_link(request: web.Request) -> web.Response:
    """The cloud link (``GET /api/v1/system``'s ``cloud``); with ``state``, once the link is in that state."""
    return await answer_when(request.app[LINK], wanted_state(request))


@routes.put("/_emulator/cloud-link")
async def put_cloud_link(request: web.Request) -> web.Response:
    """Switch the cloud link as ``PUT /api/v1/cloud-link`` does; with ``state``, answer once it is in that state (a
    test switches it on and waits for it online in one request). A refused query switches nothing; a timeout
    leaves the switch made."""
    enabled = require_bool(await read_json(request), "enabled")
    waiting = wanted_state(request)
    link = request.app[LINK]
    await link.set_enabled(enabled)
    return await answer_when(link, waiting)
