"""The portal in a real Chromium: signing in, the pages of the walk-through, dialogs and the live status."""

import json
import re
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.sync_api import Page, expect

from tests.kit.browser import CloudThread, sign_in
from tests.kit.portal import ADMIN, Home, LinkedHome

pytestmark = pytest.mark.browser


def api(
    cloud: CloudThread, method: str, path: str, body: dict[str, Any] | None = None, token: str | None = None
) -> Any:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(
        urllib.request.Request(cloud.url + path, data=data, method=method, headers=headers), timeout=10
    ) as answer:
        return json.loads(answer.read())


def test_admin_signs_in_opens_systems_and_sees_the_yellow_warning(
    page: Page, cloud_server: CloudThread, shoot: Callable[[str], Path]
) -> None:
    page.goto(cloud_server.url + "/signin")
    shoot("signin")
    sign_in(page, cloud_server.url)
    expect(page.get_by_text("No systems linked yet")).to_be_visible()
    expect(page.get_by_role("link", name="Add system")).to_be_visible()
    shoot("systems")

    page.get_by_role("navigation", name="Portal sections").get_by_role("link", name="Subscriptions").click()
    expect(page.get_by_role("heading", name="Subscriptions", level=1)).to_be_visible()
    row = page.get_by_role("row").filter(has_text="SO-2026-00044")
    expect(row).to_contain_text("Annual (Cancelled)")
    warning = row.locator(".usable-until")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Cancelled: usable until")
    red, green, blue = map(int, re.findall(r"\d+", warning.evaluate("el => getComputedStyle(el).backgroundColor"))[:3])
    assert red > 230 and green > 200 and blue < red - 30, "the warning is not yellow"
    expect(
        page.get_by_role("row").filter(has_text="SO-2026-00045").get_by_role("link", name=re.compile("^Activate"))
    ).to_be_visible()
    shoot("subscriptions")


def test_add_credits_dialog_revoke_dialog_and_live_online_status(
    page: Page, cloud_server: CloudThread, shoot: Callable[[str], Path]
) -> None:
    signed = api(cloud_server, "POST", "/api/v1/auth/token", {"email": ADMIN[0], "password": ADMIN[1]})
    account, token = signed["accounts"][0]["id"], signed["token"]
    home = Home("Studio A")
    api(
        cloud_server,
        "POST",
        f"/api/v1/accounts/{account}/systems",
        {"registration_code": home.registration_code},
        token,
    )

    sign_in(page, cloud_server.url)
    page.get_by_role("link", name="Studio A").click()
    expect(page.get_by_role("link", name="< Systems")).to_be_visible()
    status = page.locator("[data-live-status]")
    expect(status).to_have_text("Offline")

    async def connect() -> tuple[aiohttp.ClientSession, LinkedHome]:
        session = aiohttp.ClientSession()
        return session, await LinkedHome(home, session, cloud_server.url + "/api/v1/link").connect()

    session, link = cloud_server.run(connect())
    try:
        expect(status).to_have_text("Online", timeout=6000)  # no reload: the page polls every 2 s
        shoot("online")

        page.get_by_role("link", name="Add", exact=True).click()
        dialog = page.locator("dialog#modal")
        expect(dialog).to_be_visible()
        expect(dialog.get_by_role("heading", name="Add Credits")).to_be_visible()
        expect(dialog.get_by_label("SO-2026-00045")).to_be_disabled()
        expect(dialog.get_by_label("SO-2026-00042")).to_be_focused()
        shoot("add-step-1")
        dialog.get_by_label("SO-2026-00043").check()
        dialog.get_by_role("button", name="Next").click()
        credits = dialog.get_by_label("Credits to assign")
        expect(credits).to_be_focused()
        expect(dialog).to_contain_text("Available")
        expect(page.locator("#auto-revoke-when")).to_be_hidden()
        dialog.get_by_label("Auto Revoke", exact=True).check()
        expect(page.locator("#auto-revoke-when")).to_be_visible()
        dialog.get_by_label("Auto Revoke", exact=True).uncheck()
        credits.press("ArrowUp")
        expect(credits).to_have_value("1.25")
        shoot("add-step-2")
        dialog.get_by_role("button", name="Add Credits").click()

        expect(page.locator("#flash")).to_contain_text("1.25 credits from SO-2026-00043 were sent to Studio A.")
        row = page.locator("table.assignments tbody tr").first
        expect(row).to_contain_text("SO-2026-00043")
        expect(row.locator(".tick")).to_be_visible()
        shoot("after-add")

        row.get_by_role("link", name=re.compile("^Revoke")).click()
        expect(dialog.get_by_role("heading", name="Revoke credits")).to_be_visible()
        revoke = dialog.get_by_role("button", name="Revoke", exact=True)
        expect(revoke).to_be_disabled()
        dialog.get_by_label("Type confirm to enable Revoke").fill("confirm")
        expect(revoke).to_be_enabled()
        shoot("revoke")
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
        row.get_by_role("link", name=re.compile("^Revoke")).click()
        dialog.get_by_label("Type confirm to enable Revoke").fill("confirm")
        dialog.get_by_role("button", name="Revoke", exact=True).click()
        expect(page.locator("#flash")).to_contain_text("Revoked: 1.25 credits are back")
        expect(page.get_by_text("Ended (1)")).to_be_visible()
    finally:
        cloud_server.run(link.close())
        cloud_server.run(session.close())
    expect(status).to_have_text("Offline", timeout=6000)
