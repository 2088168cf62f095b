"""The seed's walk-through, clicked in Chromium against a real cloud and two real HOME nodes.

"Studio A" has its cloud link on (Online in the portal), "OB Van 3" has it off (Offline). The steps under test
are clicked and typed as a person would; the API is used only to set up and to double-check the outcome.
"""

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Download, Locator, Page, expect
from playwright.sync_api import Error as PlaywrightError

from tests.kit.browser import Stack, sign_in

pytestmark = pytest.mark.browser

HomePage = Callable[[str], Page]


# --- what a person does, step by step ---------------------------------------------------------------


def open_system(page: Page, label: str) -> None:
    """Systems → click the system label → its details page."""
    page.get_by_role("navigation", name="Portal sections").get_by_role("link", name="Systems").click()
    expect(page.get_by_role("heading", name="Systems", level=1)).to_be_visible()
    page.get_by_role("link", name=label, exact=True).click()
    expect(page.get_by_role("heading", name=label, level=1)).to_be_visible()


def choose_subscription(page: Page, order_id: str) -> Locator:
    """Add → pick ``order_id`` with its radio button → Next; answers the dialog, at step 2."""
    page.get_by_role("link", name="Add", exact=True).click()
    dialog = page.locator("dialog#modal")
    expect(dialog.get_by_role("heading", name="Add Credits")).to_be_visible()
    dialog.get_by_label(order_id).check()
    dialog.get_by_role("button", name="Next").click()
    expect(dialog.get_by_text("Step 2 of 2")).to_be_visible()
    return dialog


def add_credits(page: Page, order_id: str, credits: str) -> None:
    dialog = choose_subscription(page, order_id)
    dialog.get_by_label("Credits to assign").fill(credits)
    dialog.get_by_role("button", name="Add Credits").click()
    expect(dialog).to_be_hidden()


def download(page: Page, button: Locator, folder: Path) -> Path:
    """Click a Download button and keep the file the browser receives."""
    with page.expect_download() as started:
        button.click()
    received: Download = started.value
    assert re.fullmatch(r"credits-[a-z0-9-]+-\d+\.jwt", received.suggested_filename), received.suggested_filename
    path = folder / received.suggested_filename
    received.save_as(path)
    return path


def upload(home: Page, file: Path) -> None:
    """HOME's FileLicenses page: choose the file, Upload."""
    home.get_by_role("navigation", name="Main").get_by_role("link", name="FileLicenses", exact=True).click()
    expect(home.get_by_role("heading", name="FileLicenses", level=1)).to_be_visible()
    home.get_by_label("Credits or license file").set_input_files(file)
    home.get_by_role("button", name="Upload").click()
    expect(home.locator("#flash")).to_contain_text("Credits file applied")


def open_home_credits(home: Page) -> None:
    """HOME: Licenses → Credits."""
    home.get_by_role("navigation", name="Main").get_by_role("link", name="Licenses", exact=True).click()
    home.get_by_role("link", name="Credits", exact=True).click()
    expect(home.locator("#credit-total")).to_be_visible()


def expect_after_reload(page: Page, locator: Locator, text: str, seconds: float = 10) -> None:
    """A page without live updates: reload it (as a person would) until ``locator`` shows ``text``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            expect(locator).to_have_text(text, timeout=300)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            try:
                page.reload()
            except PlaywrightError:  # the page reloaded itself meanwhile (HOME's Credits page follows changes)
                page.wait_for_load_state()


def assignment_rows(page: Page) -> Locator:
    return page.locator("table.assignments tbody tr")


def downloaded_cell(row: Locator) -> Locator:
    """The Downloaded column (the fifth) of an assignment row."""
    return row.locator("td").nth(4)


def revoke_dialog(page: Page, row: Locator) -> Locator:
    row.get_by_role("link", name=re.compile("^Revoke")).click()
    dialog = page.locator("dialog#modal")
    expect(dialog.get_by_role("heading", name="Revoke credits")).to_be_visible()
    return dialog


# --- the flows ------------------------------------------------------------------------------------------


def test_admin_links_a_home_with_the_registration_code_copied_from_home(
    page: Page, stack: Stack, home_page: HomePage
) -> None:
    studio = home_page("Studio A")
    studio.goto("/settings/cloud")
    expect(studio.locator("#registration-code")).not_to_be_empty()
    studio.get_by_role("button", name="Copy").click()
    expect(studio.locator('[data-copy-status-for="registration-code"]')).to_have_text("Copied to the clipboard.")

    sign_in(page, stack.cloud_url)
    expect(page.get_by_text("No systems linked yet")).to_be_visible()
    page.get_by_role("link", name="Add system").click()
    dialog = page.locator("dialog#modal")
    code = dialog.get_by_label("Registration code")
    expect(code).to_be_focused()
    page.keyboard.press("ControlOrMeta+V")
    expect(code).to_have_value(stack.homes["Studio A"].registration_code)
    dialog.get_by_role("button", name="Add system").click()

    expect(page.locator("#flash")).to_contain_text("System Studio A is linked to this account.")
    expect(page.get_by_role("heading", name="Studio A", level=1)).to_be_visible()
    expect(page.locator("[data-live-status]")).to_have_text("Online", timeout=8000)  # HOME retries; the page polls
    expect_after_reload(studio, studio.locator("#cloud-state"), "Online")
    expect(studio.locator("#cloud-link-switch")).to_have_text("Disconnect")

    van = home_page("OB Van 3")
    van.goto("/settings/cloud")
    expect(van.locator("#cloud-state")).to_have_text("Disconnected")
    expect(van.locator("#cloud-disconnected")).to_contain_text("the portal shows this system Offline")
    expect(van.locator("#cloud-link-switch")).to_have_text("Connect")


def test_online_assignment_as_the_seed_reads(page: Page, linked: Stack, home_page: HomePage) -> None:
    studio = home_page("Studio A")
    studio.goto("/licenses/credits")
    expect(studio.locator("#credit-total")).to_have_text("0")

    sign_in(page, linked.cloud_url)
    expect(page.get_by_role("row").filter(has_text="Studio A")).to_contain_text("Online")
    expect(page.get_by_role("row").filter(has_text="OB Van 3")).to_contain_text("Offline")
    page.get_by_role("link", name="Studio A", exact=True).click()
    label = page.get_by_role("heading", name="Studio A", level=1)
    status = page.locator("[data-live-status]")
    expect(status).to_have_text("Online")
    here, there = label.bounding_box(), status.bounding_box()
    assert here and there
    assert (
        there["x"] >= here["x"] + here["width"]
        and abs((there["y"] + there["height"] / 2) - (here["y"] + here["height"] / 2)) < here["height"] / 2
    ), "the online status is not beside the label"
    page.get_by_role("link", name="< Systems").click()
    expect(page.get_by_role("heading", name="Systems", level=1)).to_be_visible()
    page.get_by_role("link", name="Studio A", exact=True).click()
    expect(status).to_have_text("Online")

    page.get_by_role("link", name="Add", exact=True).click()
    dialog = page.locator("dialog#modal")
    expect(dialog.get_by_role("heading", name="Add Credits")).to_be_visible()
    radio = dialog.get_by_label("SO-2026-00042")
    radio.check()
    expect(radio).to_be_checked()
    dialog.get_by_role("button", name="Next").click()
    facts = dialog.locator("dl.facts")
    expect(facts.locator("div").filter(has_text="Available").locator("dd")).to_have_text("40")
    expect(facts.locator("div").filter(has_text="Type").locator("dd")).to_have_text("Monthly (Active)")
    credits = dialog.get_by_label("Credits to assign")
    credits.fill("1")
    credits.press("ArrowUp")
    credits.press("ArrowUp")
    expect(credits).to_have_value("1.5")
    credits.press("ArrowDown")
    expect(credits).to_have_value("1.25")
    credits.fill("1.5")
    expect(dialog.get_by_label("Auto Revoke", exact=True)).not_to_be_checked()
    expect(dialog.get_by_label("Date")).to_be_hidden()
    dialog.get_by_role("button", name="Add Credits").click()

    expect(page.locator("#flash")).to_contain_text("1.5 credits from SO-2026-00042 were sent to Studio A.")
    expect(assignment_rows(page)).to_have_count(1)
    row = assignment_rows(page).first
    expect(row.locator("td").first).to_have_text("1.5")
    expect(row).to_contain_text("SO-2026-00042")
    expect(row).to_contain_text("Monthly")
    expect(downloaded_cell(row).locator(".tick")).to_be_visible()
    expect(downloaded_cell(row).locator(".tick")).to_have_attribute("title", "Downloaded")

    open_home_credits(studio)
    expect_after_reload(studio, studio.locator("#credit-total"), "1.5")
    expect(studio.locator("#credit-entries")).to_contain_text("SO-2026-00042")
    assert linked.subscription("SO-2026-00042")["credits_available"] == 38.5


def test_disconnected_download_upload_and_revoke_key_round_trip(
    page: Page, linked: Stack, home_page: HomePage, tmp_path: Path
) -> None:
    sign_in(page, linked.cloud_url)
    open_system(page, "OB Van 3")
    expect(page.locator("[data-live-status]")).to_have_text("Offline")

    add_credits(page, "SO-2026-00043", "2")
    expect(page.locator("#flash")).to_contain_text(
        "2 credits from SO-2026-00043 were added for OB Van 3. The system is offline"
    )
    row = assignment_rows(page).first
    expect(row).to_contain_text("SO-2026-00043")
    expect(downloaded_cell(row).locator(".tick")).to_have_count(0)
    expect(page.get_by_text("Not downloaded yet.")).to_be_visible()

    first = download(
        page, page.get_by_role("group", name="Credits actions").get_by_role("button", name="Download"), tmp_path
    )
    # the open page notices the download (it polls every 2 s) and reloads itself: no second reload to race with it
    expect(downloaded_cell(assignment_rows(page).first).locator(".tick")).to_be_visible(timeout=8000)
    expect(page.get_by_text("Not downloaded yet.")).to_be_hidden()

    van = home_page("OB Van 3")
    van.goto("/file-licenses")
    expect(van.locator("#link-state")).to_contain_text("Disconnected")  # switched off here; the portal says Offline
    upload(van, first)
    open_home_credits(van)
    expect(van.locator("#credit-total")).to_have_text("2")
    expect(van.locator("#credit-entries")).to_contain_text("SO-2026-00043")
    first_key = van.locator("#revoke-key").input_value()
    assert first_key

    dialog = revoke_dialog(page, assignment_rows(page).first)
    expect(dialog).to_contain_text("OB Van 3 is offline and holds a downloaded copy of these credits")
    dialog.get_by_label("Type confirm to enable Revoke").fill("confirm")
    system_page = page.url
    dialog.get_by_role("button", name="Revoke", exact=True).click()

    # the four steps follow in the same dialog, over the system page
    expect(dialog.get_by_role("heading", name="Revoke pending", level=1)).to_be_visible()
    expect(dialog.get_by_role("heading", name="Revoke pending", level=1)).to_be_focused()
    assert page.url == system_page
    expect(dialog.locator("#flash")).to_contain_text("Follow the four steps below.")
    steps = dialog.locator("ol.steps > li")
    expect(steps).to_have_count(4)
    expect(steps.nth(0)).to_contain_text("Download the latest credits file for this system.")
    expect(steps.nth(1)).to_contain_text("Upload it into HOME on its FileLicenses page.")
    expect(steps.nth(2)).to_contain_text("Copy the revoke key HOME then shows on Licenses → Credits.")
    expect(steps.nth(3)).to_contain_text("Enter the revoke key here.")
    assert linked.subscription("SO-2026-00043")["credits_available"] == 118  # not back yet

    second = download(page, steps.nth(0).get_by_role("button", name="Download"), tmp_path)
    assert second != first
    upload(van, second)
    open_home_credits(van)
    expect(van.locator("#credit-total")).to_have_text("0")
    expect(van.locator("#revoke-key")).not_to_have_value(first_key)
    van.get_by_role("button", name="Copy").click()
    expect(van.locator('[data-copy-status-for="revoke-key"]')).to_have_text("Copied to the clipboard.")

    key = steps.nth(3).get_by_label("Revoke key")
    key.click()
    page.keyboard.press("ControlOrMeta+V")
    expect(key).to_have_value(van.locator("#revoke-key").input_value())
    steps.nth(3).get_by_role("button", name="Enter revoke key").click()

    expect(page.locator("#flash")).to_contain_text("Revoke key accepted: 2 credits came back (1 assignment).")
    expect(page.get_by_role("heading", name="OB Van 3", level=1)).to_be_visible()
    expect(page.get_by_text("No credits are assigned to this system.")).to_be_visible()
    page.get_by_text("Ended (1)").click()
    expect(page.locator("details.ended tbody tr")).to_contain_text("Revoked")
    page.get_by_role("navigation", name="Portal sections").get_by_role("link", name="Subscriptions").click()
    expect(page.get_by_role("row").filter(has_text="SO-2026-00043").locator("td.strong")).to_have_text("120")
    assert linked.subscription("SO-2026-00043")["credits_available"] == 120
    assert [item["state"] for item in linked.detail("OB Van 3")["assignments"]] == ["ended"]


def test_online_revoke_returns_the_credits_and_home_shows_zero(page: Page, linked: Stack, home_page: HomePage) -> None:
    monthly = linked.subscription("SO-2026-00042")
    linked.api(
        "POST",
        f"/systems/{linked.homes['Studio A'].system_id}/assignments",
        {"subscription_id": monthly["id"], "credits": 2},
    )
    studio = home_page("Studio A")
    studio.goto("/licenses/credits")
    expect_after_reload(studio, studio.locator("#credit-total"), "2")

    sign_in(page, linked.cloud_url)
    open_system(page, "Studio A")
    expect(page.locator("[data-live-status]")).to_have_text("Online")
    dialog = revoke_dialog(page, assignment_rows(page).first)
    expect(dialog).to_contain_text("Studio A is online: the credits go back to the subscription at once")
    revoke = dialog.get_by_role("button", name="Revoke", exact=True)
    expect(revoke).to_be_disabled()
    dialog.get_by_label("Type confirm to enable Revoke").fill("confirm")
    expect(revoke).to_be_enabled()
    revoke.click()

    expect(page.locator("#flash")).to_contain_text("Revoked: 2 credits are back in their subscription.")
    expect(page.get_by_text("No credits are assigned to this system.")).to_be_visible()
    expect(page.get_by_text("Ended (1)")).to_be_visible()
    expect_after_reload(studio, studio.locator("#credit-total"), "0")
    assert linked.subscription("SO-2026-00042")["credits_available"] == 40


def test_add_credits_dialog_disables_the_inactive_subscription_and_warns_of_the_cancelled_one(
    page: Page, linked: Stack
) -> None:
    sign_in(page, linked.cloud_url)
    open_system(page, "OB Van 3")
    page.get_by_role("link", name="Add", exact=True).click()
    dialog = page.locator("dialog#modal")
    expect(dialog.get_by_role("heading", name="Add Credits")).to_be_visible()
    for order_id in ("SO-2026-00042", "SO-2026-00043", "SO-2026-00044"):
        expect(dialog.get_by_label(order_id)).to_be_enabled()
    expect(dialog.get_by_label("SO-2026-00045")).to_be_disabled()
    expect(dialog.get_by_role("row").filter(has_text="SO-2026-00045")).to_contain_text("Monthly (Inactive)")

    cancelled = dialog.get_by_role("row").filter(has_text="SO-2026-00044")
    warning = cancelled.locator(".usable-until")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Cancelled: usable until")
    red, green, blue = map(int, re.findall(r"\d+", warning.evaluate("el => getComputedStyle(el).backgroundColor"))[:3])
    assert red > 230 and green > 200 and blue < red - 30, "the warning is not yellow"
    column, warning_box = dialog.get_by_role("columnheader", name="Type (State)").bounding_box(), warning.bounding_box()
    assert column and warning_box and column["x"] <= warning_box["x"] < column["x"] + column["width"], (
        "the warning is not in the TYPE (STATE) column"
    )

    dialog.get_by_label("SO-2026-00044").check()
    dialog.get_by_role("button", name="Next").click()
    expect(dialog.locator("p.warning")).to_contain_text("This subscription is cancelled")
    dialog.get_by_role("link", name="Cancel").click()
    expect(dialog).to_be_hidden()


def press_tab_until(page: Page, target: Locator, limit: int = 60) -> None:
    """Tab through the page until ``target`` has the keyboard focus."""
    for _ in range(limit):
        if target.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{target} cannot be reached with Tab")


def test_revoke_with_the_keyboard_only(page: Page, linked: Stack) -> None:
    annual = linked.subscription("SO-2026-00043")
    linked.api(
        "POST",
        f"/systems/{linked.homes['OB Van 3'].system_id}/assignments",
        {"subscription_id": annual["id"], "credits": 3},
    )
    sign_in(page, linked.cloud_url)
    open_system(page, "OB Van 3")

    link = assignment_rows(page).first.get_by_role("link", name=re.compile("^Revoke"))
    page.locator("body").focus()
    press_tab_until(page, link)
    page.keyboard.press("Enter")
    dialog = page.locator("dialog#modal")
    expect(dialog.get_by_role("heading", name="Revoke credits")).to_be_visible()
    box = dialog.get_by_label("Type confirm to enable Revoke")
    expect(box).to_be_focused()
    revoke = dialog.get_by_role("button", name="Revoke", exact=True)
    page.keyboard.type("confirn")
    expect(revoke).to_be_disabled()
    page.keyboard.press("Enter")  # a disabled Revoke cannot be submitted
    expect(dialog).to_be_visible()
    page.keyboard.press("Backspace")
    page.keyboard.type("m")
    expect(revoke).to_be_enabled()
    press_tab_until(page, revoke, limit=5)
    page.keyboard.press("Enter")

    expect(page.locator("#flash")).to_contain_text("Revoked: 3 credits are back in their subscription.")
    expect(page.get_by_text("No credits are assigned to this system.")).to_be_visible()
    assert linked.subscription("SO-2026-00043")["credits_available"] == 120
