"""Browser tests: a real cloud (demo data) served from a background thread, driven by Debian's Chromium."""

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

from cloud.config import Config
from tests.browser.browser_kit import CloudThread

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


def wait_for_chromium(seconds: float = 120) -> bool:
    """Chromium may still be arriving from apt when the tests start."""
    deadline = time.monotonic() + seconds
    while not CHROMIUM.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(2)
    return True


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Module scope: the sync API keeps an event loop running, which async tests elsewhere must not see."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not wait_for_chromium(120 if os.environ.get("FLEX_REQUIRE_BROWSER") else 5):
        message = f"{CHROMIUM} is not installed (apt-get install chromium)"
        if os.environ.get("FLEX_REQUIRE_BROWSER"):  # CI sets this: there a missing browser is a failure
            pytest.fail(message)
        pytest.skip(message)
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
