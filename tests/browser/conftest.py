"""Browser tests: a real cloud (demo data) served from a background thread, driven by Debian's Chromium."""

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp import web
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

from cloud.app import create_app
from cloud.config import Config

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path("/tmp/shots")
T = TypeVar("T")


class CloudThread:
    """The cloud app on a free loopback port, with its own event loop in a daemon thread."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.loop = asyncio.new_event_loop()
        self.runner: web.AppRunner | None = None
        self.url = ""
        self._ready = threading.Event()
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, name="cloud-under-test", daemon=True)

    def start(self) -> "CloudThread":
        self._thread.start()
        if not self._ready.wait(timeout=20):
            raise RuntimeError("the cloud did not start within 20 seconds")
        if self._failed is not None:
            raise RuntimeError("the cloud failed to start") from self._failed
        return self

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 10) -> T:
        """Run a coroutine on the server's loop (e.g. a HOME link client) and wait for its result."""
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=20)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._start())
        except BaseException as exc:  # reported to the test thread by start()
            self._failed = exc
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()
        if self.runner is not None:
            self.loop.run_until_complete(self.runner.cleanup())
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()

    async def _start(self) -> None:
        self.runner = web.AppRunner(create_app(self.config), access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        host, port = self.runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"


def wait_for_chromium(seconds: float = 120) -> bool:
    """Chromium may still be arriving from apt when the tests start."""
    deadline = time.monotonic() + seconds
    while not CHROMIUM.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(2)
    return True


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not wait_for_chromium():
        pytest.skip(f"{CHROMIUM} is not installed")
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def cloud_server(tmp_path: Path) -> Iterator[CloudThread]:
    server = CloudThread(Config(data_dir=tmp_path / "cloud", demo=True, emulator_api=True, ack_wait_seconds=3.0)).start()
    yield server
    server.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context; any script error or failed request on the page fails the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    tab.on("console", lambda message: _note_console(message, problems))
    tab.set_default_timeout(10_000)
    yield tab
    context.close()
    assert not problems, problems


def _note_console(message: ConsoleMessage, problems: list[str]) -> None:
    if message.type == "error":
        problems.append(f"console: {message.text} ({message.location.get('url', '')})")


@pytest.fixture
def shoot(page: Page, request: pytest.FixtureRequest) -> Callable[[str], Path]:
    """Save a screenshot as /tmp/shots/<test>-<name>.png, to look at while building the pages."""

    def take(name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{request.node.name.removeprefix('test_')[:40]}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
