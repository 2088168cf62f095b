"""The HOME application factory: wires config, clock, node, link, routes and pages; does no I/O itself."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

import structlog
from aiohttp import web

from flex_emulator.home.appkeys import CLOCK, CONFIG, LINK, NODE
from flex_emulator.home.config import Config
from flex_emulator.home.domain.node import Node
from flex_emulator.home.emulator.routes import EMULATOR_ROUTES
from flex_emulator.home.link.cloud_link import CloudLink
from flex_emulator.home.web import openapi
from flex_emulator.home.web.pages import kit
from flex_emulator.home.web.routes import API_ROUTES, PAGE_ROUTES
from flex_emulator.shared import emulator_http
from flex_emulator.shared.bodies import HANDLER_ARGS
from flex_emulator.shared.clock import Clock, VirtualClock, WallClock
from flex_emulator.shared.pagekit import origin_guard
from flex_emulator.shared.web import get_healthz, make_error_middleware

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
        await node.clock.sleep(interval)
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
        middlewares=[make_error_middleware(kit.render_error_page), origin_guard(writes_to=("/api/",))],
        handler_args=HANDLER_ARGS,
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
    app.add_routes([openapi.route(config.emulator_api)])
    for table in API_ROUTES + (EMULATOR_ROUTES if config.emulator_api else []):
        app.add_routes(table)
    if config.emulator_api:
        emulator_http.install(app, clock.now, node.journal.note)
    kit.setup(app)
    for table in PAGE_ROUTES:
        app.add_routes(table)
    return app
