"""Screenshots of the pages for the README and docs/tour.md, taken with Debian's Chromium through Playwright.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--chromium /usr/bin/chromium]

Starts its own cloud (demo data) and two HOME nodes ("Studio A" online, "OB Van 3" with its cloud link off) in a
temporary folder, all three on one virtual clock (so the pictures show the same dates on every run), assigns some
demo credits over a few virtual days (online, by file, and a revoke waiting for its revoke key), and saves PNGs of
the pages a user sees in a 1280x800 window (HOME's credits runs taller, to show its bar graph), two at a
phone's 390 px, and the inspector of each system (1280x1000, one signed token opened).
"""

import argparse
import asyncio
import re
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from playwright.sync_api import Locator, Page, ViewportSize, expect, sync_playwright

from flex_emulator.cloud.app import create_app as create_cloud
from flex_emulator.cloud.config import Config as CloudConfig
from flex_emulator.cloud.domain.demo import DEMO_ADMIN
from flex_emulator.home.app import create_app as create_home
from flex_emulator.home.config import Config as HomeConfig
from flex_emulator.shared.clock import VirtualClock
from flex_emulator.shared.logging import configure_logging
from flex_emulator.shared.timefmt import iso
from flex_emulator.transport import json_request

ROOT = Path(__file__).resolve().parent.parent
ADMIN = DEMO_ADMIN
START = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
SIZE: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
TALL: ViewportSize = {"width": 1280, "height": 1000}  # the inspector, with one token open in its timeline
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"]


class Servers:
    """aiohttp apps on free loopback ports, served by one event loop in a background thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.runners: list[web.AppRunner] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def serve(self, factory: Callable[[], web.Application]) -> str:
        async def start() -> str:
            runner = web.AppRunner(factory(), access_log=None)
            await runner.setup()
            self.runners.append(runner)
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            host, port = runner.addresses[0][:2]
            return f"http://{host}:{port}"

        future: Future[str] = asyncio.run_coroutine_threadsafe(start(), self.loop)
        return future.result(30)

    def stop(self) -> None:
        async def cleanup() -> None:
            for runner in reversed(self.runners):
                await runner.cleanup()

        asyncio.run_coroutine_threadsafe(cleanup(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)


def call(method: str, url: str, body: Any = None, token: str = "", raw: bytes | None = None) -> Any:
    return json_request(method, url, body, token=token, raw=raw, timeout=15)


def wait_for(check: Callable[[], bool], what: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            sys.exit(f"timed out waiting for {what}")
        time.sleep(0.05)


class Demo:
    """The cloud and two HOMEs, with credits assigned the way a demo would leave them."""

    def __init__(self, data: Path) -> None:
        self.servers = Servers()
        self.clock = VirtualClock(start=START)
        cloud = CloudConfig(data_dir=data / "cloud", demo=True, emulator_api=True, virtual_clock=True)
        self.cloud = self.servers.serve(lambda: create_cloud(cloud, self.clock))
        self.homes: dict[str, str] = {}
        for label, online in (("Studio A", True), ("OB Van 3", False)):
            config = HomeConfig(
                data_dir=data / label.lower().replace(" ", "-"),
                cloud_url=self.cloud,
                label=label,
                offline=not online,
                emulator_api=True,
                cloud_key_file=data / "cloud" / "jwks.json",
                reconnect_min_seconds=0.05,
                reconnect_max_seconds=0.2,
            )
            self.homes[label] = self.servers.serve(lambda config=config: create_home(config, self.clock))
        self.later(minutes=25)
        signed = call("POST", f"{self.cloud}/api/v1/auth/token", {"email": ADMIN[0], "password": ADMIN[1]})
        self.token, self.account = signed["token"], signed["accounts"][0]["id"]
        self.ids: dict[str, str] = {}
        for label, url in self.homes.items():
            system = call("GET", f"{url}/api/v1/system")
            self.api("POST", "/systems", {"registration_code": system["registration_code"]})
            self.ids[label] = system["system_id"]
            self.later(minutes=4)
        wait_for(
            lambda: call("GET", f"{self.homes['Studio A']}/api/v1/system")["cloud"]["state"] == "online",
            "Studio A online",
        )
        self.subs = {sub["order_id"]: sub["id"] for sub in self.api("GET", "/subscriptions")["subscriptions"]}

    def later(self, **delta: float) -> None:
        """Move the shared virtual clock on (the cloud runs whatever falls due meanwhile)."""
        call("POST", f"{self.cloud}/_emulator/clock", {"advance_seconds": timedelta(**delta).total_seconds()})

    def api(self, method: str, path: str, body: Any = None) -> Any:
        return call(method, f"{self.cloud}/api/v1/accounts/{self.account}{path}", body, self.token)

    def assign(self, label: str, order_id: str, credits: float, auto_revoke_at: str | None = None) -> dict[str, Any]:
        body = {"subscription_id": self.subs[order_id], "credits": credits, "auto_revoke_at": auto_revoke_at}
        return self.api("POST", f"/systems/{self.ids[label]}/assignments", body)["assignment"]

    def download_and_upload(self, label: str) -> None:
        token = self.api("POST", f"/systems/{self.ids[label]}/credits-file")
        call("POST", f"{self.homes[label]}/api/v1/file-licenses", raw=token.encode())

    def set_the_scene(self) -> None:
        """OB Van 3: credits by file, a revoke waiting for HOME's revoke key, and a new assignment not downloaded yet.
        Studio A: credits from three subscriptions, sent online, and one resource running."""
        self.later(hours=1)
        pending = self.assign("OB Van 3", "SO-2026-00043", 6)
        self.later(minutes=6)
        self.assign("OB Van 3", "SO-2026-00042", 3)
        self.later(minutes=3)
        self.download_and_upload("OB Van 3")

        self.later(days=1, hours=2)
        self.assign("Studio A", "SO-2026-00043", 12)
        self.later(minutes=12)
        self.assign("Studio A", "SO-2026-00042", 4.5)

        self.later(days=1, hours=1)
        self.api("POST", f"/systems/{self.ids['OB Van 3']}/assignments/{pending['id']}/revoke", {"confirm": "confirm"})
        self.pending = pending["id"]
        self.later(minutes=18)
        self.assign("OB Van 3", "SO-2026-00042", 1.25)

        self.later(hours=2, minutes=5)
        until = (self.clock.now() + timedelta(days=6)).replace(hour=18, minute=0, second=0)
        self.assign("Studio A", "SO-2026-00044", 2, auto_revoke_at=iso(until))
        studio = self.homes["Studio A"]
        wait_for(lambda: call("GET", f"{studio}/api/v1/licenses/credits")["total"] == 18.5, "Studio A's credits")
        resource = call(
            "POST", f"{studio}/api/v1/resources", {"name": "Multiviewer 1", "license_type_needed": "MV", "count": 2}
        )
        call("POST", f"{studio}/api/v1/resources/{resource['resource']['id']}/start")
        self.later(minutes=3)

    def stop(self) -> None:
        self.servers.stop()


def sign_in(page: Page, cloud: str) -> None:
    page.goto(cloud + "/signin")
    page.get_by_label("Email").fill(ADMIN[0])
    page.get_by_label("Password").fill(ADMIN[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Systems", level=1)).to_be_visible()


def take(page: Page, folder: Path, name: str, down_to: Locator | None = None) -> None:
    """The window (1280x800); with ``down_to``, the page from its top down to the end of that element."""
    page.mouse.move(0, 0)  # no hover effects
    path = folder / name
    clip = None
    if down_to is not None:
        box = down_to.bounding_box()
        assert box is not None
        size = page.viewport_size or SIZE
        clip = {"x": 0, "y": 0, "width": size["width"], "height": max(size["height"], box["y"] + box["height"] + 12)}
    page.screenshot(path=str(path), full_page=clip is not None, clip=clip, animations="disabled", caret="hide")
    print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}  {path.stat().st_size // 1024} KB")


def open_item(page: Page, title: str, above: int = 150) -> Locator:
    """The timeline item with this title, opened to show its token, ``above`` pixels of earlier events over it."""
    item = page.locator("[data-timeline] li").filter(has=page.locator(".event-title", has_text=title))
    item.locator("summary").click()
    expect(item.locator(".signature")).to_be_visible()
    # the timeline scrolls by itself: the item's line a little below its top, with the events before it above
    item.evaluate("(row, above) => { row.closest('[data-timeline-scroll]').scrollTop = row.offsetTop - above; }", above)
    return item


def shoot_inspector(demo: Demo, page: Page, out: Path) -> None:
    """The inspector of each system, as scripts/run leaves it: the cloud knows where both HOMEs answer. OB Van 3's
    pending revoke ends with the revoke key HOME shows after the upload above."""
    for label, url in demo.homes.items():
        call("PUT", f"{demo.cloud}/_emulator/systems/{demo.ids[label]}/home-address", {"url": url})
    key = call("GET", f"{demo.homes['OB Van 3']}/api/v1/licenses/credits")["revoke_key"]
    demo.api("POST", f"/systems/{demo.ids['OB Van 3']}/revoke-keys", {"revoke_key": key})

    page.goto(f"{demo.cloud}/_emulator/inspector?system={demo.ids['Studio A']}")
    expect(page.locator("[data-stream-state]")).to_have_text("Live")
    expect(page.locator("[data-home-link]")).to_contain_text("Online")
    open_item(page, "Sent receipt 2: proof that HOME holds credits file 2", above=200)
    take(page, out, "inspector-online.png")

    page.goto(f"{demo.cloud}/_emulator/inspector?system={demo.ids['OB Van 3']}")
    expect(page.locator("[data-stream-state]")).to_have_text("Live")
    open_item(page, "entered: HOME's signature verified; 1 assignment returned")
    take(page, out, "inspector-disconnected.png")


def shoot(demo: Demo, chromium: str, out: Path, scratch: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    base = f"{demo.cloud}/accounts/{demo.account}"
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        portal = browser.new_context(viewport=SIZE, device_scale_factor=1).new_page()
        sign_in(portal, demo.cloud)
        expect(portal.get_by_role("row").filter(has_text="Studio A")).to_contain_text("Online")
        take(portal, out, "portal-systems.png")

        portal.goto(f"{base}/subscriptions")
        take(portal, out, "portal-subscriptions.png")

        portal.goto(f"{base}/systems/{demo.ids['Studio A']}")
        expect(portal.locator("[data-live-status]")).to_have_text("Online")
        take(portal, out, "portal-system-details.png")

        portal.get_by_role("link", name="Add", exact=True).click()
        expect(portal.locator("dialog#modal").get_by_role("heading", name="Add Credits")).to_be_visible()
        take(portal, out, "portal-add-credits.png")
        portal.keyboard.press("Escape")

        portal.goto(f"{base}/systems/{demo.ids['OB Van 3']}")
        portal.get_by_role("link", name=re.compile("^Finish revoke")).click()
        expect(portal.locator("dialog#modal").get_by_role("heading", name="Revoke pending")).to_be_visible()
        take(portal, out, "portal-revoke-pending.png")
        portal.keyboard.press("Escape")

        portal.goto(f"{base}/history")
        take(portal, out, "portal-history.png")

        # steps 1 and 2 of the pending revoke: download the latest credits file, upload it on OB Van 3's FileLicenses
        file = scratch / "credits-ob-van-3.jwt"
        file.write_text(demo.api("POST", f"/systems/{demo.ids['OB Van 3']}/credits-file"))
        home = browser.new_context(viewport=SIZE, device_scale_factor=1).new_page()
        home.goto(demo.homes["OB Van 3"] + "/file-licenses")
        home.get_by_label("Credits or license file").set_input_files(file)
        home.get_by_role("button", name="Upload").click()
        expect(home.locator("#flash")).to_contain_text("Credits file applied")
        take(home, out, "home-file-licenses.png")

        home.goto(demo.homes["Studio A"] + "/licenses/credits")
        expect(home.locator("#credits-graph")).to_be_visible()
        take(home, out, "home-credits.png", down_to=home.locator("section").filter(has=home.locator("#credits-graph")))

        home.goto(demo.homes["Studio A"] + "/settings/cloud")
        expect(home.locator("#cloud-state")).to_have_text("Online")
        take(home, out, "home-settings.png")

        shoot_inspector(demo, browser.new_context(viewport=TALL, device_scale_factor=1).new_page(), out)

        # a phone (390 px wide): the portal's system details and HOME's credits
        phone = browser.new_context(viewport=PHONE, device_scale_factor=1).new_page()
        sign_in(phone, demo.cloud)
        phone.goto(f"{base}/systems/{demo.ids['OB Van 3']}")
        expect(phone.locator("[data-live-status]")).to_have_text("Offline")
        take(phone, out, "portal-phone.png")
        phone.goto(demo.homes["Studio A"] + "/licenses/credits")
        expect(phone.locator("#credit-total")).to_have_text("18.5")
        take(phone, out, "home-phone-credits.png")
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots", help="folder for the PNGs")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="the Chromium to drive (never downloaded)")
    args = parser.parse_args()
    configure_logging("warning")
    if not Path(args.chromium).exists():
        sys.exit(f"{args.chromium} is not installed (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="flex-screenshots-") as folder:
        demo = Demo(Path(folder))
        try:
            demo.set_the_scene()
            shoot(demo, args.chromium, args.out, Path(folder))
        finally:
            demo.stop()


if __name__ == "__main__":
    main()
