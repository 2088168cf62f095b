"""Starting a cloud and HOME nodes for a world: in this process (default) or as real subprocesses.

Both ways give each service a free loopback port, a data folder of its own, a log file of its own
(``<name>.log`` in the world's folder) and one virtual clock for all of them: in-process one
``VirtualClock`` object, as subprocesses one clock file. A service stopped and started again keeps
its port and data. In this process the services run on an event loop thread of their own, so a
blocking client works against them from any test, an async one included.
"""

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

from aiohttp import web

from flex_emulator.service_logs import DEFAULT_LEVEL, ServiceLog, logging_to
from flex_emulator.shared.clock import Clock, VirtualClock
from flex_emulator.subprocesses import AsyncSubprocesses, Subprocesses
from flex_emulator.templates import Templates

Mode = Literal["inprocess", "subprocess"]
T = TypeVar("T")
CLOUD = "cloud"
NO_KILL = (
    "kill=True stops the cloud with SIGKILL, which only a world of subprocesses can do: an in-process cloud "
    "shares the test's process. Mark the test @pytest.mark.flex_world(mode='subprocess'), or restart it "
    "cleanly with restart_cloud()."
)


class AsyncServers(Protocol):
    """How an ``AsyncWorld`` starts and stops its services."""

    async def start_cloud(self, port: int = 0) -> str:
        """Start the cloud (``port`` 0: a free one); its base URL."""
        ...

    async def start_home(
        self, name: str, cloud_url: str, *, label: str | None = None, offline: bool = True, port: int = 0
    ) -> str:
        """Start a HOME called ``name`` (its data folder and log file); its base URL."""
        ...

    async def stop(self, name: str) -> None:
        """Stop a service cleanly; its data stays."""
        ...

    async def kill(self, name: str) -> None:
        """Stop a service with SIGKILL (subprocesses only)."""
        ...

    def app(self, name: str) -> web.Application:
        """The running aiohttp application of a service (in-process only)."""
        ...

    async def close(self) -> None:
        """Stop every service, HOMEs first."""
        ...


class Servers(Protocol):
    """How a blocking ``World`` starts and stops its services."""

    def start_cloud(self, port: int = 0) -> str:
        """Start the cloud (``port`` 0: a free one); its base URL."""
        ...

    def start_home(
        self, name: str, cloud_url: str, *, label: str | None = None, offline: bool = True, port: int = 0
    ) -> str:
        """Start a HOME called ``name`` (its data folder and log file); its base URL."""
        ...

    def stop(self, name: str) -> None:
        """Stop a service cleanly; its data stays."""
        ...

    def kill(self, name: str) -> None:
        """Stop a service with SIGKILL (subprocesses only)."""
        ...

    def app(self, name: str) -> web.Application:
        """The running aiohttp application of a service (in-process only)."""
        ...

    def close(self) -> None:
        """Stop every service, HOMEs first."""
        ...


# --- in this process --------------------------------------------------------------------------


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
        URL}``: processes on one database are one cloud)."""
        from flex_emulator.cloud.app import create_app
        from flex_emulator.cloud.config import Config

        if "database" not in self.cloud_settings:
            Templates.session().prepare_cloud(self.root / name)
        settings: dict[str, Any] = {"emulator_api": True, "virtual_clock": True, "cheap_passwords": True}
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
        (``cloud_key_file=None``: pin the cloud's key on first contact); ``clock`` runs it on a clock of its own."""
        from flex_emulator.home.app import create_app
        from flex_emulator.home.appkeys import LINK
        from flex_emulator.home.config import Config

        Templates.session().prepare_home(self.root / name)
        defaults: dict[str, Any] = {
            "emulator_api": True,
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

    async def stop(self, name: str) -> None:
        """Stop a service cleanly (its data stays)."""
        runner = self._runners.pop(name, None)
        if runner is not None:
            with logging_to(self._log(name)):
                await runner.cleanup()

    async def close(self) -> None:
        """Stop every service, HOMEs first."""
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

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the loop thread and wait for its result here."""
        return self.submit(coroutine).result()

    def stop(self) -> None:
        """Stop the loop and its thread."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


async def _make_in_loop(root: Path, start: datetime, log_level: str, database: str | None) -> ServiceLoop:
    # made on the loop thread: its asyncio objects belong there
    return ServiceLoop(root, start, log_level, cloud={"database": database} if database else None)


class InProcess:
    """The services in this process, driven from blocking code."""

    def __init__(
        self, root: Path, start: datetime, log_level: str = DEFAULT_LEVEL, database: str | None = None
    ) -> None:
        self._thread = LoopThread()
        self._services = self._thread.run(_make_in_loop(root, start, log_level, database))

    @property
    def clock(self) -> VirtualClock:
        """The world's one virtual clock."""
        return self._services.clock

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

    def app(self, name: str) -> web.Application:
        """The running application; it lives on the world's loop thread, so only read it from here."""
        return self._services.app(name)

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


class AsyncOnThread:
    """The services in this process, driven from async code: they run on a loop thread of their own, so a
    blocking call inside an async test (a user's synchronous client) does not stop them answering."""

    def __init__(
        self, root: Path, start: datetime, log_level: str = DEFAULT_LEVEL, database: str | None = None
    ) -> None:
        self._thread = LoopThread()
        self._services = self._thread.run(_make_in_loop(root, start, log_level, database))

    @property
    def clock(self) -> VirtualClock:
        """The world's one virtual clock."""
        return self._services.clock

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

    def app(self, name: str) -> web.Application:
        """The running application; it lives on the world's loop thread (read it, don't await on it here)."""
        return self._services.app(name)

    async def close(self) -> None:
        """Stop every service and the loop thread."""
        try:
            await self._run(self._services.close())
        finally:
            await asyncio.to_thread(self._thread.stop)


def make_async_servers(
    mode: Mode, root: Path, start: datetime, log_level: str = DEFAULT_LEVEL, database: str | None = None
) -> AsyncServers:
    """The services of an ``AsyncWorld`` in ``mode``; ``database``: the cloud on that PostgreSQL database."""
    if mode == "inprocess":
        return AsyncOnThread(root, start, log_level, database)
    return AsyncSubprocesses(root, start, log_level=log_level, database=database)


def make_servers(
    mode: Mode, root: Path, start: datetime, log_level: str = DEFAULT_LEVEL, database: str | None = None
) -> Servers:
    """The services of a ``World`` in ``mode``; ``database``: the cloud on that PostgreSQL database."""
    if mode == "inprocess":
        return InProcess(root, start, log_level, database)
    return Subprocesses(root, start, log_level=log_level, database=database)
