"""HOME's route tables: the JSON API and the pages."""

from aiohttp import web

from flex_emulator.home.web import api
from flex_emulator.home.web.pages import licenses, resources, settings

API_ROUTES: list[web.RouteTableDef] = [api.routes]
PAGE_ROUTES: list[web.RouteTableDef] = [licenses.routes, resources.routes, settings.routes]
