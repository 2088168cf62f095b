"""Real servers for the browser tests: a cloud and HOME nodes, each on a free loopback port of one background thread."""

import asyncio
import re
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from playwright.sync_api import ConsoleMessage, Page, expect

from flex_emulator.cloud.app import create_app
from flex_emulator.cloud.config import Config
from flex_emulator.cloud.domain.demo import DEMO_ADMIN
from flex_emulator.home.app import create_app as create_home
from flex_emulator.home.appkeys import LINK
from flex_emulator.home.config import Config as HomeConfig
from flex_emulator.shared.clock import VirtualClock
from flex_emulator.transport import json_request

T = TypeVar("T")

ADMIN = DEMO_ADMIN


def sign_in(page: Page, url: str, email: str = ADMIN[0], password: str = ADMIN[1]) -> None:
    """Sign in through the portal's form, as a person would; ends on the Systems page."""
    page.goto(url + "/")
    expect(page).to_have_url(re.compile(r"/signin$"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Systems", level=1)).to_be_visible()


class AppsThread:
    """aiohttp apps on free loopback ports, all served by one event loop in a daemon thread."""

    def __init__(self, name: str = "apps-under-test") -> None:
        self.loop = asyncio.new_event_loop()
        self.runners: list[web.AppRunner] = []
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)

    def start(self) -> "AppsThread":
        self._thread.start()
        if not self._ready.wait(timeout=20):
            raise RuntimeError("the server thread did not start within 20 seconds")
        return self

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 10) -> T:
        """Run a coroutine on the servers' loop (e.g. a HOME link client) and wait for its result."""
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(timeout)

    def serve(self, factory: Callable[[], web.Application]) -> str:
        """Build an app on the loop (its objects belong there), serve it on a free port; answers its URL."""

        async def start() -> str:
            runner = web.AppRunner(factory(), access_log=None)
            await runner.setup()
            self.runners.append(runner)
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            host, port = runner.addresses[0][:2]
            return f"http://{host}:{port}"

        return self.run(start(), timeout=20)

    def stop(self) -> None:
        """Clean up the apps, newest first (HOMEs say goodbye before the cloud goes), then end the loop."""

        async def cleanup() -> None:
            for runner in reversed(self.runners):
                await runner.cleanup()
            self.runners.clear()

        if self._thread.is_alive():
            try:
                self.run(cleanup(), timeout=20)
            finally:
                self.loop.call_soon_threadsafe(self.loop.stop)
                self._thread.join(timeout=20)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._ready.set)
        self.loop.run_forever()
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()


class CloudThread(AppsThread):
    """The cloud app on a free loopback port, with its own event loop in a daemon thread."""

    def __init__(self, config: Config) -> None:
        super().__init__("cloud-under-test")
        self.config = config
        self.url = ""

    def start(self) -> "CloudThread":
        super().start()
        try:
            self.url = self.serve(lambda: create_app(self.config))
        except BaseException as exc:
            super().stop()
            raise RuntimeError("the cloud failed to start") from exc
        return self


def call(method: str, url: str, body: Any = None, token: str | None = None, raw: bytes | None = None) -> Any:
    """One JSON request (for set-up and assertions only; the steps under test are clicked)."""
    return json_request(method, url, body, token=token, raw=raw, timeout=10)


def wait_until(check: Callable[[], T], what: str, timeout: float = 10) -> T:
    """Poll ``check`` (every 50 ms) until it answers something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@dataclass
class HomeNode:
    label: str
    url: str
    system_id: str
    registration_code: str

    def system(self) -> dict[str, Any]:
        return call("GET", f"{self.url}/api/v1/system")


@dataclass
class Stack:
    """A cloud with the demo account and HOME nodes, all real, on loopback ports of one background thread."""

    servers: AppsThread
    data: Path
    cloud_url: str = ""
    homes: dict[str, HomeNode] = field(default_factory=dict)
    token: str = ""
    account: str = ""
    clock: VirtualClock | None = None

    @classmethod
    def start(cls, data: Path, homes: dict[str, bool], clock: VirtualClock | None = None) -> "Stack":
        """``homes`` maps each HOME label to whether its cloud link is switched on; with ``clock`` all of them run
        on that one virtual clock (else the wall clock)."""
        stack = cls(AppsThread("flex-stack").start(), data, clock=clock)
        try:
            cloud = Config(
                data_dir=data / "cloud", demo=True, emulator_api=True, ack_wait_seconds=3.0, virtual_clock=bool(clock)
            )
            stack.cloud_url = stack.servers.serve(lambda: create_app(cloud, clock))
            for label, online in homes.items():
                stack.add_home(label, online)
            signed = call("POST", f"{stack.cloud_url}/api/v1/auth/token", {"email": ADMIN[0], "password": ADMIN[1]})
            stack.token, stack.account = signed["token"], signed["accounts"][0]["id"]
        except BaseException:
            stack.stop()
            raise
        return stack

    def add_home(self, label: str, online: bool) -> HomeNode:
        config = HomeConfig(
            data_dir=self.data / label.lower().replace(" ", "-"),
            cloud_url=self.cloud_url,
            label=label,
            offline=not online,
            emulator_api=True,
            cloud_key_file=self.data / "cloud" / "jwks.json",
            reconnect_min_seconds=0.05,
            reconnect_max_seconds=0.2,
        )
        url = self.servers.serve(lambda: create_home(config, self.clock))
        self.servers.runners[-1].app[LINK].announce(url)  # as flex-home does once it listens
        system = call("GET", f"{url}/api/v1/system")
        self.homes[label] = HomeNode(label, url, system["system_id"], system["registration_code"])
        return self.homes[label]

    def stop(self) -> None:
        self.servers.stop()

    # --- the portal's API, for set-up and assertions ------------------------------------------

    def api(self, method: str, path: str, body: Any = None) -> Any:
        return call(method, f"{self.cloud_url}/api/v1/accounts/{self.account}{path}", body, self.token)

    def link(self, label: str) -> None:
        """Link a HOME by API (the browser test of linking does it through the pages)."""
        self.api("POST", "/systems", {"registration_code": self.homes[label].registration_code})

    def detail(self, label: str) -> dict[str, Any]:
        return self.api("GET", f"/systems/{self.homes[label].system_id}")

    def subscription(self, order_id: str) -> dict[str, Any]:
        return next(sub for sub in self.api("GET", "/subscriptions")["subscriptions"] if sub["order_id"] == order_id)

    def wait_online(self, label: str) -> None:
        home = self.homes[label]
        wait_until(lambda: home.system()["cloud"]["state"] == "online", f"{label} to be online", timeout=15)
        wait_until(lambda: self.detail(label)["system"]["online"], f"the portal to show {label} online")


def watch(tab: Page, problems: list[str]) -> Page:
    """Note script errors and console errors of ``tab`` in ``problems``; answers the tab."""
    tab.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    tab.on("console", lambda message: _note_console(message, problems))
    tab.set_default_timeout(10_000)
    return tab


def _note_console(message: ConsoleMessage, problems: list[str]) -> None:
    if message.type == "error":
        problems.append(f"console: {message.text} ({message.location.get('url', '')})")
