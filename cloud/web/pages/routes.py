"""The portal pages' route tables, one module per page family."""

from aiohttp import web

from flex_emulator.cloud.web.pages import auth, credits, subscriptions, systems, users

PAGE_ROUTES: list[web.RouteTableDef] = [auth.routes, subscriptions.routes, systems.routes, credits.routes, users.routes]
