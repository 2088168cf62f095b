"""Browser tests: a real cloud (demo data) and real HOME nodes served from a background thread, driven by Chromium."""

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from flex_emulator.cloud.config import Config
from tests.kit.browser import CloudThread, Stack, watch

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

expect.set_options(timeout=8_000)  # a loaded 2-core CI machine: assertions wait a little longer than the default 5 s


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
    server = CloudThread(
        Config(data_dir=tmp_path / "cloud", demo=True, emulator_api=True, ack_wait_seconds=3.0)
    ).start()
    yield server
    server.stop()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    """The cloud (demo account) with two HOMEs, not linked yet: "Studio A" with its cloud link on, "OB Van 3" off."""
    servers = Stack.start(tmp_path, {"Studio A": True, "OB Van 3": False})
    yield servers
    servers.stop()


@pytest.fixture
def linked(stack: Stack) -> Stack:
    """Both HOMEs linked to the demo account (by API), Studio A online."""
    stack.link("Studio A")
    stack.link("OB Van 3")
    stack.wait_online("Studio A")
    return stack


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context; any script error or failed request on the page fails the test."""
    # Servers the test uses start before the page, so they stop after it closes: a page that outlived
    # its server would log failed polls at teardown and fail a test that passed.
    for name in ("linked", "stack", "cloud_server"):
        if name in request.fixturenames:
            request.getfixturevalue(name)
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    problems: list[str] = []
    tab = watch(context.new_page(), problems)
    yield tab
    context.close()
    assert not problems, problems


@pytest.fixture
def home_page(browser: Browser, stack: Stack) -> Iterator[Callable[[str], Page]]:
    """Opens a HOME's pages as a person at that HOME server would: a browser context of its own per HOME
    (which may copy to the clipboard); the same page again on a second call. Script errors fail the test.

    Own contexts also keep the HOMEs' cookies apart: every node here is on 127.0.0.1, and cookies ignore the port."""
    contexts: dict[str, Page] = {}
    problems: list[str] = []

    def open_home(label: str) -> Page:
        if label not in contexts:
            context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=stack.homes[label].url)
            context.grant_permissions(["clipboard-read", "clipboard-write"])
            contexts[label] = watch(context.new_page(), problems)
        return contexts[label]

    yield open_home
    for tab in contexts.values():
        tab.context.close()
    assert not problems, problems


@pytest.fixture
def shoot(page: Page, request: pytest.FixtureRequest) -> Callable[[str], Path]:
    """Save a screenshot as /tmp/shots/<test>-<name>.png, to look at while building the pages."""

    def take(name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{request.node.name.removeprefix('test_')[:40]}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
