"""HOME's emulator control routes (only with ``--emulator-api``)."""

from aiohttp import web

from flex_emulator.home.emulator import api_control, api_events, api_link

EMULATOR_ROUTES: list[web.RouteTableDef] = [api_control.routes, api_events.routes, api_link.routes]
