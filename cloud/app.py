"""The cloud application factory: wires routes, middleware, app keys and long-lived resources."""

import asyncio
import secrets
from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.typedefs import Handler

from flex_emulator.cloud.appkeys import (
    ACCOUNTS,
    CLOCK,
    CLUSTER,
    CONFIG,
    DB,
    EMULATOR_STATE,
    EXPIRY,
    HOME_ADDRESSES,
    HUB,
    INSPECTOR,
    SCHEDULER,
    SIGNER,
    SUBSCRIPTIONS,
    SYSTEMS,
    TRANSFERS,
)
from flex_emulator.cloud.config import Config
from flex_emulator.cloud.domain.accounts import Accounts
from flex_emulator.cloud.domain.cluster import Cluster, made_key_pem, shared_page_secret, shared_signer
from flex_emulator.cloud.domain.demo import seed_demo
from flex_emulator.cloud.domain.expiry import Expiry
from flex_emulator.cloud.domain.models import JobKind
from flex_emulator.cloud.domain.scheduler import VIRTUAL_NOW_META, Scheduler
from flex_emulator.cloud.domain.signer import Signer
from flex_emulator.cloud.domain.subscriptions import Subscriptions
from flex_emulator.cloud.domain.systems import Systems
from flex_emulator.cloud.domain.transfers import Transfers
from flex_emulator.cloud.emulator import api_inspector
from flex_emulator.cloud.emulator.home_addresses import HomeAddresses
from flex_emulator.cloud.emulator.inspector import Inspector
from flex_emulator.cloud.emulator.routes import EMULATOR_ROUTES
from flex_emulator.cloud.emulator.state import EmulatorState
from flex_emulator.cloud.link.hub import LinkHub
from flex_emulator.cloud.store import Database, open_store
from flex_emulator.cloud.web import openapi
from flex_emulator.cloud.web.api.routes import API_ROUTES
from flex_emulator.cloud.web.pages import kit
from flex_emulator.cloud.web.pages.routes import PAGE_ROUTES
from flex_emulator.shared import emulator_http, pagekit
from flex_emulator.shared.bodies import HANDLER_ARGS
from flex_emulator.shared.clock import Clock, VirtualClock, WallClock
from flex_emulator.shared.journal import Journal, keep_written
from flex_emulator.shared.pagekit import origin_guard
from flex_emulator.shared.timefmt import from_epoch
from flex_emulator.shared.web import get_healthz, json_response, make_error_middleware


def make_clock(config: Config) -> Clock:
    if config.virtual_clock:
        return VirtualClock(path=config.clock_file)
    return WallClock()


async def get_jwks(request: web.Request) -> web.Response:
    return json_response(request.app[SIGNER].jwks(), headers={"Cache-Control": "public, max-age=300"})


@web.middleware
async def catch_up_clock(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Several processes on one virtual clock: a request sees the time any of them last moved it to."""
    cluster = request.app.get(CLUSTER)
    if cluster is not None:
        await cluster.catch_up_clock()
    return await handler(request)


def create_app(config: Config, clock: Clock | None = None) -> web.Application:
    middlewares = [make_error_middleware(render_html=kit.render_error_page), origin_guard()]
    if config.database is not None and config.virtual_clock:
        middlewares.append(catch_up_clock)
    app = web.Application(
        middlewares=middlewares,
        client_max_size=config.max_body_bytes,
        handler_args=HANDLER_ARGS,
    )
    app[CONFIG] = config
    app[CLOCK] = clock or make_clock(config)
    journal = Journal(app[CLOCK].now, keep=config.journal_keep)
    app[DB] = open_store(config.data_dir, config.database, journal, durable=config.durable)
    app[HUB] = LinkHub(journal, config.resend_seconds, app[CLOCK], app[DB].bus)
    app[HOME_ADDRESSES] = HomeAddresses(config.inspector_hosts, app[DB].bus)
    app.router.add_get("/healthz", get_healthz)
    app.add_routes([openapi.route(config.emulator_api)])
    app.router.add_get("/.well-known/jwks.json", get_jwks)
    for table in API_ROUTES + (EMULATOR_ROUTES if config.emulator_api else []):
        app.add_routes(table)
    if config.emulator_api:
        api_inspector.add_static(app)
        emulator_http.install(app, app[CLOCK].now, journal.note)
    kit.setup(app)
    for table in PAGE_ROUTES:
        app.add_routes(table)
    app.cleanup_ctx.append(services)
    app.on_shutdown.append(close_links)
    return app


async def close_links(app: web.Application) -> None:
    """Close HOME links and inspector streams first: graceful shutdown would otherwise wait for their handlers."""
    if INSPECTOR in app:
        await app[INSPECTOR].close()
    await app[HUB].close_all()


async def services(app: web.Application) -> AsyncIterator[None]:
    """Open the database and signing key, build the services, run the scheduler; undo it all on exit."""
    config, clock, db, hub = app[CONFIG], app[CLOCK], app[DB], app[HUB]
    await db.open()
    if db.bus.shared:  # processes on one PostgreSQL database sign with one key and one page secret
        config.data_dir.mkdir(parents=True, exist_ok=True)
        app[SIGNER] = await shared_signer(db, config.data_dir, made_key_pem())
        app[pagekit.CSRF_SECRET] = await shared_page_secret(db, secrets.token_bytes(32))
    else:
        app[SIGNER] = Signer.load(config.data_dir)
    transfers = Transfers(db, app[SIGNER], hub, clock, config.ack_wait_seconds)
    subscriptions = Subscriptions(db, transfers, clock)
    expiry = Expiry(transfers)
    scheduler = Scheduler(
        db,
        clock,
        {
            JobKind.AUTO_ACTIVATE: subscriptions.auto_activate,
            JobKind.TERM_END: subscriptions.term_ended,
            JobKind.AUTO_REVOKE: expiry.auto_revoke,
            JobKind.VALIDITY_END: expiry.validity_end,
            JobKind.CHECK_IN: expiry.check_in,
        },
        deliver=lambda snapshot: transfers.push(snapshot, wait=True),
    )
    app[TRANSFERS], app[SUBSCRIPTIONS], app[EXPIRY], app[SCHEDULER] = transfers, subscriptions, expiry, scheduler
    app[SYSTEMS] = Systems(db, hub, transfers, clock)
    app[ACCOUNTS] = Accounts(db, clock)
    app[EMULATOR_STATE] = EmulatorState(db, clock, app[SIGNER], hub, scheduler, config.data_dir)
    app[INSPECTOR] = Inspector(db, hub, app[SIGNER], clock, scheduler, app[HOME_ADDRESSES])
    cluster = app[CLUSTER] = Cluster(db, hub, clock, app[SIGNER], scheduler)
    await cluster.start()
    await restore_virtual_time(db, clock)
    if config.demo:
        await seed_demo(db, subscriptions, clock)
    if isinstance(clock, VirtualClock) and clock.driver is None:
        clock.driver = scheduler.advance_to  # a HOME on this clock in this process moves time through the cloud
    task = asyncio.create_task(scheduler.run_forever(), name="cloud-scheduler")
    journal_task = asyncio.create_task(keep_written(db.journal, db.write_journal), name="cloud-journal")
    yield
    if isinstance(clock, VirtualClock) and clock.driver == scheduler.advance_to:
        clock.driver = None
    task.cancel()
    async with db.transaction():  # writes what is pending; holding the writer, the task is not inside one
        journal_task.cancel()
    await asyncio.gather(task, journal_task, return_exceptions=True)
    await hub.close_all()
    await cluster.stop()
    await db.write_journal()
    await db.close()


async def restore_virtual_time(db: Database, clock: Clock) -> None:
    """A virtual clock kept in memory resumes where it was, so a restart never moves time backwards."""
    saved = await db.read.meta.get(VIRTUAL_NOW_META)
    if isinstance(clock, VirtualClock) and saved is not None and from_epoch(int(saved)) > clock.now():
        clock.set(from_epoch(int(saved)))
