"""A world's services in this process: the cloud and HOME nodes on an event loop thread of their own (so a
blocking client works against them from any test, an async one included), one ``VirtualClock`` object for all
of them, and a world started ahead of time (``PreparedWorld``). ``servers`` chooses between this and
``subprocesses``."""

import asyncio
import concurrent.futures
import shutil
import threading
from collections.abc import Coroutine, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from flex_emulator import answers
from flex_emulator._async.client import AsyncHomeClient
from flex_emulator.service_logs import DEFAULT_LEVEL, ServiceLog, logging_to
from flex_emulator.shared.clock import Clock, VirtualClock
from flex_emulator.shared.database import SqliteDatabase
from flex_emulator.shared.emulator_http import HARNESS_HEADER
from flex_emulator.templates import Templates
from flex_emulator.transport import AsyncTransport

T = TypeVar("T")
CLOUD = "cloud"
# The HOME a world prepared ahead of time starts: the one ``start_home()`` starts first by default.
FIRST_HOME = ("home-1-studio-a", "Studio A")
NO_KILL = (
    "kill=True stops the cloud with SIGKILL, which only a world of subprocesses can do: an in-process cloud "
    "shares the test's process. Mark the test @pytest.mark.flex_world(mode='subprocess'), or restart it "
    "cleanly with restart_cloud()."
)


class ServiceLoop:
    """The in-process services: aiohttp apps on real loopback sockets sharing one ``VirtualClock``, in the loop
    that runs these coroutines.

    ``cloud`` overrides fields of the cloud's ``Config`` (``ack_wait_seconds=…``), and ``start_home`` takes
    overrides of HOME's ``Config`` and a clock of its own: white-box knobs an in-process world can offer."""

    def __init__(
        self,
        root: Path,
        start: datetime,
        log_level: str = DEFAULT_LEVEL,
        *,
        cloud: Mapping[str, Any] | None = None,
    ) -> None:
        self.root = root
        self.clock = VirtualClock(start=start)
        self.log_level = log_level
        self.cloud_settings = dict(cloud or {})
        self._runners: dict[str, web.AppRunner] = {}
        self._logs: dict[str, ServiceLog] = {}
        # What ``prepare`` started ahead, until a start asking for exactly it takes it: the cloud's URL, and the
        # first HOME's URL with the cloud URL and the moment it was started with.
        self._ahead_cloud: str | None = None
        self._ahead_home: tuple[str, str, datetime] | None = None
        self._preparing: asyncio.Task[None] | None = None
        # The ``GET /api/v1/system`` answer of the HOME started ahead, read then as the world would read it at once.
        self._systems_read: dict[str, answers.HomeSystem] = {}
        root.mkdir(parents=True, exist_ok=True)

    def _log(self, name: str) -> ServiceLog:
        if name not in self._logs:
            self._logs[name] = ServiceLog(self.root / f"{name}.log", self.log_level)
        return self._logs[name]

    async def _serve(self, name: str, app: web.Application, port: int) -> str:
        with logging_to(self._log(name)):
            runner = web.AppRunner(app, shutdown_timeout=2.0, access_log=None)
            await runner.setup()
            try:
                await web.TCPSite(runner, "127.0.0.1", port).start()
            except OSError as exc:
                await runner.cleanup()
                raise RuntimeError(f"{name} cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None
        self._runners[name] = runner
        return f"http://127.0.0.1:{runner.addresses[0][1]}"

    def app(self, name: str) -> web.Application:
        """The running aiohttp application of a service."""
        return self._runners[name].app

    async def start_cloud(self, port: int = 0, *, name: str = CLOUD) -> str:
        """Start the cloud on ``port`` (0: a free one), with its data in ``root/cloud``; its URL. Another ``name``
        starts another process of the same cloud, its data in ``root/name`` (on PostgreSQL, ``cloud={"database":
        URL}``: processes on one database are one cloud). A cloud started ahead (``prepare``) is taken instead."""
        await self._ready()
        if name == CLOUD and port == 0 and self._ahead_cloud is not None:
            url, self._ahead_cloud = self._ahead_cloud, None
            return url
        return await self._start_cloud(port, name)

    async def _start_cloud(self, port: int, name: str) -> str:
        from flex_emulator.cloud.app import create_app
        from flex_emulator.cloud.config import Config

        if "database" not in self.cloud_settings:
            Templates.session().prepare_cloud(self.root / name)
        # durable=False: a test world's data is thrown away; SQLite need not wait for the disk (see sqlite.connect)
        settings: dict[str, Any] = {
            "emulator_api": True,
            "virtual_clock": True,
            "cheap_passwords": True,
            "durable": False,
        }
        config = Config(data_dir=self.root / name, **(settings | self.cloud_settings))
        return await self._serve(name, create_app(config, self.clock), port)

    async def start_home(
        self,
        name: str,
        cloud_url: str,
        *,
        label: str | None = None,
        offline: bool = True,
        port: int = 0,
        clock: Clock | None = None,
        **settings: Any,
    ) -> str:
        """Start a HOME with its data in ``root/name``; its URL. ``settings`` override fields of its ``Config``
        (``cloud_key_file=None``: pin the cloud's key on first contact); ``clock`` runs it on a clock of its own.
        The HOME started ahead (``prepare``) is taken instead when this asks for exactly it and the world's clock
        has not moved since; otherwise it is stopped and its folder and log removed, as if it had never been."""
        await self._ready()
        ahead, self._ahead_home = self._ahead_home, None
        if ahead is not None:
            url, prepared_for, moment = ahead
            asked = (name, label, cloud_url, offline, port, clock, settings, self.clock.now())
            if asked == (*FIRST_HOME, prepared_for, True, 0, None, {}, moment):
                return url
            await self._forget(FIRST_HOME[0])
        return await self._start_home(name, cloud_url, label=label, offline=offline, port=port, clock=clock, **settings)

    async def _start_home(
        self,
        name: str,
        cloud_url: str,
        *,
        label: str | None = None,
        offline: bool = True,
        port: int = 0,
        clock: Clock | None = None,
        **settings: Any,
    ) -> str:
        from flex_emulator.home.app import create_app
        from flex_emulator.home.appkeys import LINK
        from flex_emulator.home.config import Config

        Templates.session().prepare_home(self.root / name)
        defaults: dict[str, Any] = {
            "emulator_api": True,
            "durable": False,
            "cloud_key_file": self.root / CLOUD / "jwks.json",
            "reconnect_min_seconds": 0.05,
            "reconnect_max_seconds": 0.5,
        }
        config = Config(
            data_dir=self.root / name, cloud_url=cloud_url, label=label, offline=offline, **(defaults | settings)
        )
        app = create_app(config, clock or self.clock)
        url = await self._serve(name, app, port)
        app[LINK].announce(url)  # the cloud's inspector reads this HOME's journal there, once the link is on
        return url

    # --- a world prepared ahead of time -----------------------------------------------------------

    def prepare(self) -> None:
        """Start the cloud and a first HOME (``FIRST_HOME``: unlinked, its link off) now, in the background, so a
        test need not wait for them: the first ``start_cloud()`` takes the cloud, a first ``start_home()`` asking
        for exactly that HOME takes it. Neither is sent a request until then (a HOME with its link off does not
        talk to the cloud), so their journals hold only what the test then does, as in a world started on demand."""
        self._preparing = asyncio.get_running_loop().create_task(self._prepare(), name="prepare-world")

    async def _prepare(self) -> None:
        cloud_url = await self._start_cloud(0, CLOUD)
        name, label = FIRST_HOME
        home_url = await self._start_home(name, cloud_url, label=label)
        http = AsyncTransport(headers={HARNESS_HEADER: "world"})
        try:  # the request the world makes first to a HOME it started (marked as the world's, as it would be)
            self._systems_read[home_url] = await AsyncHomeClient(home_url, transport=http).system()
        finally:
            await http.close()
        self._compile_ahead(name)
        self._ahead_cloud, self._ahead_home = cloud_url, (home_url, cloud_url, self.clock.now())

    def _compile_ahead(self, home: str) -> None:
        """Compile into the cloud's and the HOME's fresh connections the statements earlier worlds of this process
        ran most (``sqlite.compile_ahead``), so the test does not pay for it on their first use."""
        from flex_emulator.cloud.appkeys import DB
        from flex_emulator.home.appkeys import NODE

        for database in (self.app(CLOUD)[DB], self.app(home)[NODE].db):
            if isinstance(database, SqliteDatabase):
                database.compile_ahead()

    def system_read_ahead(self, url: str) -> answers.HomeSystem | None:
        """The ``GET /api/v1/system`` answer of the HOME at ``url`` if it was started ahead and taken (once)."""
        return self._systems_read.pop(url, None)

    async def prepared(self) -> None:
        """Wait until what ``prepare`` started is up, or has failed (then the world starts its own)."""
        if self._preparing is not None:
            await asyncio.wait([self._preparing])

    async def _ready(self) -> None:
        """Wait until what is being started ahead is up; if that failed, stop and remove what it started (the
        world then starts its services on demand)."""
        preparing, self._preparing = self._preparing, None
        if preparing is None:
            return
        try:
            await preparing
        except Exception:  # whatever it was, the world starts its services itself
            for name in list(self._runners):
                await self._forget(name)

    async def _forget(self, name: str) -> None:
        """Stop a service started ahead that the world does not take, and remove its folder and log file."""
        self._systems_read.clear()  # only what was started ahead is read ahead, and none of it stays
        await self.stop(name)
        log = self._logs.pop(name, None)
        if log is not None:
            log.close()
        shutil.rmtree(self.root / name, ignore_errors=True)
        (self.root / f"{name}.log").unlink(missing_ok=True)

    async def stop(self, name: str) -> None:
        """Stop a service cleanly (its data stays)."""
        runner = self._runners.pop(name, None)
        if runner is not None:
            with logging_to(self._log(name)):
                await runner.cleanup()

    async def close(self) -> None:
        """Stop every service, HOMEs first (a HOME started ahead and never taken is removed)."""
        await self._ready()
        if self._ahead_home is not None:
            self._ahead_home = None
            await self._forget(FIRST_HOME[0])
        for name in [name for name in self._runners if not name.startswith(CLOUD)]:  # HOMEs first: their links
            await self.stop(name)  # end cleanly; then the cloud's other processes
        for name in [name for name in self._runners if name.startswith(f"{CLOUD}-")]:
            await self.stop(name)
        await self.stop(CLOUD)
        for log in self._logs.values():
            log.close()


class LoopThread:
    """An event loop on a daemon thread, so any code (blocking or async on another loop) can run coroutines on it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="flex-emulator-world", daemon=True)
        self._thread.start()

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> "concurrent.futures.Future[T]":
        """Schedule ``coroutine`` on the loop thread; a future of its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coroutine`` on the loop thread and wait for its result here (at most ``timeout`` seconds)."""
        return self.submit(coroutine).result(timeout)

    def stop(self) -> None:
        """Stop the loop and its thread."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


async def _make_in_loop(
    root: Path, start: datetime, log_level: str, database: str | None, prepare: bool = False
) -> ServiceLoop:
    # made on the loop thread: its asyncio objects belong there
    services = ServiceLoop(root, start, log_level, cloud={"database": database} if database else None)
    if prepare:
        services.prepare()
    return services


class PreparedWorld:
    """An in-process world being started ahead of time, in ``folder`` (which must be new or empty): its cloud
    and first HOME start on a loop thread of their own while the caller goes on (a test's world runs, say).
    ``World.start`` on that folder with the same ``start`` and ``log_level`` (in-process, on SQLite) takes it
    and waits only for what is not up yet; any other start ``discard()``s it (stopped, its folder removed).
    See ``ServiceLoop.prepare`` for what it starts and why the world that takes it is as fresh as any."""

    def __init__(self, folder: Path, start: datetime, log_level: str = DEFAULT_LEVEL) -> None:
        if folder.exists() and any(folder.iterdir()):
            raise ValueError(f"a world is prepared in a new or empty folder; {folder} has files")
        self.folder = folder
        self.start = start
        self.log_level = log_level
        self._thread = LoopThread()
        self._services = self._thread.submit(_make_in_loop(folder, start, log_level, None, prepare=True))
        self._done = False

    def fits(self, folder: Path, start: datetime, log_level: str) -> bool:
        """Whether a world started in ``folder`` with these settings can take this one."""
        same = (folder.resolve(), start, log_level) == (self.folder.resolve(), self.start, self.log_level)
        return same and not self._done

    def wait(self) -> None:
        """Block until its services are up (or failed to start); a world that takes it waits for them anyway."""
        if not self._done:
            self._thread.run(self._services.result().prepared())

    def take(self) -> tuple[LoopThread, ServiceLoop]:
        """Its loop thread and services, for the world that takes it (at once: its start may still be going on)."""
        self._done = True
        return self._thread, self._services.result()

    def discard(self) -> None:
        """Stop it and remove its folder (nothing to do once taken or discarded)."""
        if self._done:
            return
        self._done = True
        try:
            self._thread.run(self._services.result().close())
        finally:
            self._thread.stop()
            shutil.rmtree(self.folder, ignore_errors=True)


class _OnLoopThread:
    """The services on a loop thread of their own (those of a ``PreparedWorld``, given one), and what reading them
    needs no trip to that thread for."""

    def __init__(
        self,
        root: Path,
        start: datetime,
        log_level: str = DEFAULT_LEVEL,
        database: str | None = None,
        *,
        prepared: PreparedWorld | None = None,
    ) -> None:
        if prepared is not None:
            self._thread, self._services = prepared.take()
            return
        self._thread = LoopThread()
        self._services = self._thread.run(_make_in_loop(root, start, log_level, database))

    @property
    def clock(self) -> VirtualClock:
        """The world's one virtual clock."""
        return self._services.clock

    def system_read_ahead(self, url: str) -> answers.HomeSystem | None:
        """The system answer of a HOME started ahead and taken (see ``ServiceLoop.system_read_ahead``)."""
        return self._services.system_read_ahead(url)

    def app(self, name: str) -> web.Application:
        """The running application; it lives on the world's loop thread, so only read it (never await on it)."""
        return self._services.app(name)


class InProcess(_OnLoopThread):
    """The services in this process, driven from blocking code."""

    def start_cloud(self, port: int = 0) -> str:
        """Start the cloud; its URL."""
        return self._thread.run(self._services.start_cloud(port))

    def start_home(
        self, name: str, cloud_url: str, *, label: str | None = None, offline: bool = True, port: int = 0
    ) -> str:
        """Start a HOME; its URL."""
        return self._thread.run(self._services.start_home(name, cloud_url, label=label, offline=offline, port=port))

    def stop(self, name: str) -> None:
        """Stop a service cleanly."""
        self._thread.run(self._services.stop(name))

    def kill(self, name: str) -> None:
        """Refused in-process: raises ``RuntimeError`` saying why."""
        raise RuntimeError(NO_KILL)

    def close(self) -> None:
        """Stop every service and the loop thread."""
        try:
            self._thread.run(self._services.close())
        finally:
            self._thread.stop()


class AsyncInProcess(ServiceLoop):
    """The services in the running event loop itself, for white-box tests that reach into the running apps
    (their objects, their databases) from that loop. A blocking call in the test would stop them answering:
    ``AsyncWorld.start`` and ``async_flex_world`` use ``AsyncOnThread`` instead."""

    async def kill(self, name: str) -> None:
        """Refused in-process: raises ``RuntimeError`` saying why."""
        raise RuntimeError(NO_KILL)


class AsyncOnThread(_OnLoopThread):
    """The services in this process, driven from async code: they run on a loop thread of their own, so a
    blocking call inside an async test (a user's synchronous client) does not stop them answering."""

    async def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return await asyncio.wrap_future(self._thread.submit(coroutine))

    async def start_cloud(self, port: int = 0) -> str:
        """Start the cloud; its URL."""
        return await self._run(self._services.start_cloud(port))

    async def start_home(
        self, name: str, cloud_url: str, *, label: str | None = None, offline: bool = True, port: int = 0
    ) -> str:
        """Start a HOME; its URL."""
        return await self._run(self._services.start_home(name, cloud_url, label=label, offline=offline, port=port))

    async def stop(self, name: str) -> None:
        """Stop a service cleanly."""
        await self._run(self._services.stop(name))

    async def kill(self, name: str) -> None:
        """Refused in-process: raises ``RuntimeError`` saying why."""
        raise RuntimeError(NO_KILL)

    async def close(self) -> None:
        """Stop every service and the loop thread."""
        try:
            await self._run(self._services.close())
        finally:
            await asyncio.to_thread(self._thread.stop)
