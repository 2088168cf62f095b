"""Requests another site's page could make: every ``/_emulator/`` route of an app, and body-less form posts."""

import re
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.kit.api import assert_error

FOREIGN_ORIGINS = ("null", "http://evil.example", "https://127.0.0.1.evil.example", "not a url")
# What a browser's <form> sends with no fields: a form type and an empty body (old browsers send no Origin).
EMPTY_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain")


def emulator_routes(app: web.Application) -> list[tuple[str, str]]:
    """(method, path) of every ``/_emulator/`` route, its ``{placeholders}`` filled with a dummy value (a static
    route's with one of its files)."""
    routes = set()
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if isinstance(route.resource, web.StaticResource):  # one of its files
            path += "/" + min(item.name for item in Path(route.resource.get_info()["directory"]).iterdir())
        if path.startswith("/_emulator/") and route.method != "HEAD":
            routes.add((route.method, re.sub(r"\{[^}]+\}", "x", path)))
    return sorted(routes)


async def assert_foreign_origins_refused(client: TestClient) -> int:
    """Each ``/_emulator/`` route answers 403 ``cross_origin`` to every foreign or null Origin; returns how many."""
    routes = emulator_routes(client.app)
    assert routes, "no /_emulator/ routes: is the emulator API switched on?"
    for method, path in routes:
        for origin in FOREIGN_ORIGINS:
            response = await client.request(method, path, headers={"Origin": origin})
            body = await response.json()
            assert response.status == 403, (method, path, origin, body)
            assert_error(body, "cross_origin")
    return len(routes)
