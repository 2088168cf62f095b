"""Waiting for HOME's cloud link (only with ``--emulator-api``): a test asks once and is answered when the link
reaches the state it waits for, instead of asking again and again."""

from aiohttp import web

from flex_emulator.home.appkeys import LINK
from flex_emulator.home.link.cloud_link import STATES
from flex_emulator.shared.errors import ApiError, BadRequest
from flex_emulator.shared.web import json_response, timeout_query

routes = web.RouteTableDef()


@routes.get("/_emulator/cloud-link")
async def get_cloud_link(request: web.Request) -> web.Response:
    """The cloud link (``GET /api/v1/system``'s ``cloud``); with ``state``, once the link is in that state."""
    link = request.app[LINK]
    wanted = request.query.get("state")
    if wanted is None:
        return json_response(link.view())
    if wanted not in STATES:
        raise BadRequest(f"'state' must be one of: {', '.join(STATES)}.", code="invalid_link_state")
    timeout = timeout_query(request)
    try:
        await link.wait_for_state(wanted, timeout)
    except TimeoutError:
        raise ApiError(
            f"The cloud link is {link.state}, not {wanted}, after {timeout:g} s.", code="timeout", status=504
        ) from None
    return json_response(link.view())
