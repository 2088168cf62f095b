"""The HOME application factory: wires config, clock, node, link, routes and pages; does no I/O itself."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

import structlog
from aiohttp import web

from home import (
    api,
    api_emulator,
    api_journal,
    openapi,
    pages_licenses,
    pages_resources,
    pages_settings,
    site,
)
from home.appkeys import CLOCK, CONFIG, LINK, NODE
from home.config import Config
from home.link import CloudLink
from home.node import Node
from shared import openapi as shared_openapi
from shared.bodies import HANDLER_ARGS
from shared.clock import Clock, VirtualClock, WallClock
from shared.pagekit import api_origin_guard
from shared.web import get_healthz, make_error_middleware

log = structlog.get_logger()


def make_clock(config: Config) -> Clock:
    """The clock ``config`` asks for; a clock file makes a virtual clock shared with other processes."""
    if config.virtual_clock or config.clock_file is not None:
        return VirtualClock(path=config.clock_file)
    return WallClock()


async def node_ctx(app: web.Application) -> AsyncIterator[None]:
    node = app[NODE]
    await node.start()
    yield
    await node.close()


async def keep_time_mark(node: Node, interval: float) -> None:
    """Write the time high-water mark down regularly, so a HOME nobody uses still remembers how late it has been."""
    while True:
        await asyncio.sleep(interval)
        try:
            await node.current_time(force_persist=True)
        except Exception:  # a full disk must not end the task: the next tick tries again
            log.exception("time_mark_not_saved")


async def time_mark_ctx(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(keep_time_mark(app[NODE], app[CONFIG].time_mark_seconds))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def link_ctx(app: web.Application) -> AsyncIterator[None]:
    link = app[LINK]
    await link.start()
    yield
    await link.close()


def create_app(config: Config, clock: Clock | None = None) -> web.Application:
    """The HOME web application. Tests pass a clock (e.g. one VirtualClock shared with a cloud)."""
    clock = clock if clock is not None else make_clock(config)
    app = web.Application(
        middlewares=[make_error_middleware(site.render_error_page), api_origin_guard], handler_args=HANDLER_ARGS
    )
    node = Node(config, clock)
    app[CONFIG] = config
    app[CLOCK] = clock
    app[NODE] = node
    app[LINK] = CloudLink(node)
    app.cleanup_ctx.append(node_ctx)
    app.cleanup_ctx.append(time_mark_ctx)
    app.cleanup_ctx.append(link_ctx)
    app.router.add_get("/healthz", get_healthz)
    app.add_routes([shared_openapi.serve(openapi.build(config.emulator_api))])
    app.add_routes(api.routes)
    if config.emulator_api:
        app.add_routes(api_emulator.routes)
        app.add_routes(api_journal.routes)
    site.setup(app)
    for module in (pages_licenses, pages_resources, pages_settings):
        app.add_routes(module.routes)
    return app
