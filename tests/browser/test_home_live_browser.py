"""The open Licenses → Credits page on HOME follows online assigns and revokes by itself, in Chromium."""

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.kit.browser import Stack

pytestmark = pytest.mark.browser


def test_an_online_assign_and_revoke_show_on_the_open_home_page_without_a_reload(
    linked: Stack,
    home_page: Callable[[str], Page],
) -> None:
    studio = home_page("Studio A")
    studio.goto("/licenses/credits")
    expect(studio.locator("#credit-total")).to_have_text("0")

    monthly = linked.subscription("SO-2026-00042")
    system = linked.homes["Studio A"].system_id
    made = linked.api("POST", f"/systems/{system}/assignments", {"subscription_id": monthly["id"], "credits": 2})
    expect(studio.locator("#credit-total")).to_have_text("2", timeout=15_000)
    expect(studio.locator("#credit-entries")).to_contain_text("SO-2026-00042")

    linked.api("POST", f"/systems/{system}/assignments/{made['assignment']['id']}/revoke", {"confirm": "confirm"})
    expect(studio.locator("#credit-total")).to_have_text("0", timeout=15_000)
    expect(studio.locator("#no-entries")).to_be_visible()
