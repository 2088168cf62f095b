"""Starting a cloud and HOME nodes for a world: in this process (default) or as real subprocesses.

Both ways give each service a free loopback port, a data folder of its own and one virtual clock
for all of them: in-process one ``VirtualClock`` object, as subprocesses one clock file.
"""

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

from aiohttp import web

from flex_emulator.subprocesses import AsyncSubprocesses, Subprocesses

if TYPE_CHECKING:
    from flex_emulator.shared.clock import Clock

Mode = Literal["inprocess", "subprocess"]
T = TypeVar("T")


class AsyncServers(Protocol):
    async def start_cloud(self) -> str: ...
    async def restart_cloud(self, *, kill: bool = False) -> str: ...
    def app(self, name: str) -> web.Application: ...
    async def start_home(self, name: str, cloud_url: str, *, label: str | None = None, offline: bool = True) -> str: ...
    async def stop_home(self, name: str) -> None: ...
    async def close(self) -> None: ...


class Servers(Protocol):
    def start_cloud(self) -> str: ...
    def restart_cloud(self, *, kill: bool = False) -> str: ...
    def app(self, name: str) -> web.Application: ...
    def start_home(self, name: str, cloud_url: str, *, label: str | None = None, offline: bool = True) -> str: ...
    def stop_home(self, name: str) -> None: ...
    def close(self) -> None: ...


# --- in this process --------------------------------------------------------------------------


class AsyncInProcess:
    """aiohttp apps in the running event loop, on real loopback sockets, sharing one ``VirtualClock``.

    ``cloud`` overrides fields of the cloud's ``Config`` (``ack_wait_seconds=…``), and ``start_home`` takes
    overrides of HOME's ``Config`` and a clock of its own: white-box knobs an in-process world can offer."""

    def __init__(self, root: Path, start: datetime, *, cloud: Mapping[str, Any] | None = None) -> None:
        from flex_emulator.shared.clock import VirtualClock

        self.root = root
        self.clock = VirtualClock(start=start)
        self.cloud_settings = dict(cloud or {})
        self._runners: dict[str, web.AppRunner] = {}

    async def _serve(self, name: str, app: web.Application, port: int = 0) -> str:
        runner = web.AppRunner(app, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        self._runners[name] = runner
        return f"http://127.0.0.1:{runner.addresses[0][1]}"

    def app(self, name: str) -> web.Application:
        return self._runners[name].app

    async def start_cloud(self, port: int = 0) -> str:
        from flex_emulator.cloud.app import create_app
        from flex_emulator.cloud.config import Config

        settings: dict[str, Any] = {"emulator_api": True, "virtual_clock": True, "cheap_passwords": True}
        config = Config(data_dir=self.root / "cloud", **(settings | self.cloud_settings))
        return await self._serve("cloud", create_app(config, self.clock), port)

    async def restart_cloud(self, *, kill: bool = False) -> str:
        """Stop the cloud (in-process always cleanly) and start it again on its data and port."""
        port = self._runners["cloud"].addresses[0][1]
        await self.stop_home("cloud")
        return await self.start_cloud(port)

    async def start_home(
        self,
        name: str,
        cloud_url: str,
        *,
        label: str | None = None,
        offline: bool = True,
        clock: "Clock | None" = None,
        **settings: Any,
    ) -> str:
        """A HOME with its data in ``root/name``. ``settings`` override fields of its ``Config``
        (``cloud_key_file=None``: pin the cloud's key on first contact); ``clock`` runs it on a clock of its own."""
        from flex_emulator.home.app import create_app
        from flex_emulator.home.config import Config

        defaults: dict[str, Any] = {
            "emulator_api": True,
            "cloud_key_file": self.root / "cloud" / "jwks.json",
            "reconnect_min_seconds": 0.05,
            "reconnect_max_seconds": 0.5,
        }
        config = Config(
            data_dir=self.root / name, cloud_url=cloud_url, label=label, offline=offline, **(defaults | settings)
        )
        from flex_emulator.home.appkeys import LINK

        app = create_app(config, clock or self.clock)
        url = await self._serve(name, app)
        app[LINK].announce(url)  # the cloud's inspector reads this HOME's journal there, once the link is on
        return url

    async def stop_home(self, name: str) -> None:
        runner = self._runners.pop(name, None)
        if runner is not None:
            await runner.cleanup()

    async def close(self) -> None:
        homes = [name for name in self._runners if name != "cloud"]
        for name in homes:  # HOMEs first, so the cloud sees their links end cleanly
            await self.stop_home(name)
        await self.stop_home("cloud")


class LoopThread:
    """An event loop on a daemon thread, so blocking code can run coroutines on it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="flex-emulator-world", daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        future: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


class InProcess:
    """``AsyncInProcess`` driven from blocking code: the services run on a loop thread of their own."""

    def __init__(self, root: Path, start: datetime) -> None:
        self._thread = LoopThread()
        self._servers = self._thread.run(_make_in_loop(root, start))

    @property
    def clock(self) -> Any:
        return self._servers.clock

    def start_cloud(self) -> str:
        return self._thread.run(self._servers.start_cloud())

    def restart_cloud(self, *, kill: bool = False) -> str:
        return self._thread.run(self._servers.restart_cloud(kill=kill))

    def app(self, name: str) -> web.Application:
        """The running application; it lives on the world's loop thread, so only read it from here."""
        return self._servers.app(name)

    def start_home(self, name: str, cloud_url: str, *, label: str | None = None, offline: bool = True) -> str:
        return self._thread.run(self._servers.start_home(name, cloud_url, label=label, offline=offline))

    def stop_home(self, name: str) -> None:
        self._thread.run(self._servers.stop_home(name))

    def close(self) -> None:
        try:
            self._thread.run(self._servers.close())
        finally:
            self._thread.stop()


async def _make_in_loop(root: Path, start: datetime) -> AsyncInProcess:
    return AsyncInProcess(root, start)


def make_async_servers(mode: Mode, root: Path, start: datetime) -> AsyncServers:
    return AsyncInProcess(root, start) if mode == "inprocess" else AsyncSubprocesses(root, start)


def make_servers(mode: Mode, root: Path, start: datetime) -> Servers:
    return InProcess(root, start) if mode == "inprocess" else Subprocesses(root, start)
