"""The inspector in Chromium: the live timeline of an online assign and revoke and of a disconnected file, upload and
revoke key, item by item as they happen, with their signed tokens; and its controls, each showing its effect."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from flex_emulator.shared.clock import VirtualClock
from flex_emulator.shared.timefmt import iso
from tests.kit.browser import Stack, call, sign_in

pytestmark = pytest.mark.browser

START = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)


def titles(page: Page) -> Locator:
    return page.locator("[data-timeline] .event-title")


def expect_in_order(page: Page, expected: list[str]) -> None:
    """The timeline holds these titles in this order (others may come between them)."""

    def in_order() -> bool:
        shown = titles(page).all_inner_texts()
        at = 0
        for title in shown:
            if at < len(expected) and title == expected[at]:
                at += 1
        return at == len(expected)

    expect(titles(page).filter(has_text=expected[-1])).to_have_count(1, timeout=15_000)
    assert in_order(), "\n".join(["expected, in this order:", *expected, "shown:", *titles(page).all_inner_texts()])


def item(page: Page, title: str) -> Locator:
    return page.locator("[data-timeline] li").filter(has=page.locator(".event-title", has_text=title))


def test_the_timeline_shows_both_paths_live_in_order_with_the_signed_tokens(linked: Stack, page: Page) -> None:
    sign_in(page, linked.cloud_url)
    studio, van = linked.homes["Studio A"], linked.homes["OB Van 3"]
    page.goto(f"{linked.cloud_url}/accounts/{linked.account}/systems/{studio.system_id}")
    page.locator("[data-inspector-link]").click()  # the portal's footer, only with --emulator-api
    expect(page.get_by_role("heading", name="Studio A", level=1)).to_be_visible()
    expect(page.locator("[data-stream-state]")).to_have_text("Live")
    expect(page.locator("[data-home-address]")).to_contain_text("announced on the link")
    expect(page.locator("[data-wall-clock]")).to_contain_text("The clock is the wall clock")
    expect(page.get_by_role("button", name="+1 day")).to_be_disabled()

    monthly = linked.subscription("SO-2026-00042")
    made = linked.api(
        "POST", f"/systems/{studio.system_id}/assignments", {"subscription_id": monthly["id"], "credits": 2}
    )
    expect_in_order(
        page,
        [
            "Assigned 2 credits",
            "Signed credits file 1 (1 entry)",
            "Pushed credits file 1 over the link",
            "Applied credits file 1 (1 entry)",
            "Sent receipt 1: proof that HOME holds credits file 1",
            "Receipt 1 accepted: HOME holds credits file 1",
        ],
    )
    linked.api(
        "POST", f"/systems/{studio.system_id}/assignments/{made['assignment']['id']}/revoke", {"confirm": "confirm"}
    )
    expect_in_order(
        page,
        [
            "Revoke of 2 credits requested: they stay counted",
            "Pushed credits file 2 over the link",
            "Applied credits file 2 (0 entries)",
            "Receipt 2 accepted: HOME holds credits file 2; 1 assignment returned",
            "Returned 2 credits to the subscription (revoked)",
        ],
    )
    pushed = item(page, "Pushed credits file 1 over the link")
    expect(pushed.locator(".arrow")).to_contain_text("link")
    pushed.locator("summary").click()
    expect(pushed.locator(".signature")).to_contain_text("Signature verified")
    expect(pushed.locator(".signature")).to_contain_text("the cloud's key")
    expect(pushed.locator("pre.json").first).to_contain_text('"typ": "flex-credits+jwt"')
    expect(pushed.locator("pre.json").nth(1)).to_contain_text('"seq": 1')
    receipt = item(page, "Sent receipt 2: proof that HOME holds credits file 2")
    receipt.locator("summary").click()
    expect(receipt.locator(".signature")).to_contain_text("verified with HOME's key")

    # The disconnected HOME: the page tells the cloud where it answers, then follows its file and revoke key.
    page.goto(f"{linked.cloud_url}/_emulator/inspector")
    page.get_by_role("row").filter(has_text="OB Van 3").get_by_role("link", name="Inspect").click()
    expect(page.locator("[data-home-address]")).to_contain_text("HOME has not said where it answers")
    page.get_by_label("HOME's address").fill(van.url)
    page.get_by_role("button", name="Read HOME's journal").click()
    expect(page.locator("[data-control-result]")).to_contain_text(f"The cloud reads HOME's journal at {van.url}")
    expect(page.locator("[data-home-link]")).to_contain_text("Disconnected (link off)")

    offline = linked.api(
        "POST", f"/systems/{van.system_id}/assignments", {"subscription_id": monthly["id"], "credits": 1.5}
    )
    expect(titles(page).filter(has_text="Assigned 1.5 credits")).to_have_count(1)
    call(
        "POST",
        f"{van.url}/api/v1/file-licenses",
        raw=linked.api("POST", f"/systems/{van.system_id}/credits-file").encode(),
    )
    linked.api(
        "POST", f"/systems/{van.system_id}/assignments/{offline['assignment']['id']}/revoke", {"confirm": "confirm"}
    )
    call(
        "POST",
        f"{van.url}/api/v1/file-licenses",
        raw=linked.api("POST", f"/systems/{van.system_id}/credits-file").encode(),
    )
    key = call("GET", f"{van.url}/api/v1/licenses/credits")["revoke_key"]
    linked.api("POST", f"/systems/{van.system_id}/revoke-keys", {"revoke_key": key})
    expect_in_order(
        page,
        [
            "Assigned 1.5 credits",
            "Credits file 1 downloaded (1 entry)",
            "Applied credits file 1 (1 entry)",
            "Revoke of 1.5 credits requested: they stay counted",
            "Credits file 2 downloaded (0 entries)",
            "Applied credits file 2 (0 entries)",
            "Shows revoke key 2 on Licenses → Credits",
            "Revoke key 2 entered: HOME's signature verified; 1 assignment returned",
            "Returned 1.5 credits to the subscription (revoked)",
        ],
    )
    download = item(page, "Credits file 1 downloaded (1 entry)")
    expect(download.locator(".arrow")).to_contain_text("by hand")
    entered = item(page, "Revoke key 2 entered: HOME's signature verified; 1 assignment returned")
    entered.locator("summary").click()
    expect(entered.locator("pre.jwt")).to_have_text(key)
    expect(entered.locator("pre.json").first).to_contain_text('"typ": "flex-receipt+jwt"')


@pytest.fixture
def virtual_stack(tmp_path: Path) -> Iterator[Stack]:
    """Studio A online and OB Van 3 disconnected, linked, all on one virtual clock."""
    stack = Stack.start(tmp_path, {"Studio A": True, "OB Van 3": False}, clock=VirtualClock(start=START))
    stack.link("Studio A")
    stack.link("OB Van 3")
    stack.wait_online("Studio A")
    yield stack
    stack.stop()


def test_the_controls_switch_the_link_inject_a_fault_and_move_the_clock(virtual_stack: Stack, page: Page) -> None:
    stack = virtual_stack
    studio, van = stack.homes["Studio A"], stack.homes["OB Van 3"]
    page.goto(f"{stack.cloud_url}/_emulator/inspector?system={studio.system_id}")
    expect(page.locator("[data-stream-state]")).to_have_text("Live")
    expect(page.locator("[data-wall-clock]")).to_have_count(0)

    page.get_by_role("button", name="Switch link off").click()
    expect(page.locator("[data-control-result]")).to_contain_text("switched off: HOME is disconnected")
    expect_in_order(page, ["Link switched off: HOME is disconnected", "Link down: HOME is offline"])
    expect(page.locator("[data-cloud-link]")).to_have_text("Offline")
    page.get_by_role("button", name="Cut the link").click()
    expect(titles(page).filter(has_text="Link fault set: link cut")).to_have_count(1)
    expect(page.locator("[data-cloud-faults]")).to_contain_text("link cut")
    page.get_by_role("button", name="Clear faults").click()
    page.get_by_role("button", name="Switch link on").click()
    expect(titles(page).filter(has_text="Link up: HOME connected, holding credits file 0")).to_have_count(1)
    expect(page.locator("[data-cloud-link]")).to_have_text("Online")

    # Disconnected credits with an Auto Revoke in an hour: a day later each side has ended them by its own clock.
    page.goto(f"{stack.cloud_url}/_emulator/inspector?system={van.system_id}")
    page.get_by_label("HOME's address").fill(van.url)
    page.get_by_role("button", name="Read HOME's journal").click()
    expect(page.locator("[data-home-clock]")).to_contain_text("(virtual)")
    monthly = stack.subscription("SO-2026-00042")
    ends = iso(START + timedelta(hours=1))
    stack.api(
        "POST",
        f"/systems/{van.system_id}/assignments",
        {"subscription_id": monthly["id"], "credits": 3, "auto_revoke_at": ends},
    )
    call(
        "POST",
        f"{van.url}/api/v1/file-licenses",
        raw=stack.api("POST", f"/systems/{van.system_id}/credits-file").encode(),
    )
    expect(titles(page).filter(has_text="Applied credits file 1 (1 entry)")).to_have_count(1)
    page.get_by_role("button", name="+1 day").click()
    expect(page.locator("[data-control-result]")).to_contain_text("The clock moved to 03 Nov 2026 08:30:00 UTC")
    expect_in_order(
        page,
        [
            "Clock moved forward to 03 Nov 2026 08:30:00",
            "3 credits ended by HOME's clock",
            "Returned 3 credits to the subscription (Auto Revoke)",
        ],
    )
    ended = item(page, "3 credits ended by HOME's clock")
    expect(ended.locator("time")).to_have_text("02 Nov 2026 09:30:00")  # at its Auto Revoke, by HOME's clock
    returned = item(page, "Returned 3 credits to the subscription (Auto Revoke)")
    expect(returned.locator("time")).to_have_text("02 Nov 2026 09:35:00")  # plus the 5 minutes of skew, by the cloud's
