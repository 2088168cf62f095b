"""The JSON API's route tables, one module per resource."""

from aiohttp import web

from flex_emulator.cloud.web.api import accounts, credits, link

API_ROUTES: list[web.RouteTableDef] = [accounts.routes, credits.routes, link.routes]
