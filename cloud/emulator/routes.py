"""The emulator's control routes (only with ``--emulator-api``)."""

from aiohttp import web

from flex_emulator.cloud.emulator import api_control, api_faults, api_inspector, api_setup

EMULATOR_ROUTES: list[web.RouteTableDef] = [
    api_setup.routes,
    api_control.routes,
    api_faults.routes,
    api_inspector.routes,
]
