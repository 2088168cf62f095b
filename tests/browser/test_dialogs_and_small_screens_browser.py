"""What only a browser shows: dialogs that keep a refusal and what was typed, the revoke dialog within an 800 px
window, the Download note, confirmation dialogs instead of confirm(), and the pages at phone width (390 px)."""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Dialog, FloatRect, Locator, Page, ViewportSize, expect

from tests.kit.browser import Stack, sign_in, watch

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A phone-sized window (390 px wide); script errors fail the test."""
    context = browser.new_context(viewport=PHONE, accept_downloads=True)
    problems: list[str] = []
    yield watch(context.new_page(), problems)
    context.close()
    assert not problems, problems


def box(locator: Locator) -> FloatRect:
    found = locator.bounding_box()
    assert found is not None, f"{locator} is not shown"
    return found


def overlaps(one: FloatRect, other: FloatRect) -> bool:
    return not (
        one["x"] + one["width"] <= other["x"]
        or other["x"] + other["width"] <= one["x"]
        or one["y"] + one["height"] <= other["y"]
        or other["y"] + other["height"] <= one["y"]
    )


def open_system(page: Page, label: str) -> None:
    page.get_by_role("link", name=label, exact=True).click()
    expect(page.get_by_role("heading", name=label, level=1)).to_be_visible()


def pending_revoke(stack: Stack) -> dict[str, Any]:
    """Credits on OB Van 3, downloaded, then revoked: the revoke waits for HOME's revoke key."""
    van = stack.homes["OB Van 3"].system_id
    annual = stack.subscription("SO-2026-00043")
    item = stack.api("POST", f"/systems/{van}/assignments", {"subscription_id": annual["id"], "credits": 6})[
        "assignment"
    ]
    stack.api("POST", f"/systems/{van}/credits-file")
    answer = stack.api("POST", f"/systems/{van}/assignments/{item['id']}/revoke", {"confirm": "confirm"})
    assert answer["assignment"]["state"] == "revoke_pending"
    return dict(item)


def test_finish_revoke_opens_the_revoke_dialog_which_fits_800_px_and_names_the_downloaded_file(
    linked: Stack, page: Page
) -> None:
    pending_revoke(linked)
    sign_in(page, linked.cloud_url)
    open_system(page, "OB Van 3")
    system_page = page.url
    row = page.locator("table.assignments tbody tr").first
    expect(row).to_contain_text("Revoke pending")
    row.get_by_role("link", name=re.compile("^Finish revoke")).click()

    dialog = page.locator("dialog#modal")
    expect(dialog.get_by_role("heading", name="Revoke pending", level=1)).to_be_visible()
    assert page.url == system_page, "Finish revoke opens the dialog, not a page of its own"
    key = dialog.get_by_label("Enter the revoke key here.")
    expect(key).to_be_in_viewport(ratio=1)
    bottom = box(dialog)
    assert bottom["y"] >= 0 and bottom["y"] + bottom["height"] <= 800, f"the dialog is taller than the window: {bottom}"
    assert dialog.evaluate("el => el.scrollHeight <= el.clientHeight"), "the dialog scrolls at 1280x800"
    expect(dialog.get_by_role("button", name="Enter revoke key")).to_be_in_viewport(ratio=1)
    assert not overlaps(box(dialog.locator("[data-modal-close]")), box(dialog.locator("p.warning"))), (
        "the close button covers the notice"
    )

    with page.expect_download() as started:
        dialog.locator("ol.steps > li").first.get_by_role("button", name="Download").click()
    name = started.value.suggested_filename
    assert re.fullmatch(r"credits-ob-van-3-\d+\.jwt", name), name
    expect(dialog.locator("[data-download-status]")).to_have_text(
        f"Downloaded {name}. Copy it to the HOME server and upload it on HOME's FileLicenses page."
    )
    expect(dialog).to_be_visible()  # the dialog stays open for the next steps


def test_the_close_button_is_clear_of_the_notice_after_revoke_continues_in_the_dialog(
    linked: Stack, page: Page
) -> None:
    van = linked.homes["OB Van 3"].system_id
    annual = linked.subscription("SO-2026-00043")
    linked.api("POST", f"/systems/{van}/assignments", {"subscription_id": annual["id"], "credits": 2})
    linked.api("POST", f"/systems/{van}/credits-file")
    sign_in(page, linked.cloud_url)
    open_system(page, "OB Van 3")
    page.locator("table.assignments tbody tr").first.get_by_role("link", name=re.compile("^Revoke")).click()
    dialog = page.locator("dialog#modal")
    dialog.get_by_label("Type confirm to enable Revoke").fill("confirm")
    dialog.get_by_role("button", name="Revoke", exact=True).click()
    notice = dialog.locator("#flash")
    expect(notice).to_contain_text("Follow the four steps below.")
    assert not overlaps(box(dialog.locator("[data-modal-close]")), box(notice)), "the close button covers the notice"
    bottom = box(dialog)
    assert bottom["y"] + bottom["height"] <= 800
    expect(dialog.get_by_label("Enter the revoke key here.")).to_be_in_viewport(ratio=1)


def test_a_refused_revoke_key_stays_in_its_dialog_with_the_key_as_pasted(linked: Stack, page: Page) -> None:
    pending_revoke(linked)
    sign_in(page, linked.cloud_url)
    open_system(page, "OB Van 3")
    page.get_by_role("link", name="Enter revoke key").click()
    dialog = page.locator("dialog#modal")
    key = dialog.get_by_label("Revoke key", exact=True)
    key.fill("not-a-revoke-key")
    system_page = page.url
    dialog.get_by_role("button", name="Enter revoke key").click()
    expect(dialog.get_by_role("alert")).to_contain_text("The revoke key was refused:")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Revoke key", exact=True)).to_have_value("not-a-revoke-key")
    assert page.url == system_page

    dialog.get_by_role("link", name="Cancel").click()
    page.locator("table.assignments tbody tr").first.get_by_role("link", name=re.compile("^Finish revoke")).click()
    steps_key = dialog.get_by_label("Enter the revoke key here.")
    steps_key.fill("still-not-a-key")
    dialog.get_by_role("button", name="Enter revoke key").click()
    expect(dialog.get_by_role("alert")).to_contain_text("The revoke key was refused:")
    expect(dialog.get_by_role("heading", name="Revoke pending", level=1)).to_be_visible()
    expect(dialog.get_by_label("Enter the revoke key here.")).to_have_value("still-not-a-key")


def test_a_refused_add_credits_stays_in_its_dialog_with_the_amount_and_auto_revoke_kept(
    linked: Stack, page: Page
) -> None:
    sign_in(page, linked.cloud_url)
    open_system(page, "OB Van 3")
    page.get_by_role("link", name="Add", exact=True).click()
    dialog = page.locator("dialog#modal")
    dialog.get_by_label("SO-2026-00042").check()
    dialog.get_by_role("button", name="Next").click()
    dialog.get_by_label("Credits to assign").fill("30")
    dialog.get_by_label("Auto Revoke", exact=True).check()
    dialog.get_by_label("Date").fill("2030-06-01")
    dialog.get_by_label("Time").fill("07:45")
    # meanwhile someone else takes most of the subscription's credits
    monthly = linked.subscription("SO-2026-00042")
    linked.api(
        "POST",
        f"/systems/{linked.homes['Studio A'].system_id}/assignments",
        {"subscription_id": monthly["id"], "credits": 20},
    )
    dialog.get_by_role("button", name="Add Credits").click()

    expect(dialog.get_by_role("alert")).to_contain_text("has only 20 credits available")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Credits to assign")).to_have_value("30")
    expect(dialog.get_by_label("Auto Revoke", exact=True)).to_be_checked()
    expect(dialog.get_by_label("Date")).to_have_value("2030-06-01")
    expect(dialog.get_by_label("Time")).to_have_value("07:45")
    dialog.get_by_label("Credits to assign").fill("2")
    dialog.get_by_role("button", name="Add Credits").click()
    expect(page.locator("#flash")).to_contain_text("2 credits from SO-2026-00042 were added for OB Van 3.")


def test_revoke_is_enabled_only_by_exactly_confirm(linked: Stack, page: Page) -> None:
    annual = linked.subscription("SO-2026-00043")
    linked.api(
        "POST",
        f"/systems/{linked.homes['OB Van 3'].system_id}/assignments",
        {"subscription_id": annual["id"], "credits": 1},
    )
    sign_in(page, linked.cloud_url)
    open_system(page, "OB Van 3")
    page.locator("table.assignments tbody tr").first.get_by_role("link", name=re.compile("^Revoke")).click()
    dialog = page.locator("dialog#modal")
    box_ = dialog.get_by_label("Type confirm to enable Revoke")
    revoke = dialog.get_by_role("button", name="Revoke", exact=True)
    for typed in ("Confirm", "confirm ", " confirm", "CONFIRM"):
        box_.fill(typed)
        expect(revoke).to_be_disabled()
    box_.fill("confirm")
    expect(revoke).to_be_enabled()


def test_activate_and_cancel_ask_in_the_portal_dialog_never_the_browser_popup(linked: Stack, page: Page) -> None:
    popups: list[str] = []

    def note(popup: Dialog) -> None:
        popups.append(popup.message)
        popup.dismiss()

    page.on("dialog", note)
    sign_in(page, linked.cloud_url)
    page.get_by_role("navigation", name="Portal sections").get_by_role("link", name="Subscriptions").click()
    dialog = page.locator("dialog#modal")

    page.get_by_role("row").filter(has_text="SO-2026-00045").get_by_role("link", name=re.compile("^Activate")).click()
    expect(dialog.get_by_role("heading", name="Activate subscription SO-2026-00045?")).to_be_visible()
    dialog.get_by_role("link", name="Keep it as it is").click()
    expect(dialog).to_be_hidden()
    assert linked.subscription("SO-2026-00045")["state"] == "inactive"

    page.get_by_role("row").filter(has_text="SO-2026-00042").get_by_role("link", name=re.compile("^Cancel")).click()
    expect(dialog.get_by_role("heading", name="Cancel subscription SO-2026-00042?")).to_be_visible()
    expect(dialog.locator("p.warning")).to_contain_text("stay usable until the end of the term")
    dialog.get_by_role("button", name="Cancel SO-2026-00042").click()
    expect(page.locator("#flash")).to_contain_text("Subscription SO-2026-00042 is cancelled.")

    page.get_by_role("row").filter(has_text="SO-2026-00045").get_by_role("link", name=re.compile("^Activate")).click()
    dialog.get_by_role("button", name="Activate SO-2026-00045").click()
    expect(page.locator("#flash")).to_contain_text("Subscription SO-2026-00045 is active")
    assert popups == [], popups


def test_on_an_online_system_the_file_actions_step_back(linked: Stack, page: Page) -> None:
    sign_in(page, linked.cloud_url)
    background = "el => getComputedStyle(el).backgroundColor"
    open_system(page, "OB Van 3")
    offline = (
        page.get_by_role("group", name="Credits actions").get_by_role("button", name="Download").evaluate(background)
    )
    page.get_by_role("link", name="< Systems").click()
    open_system(page, "Studio A")
    download = page.get_by_role("group", name="Credits actions").get_by_role("button", name="Download")
    online = download.evaluate(background)
    assert offline == "rgb(255, 255, 255)" and online == "rgba(0, 0, 0, 0)", (offline, online)
    add = page.get_by_role("link", name="Add", exact=True)
    assert box(add)["height"] > box(download)["height"], "Download is as prominent as Add on an online system"


def test_the_focus_ring_shows_on_the_dark_top_bar(linked: Stack, page: Page) -> None:
    sign_in(page, linked.cloud_url)
    link = page.get_by_role("navigation", name="Portal sections").get_by_role("link", name="History")
    page.locator("body").focus()
    for _ in range(20):
        page.keyboard.press("Tab")
        if link.evaluate("el => el === document.activeElement"):
            break
    ring = link.evaluate("el => getComputedStyle(el).boxShadow")
    assert "rgb(156, 194, 255)" in ring, ring  # a pale ring with a dark gap, plain on #17202f


def test_at_phone_width_the_navigation_stays_on_one_line_and_add_credits_shows_every_column(
    linked: Stack, phone: Page
) -> None:
    sign_in(phone, linked.cloud_url)
    links = phone.get_by_role("navigation", name="Portal sections").get_by_role("link")
    expect(links).to_have_count(4)
    tops = {round(box(links.nth(index))["y"]) for index in range(4)}
    assert len(tops) == 1, f"the navigation wraps onto {len(tops)} lines"
    for index in range(4):
        right = box(links.nth(index))
        assert right["x"] + right["width"] <= PHONE["width"], f"{links.nth(index).inner_text()} is cut off"
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "the page scrolls sideways"

    open_system(phone, "Studio A")
    phone.get_by_role("link", name="Add", exact=True).click()
    dialog = phone.locator("dialog#modal")
    row = dialog.get_by_role("row").filter(has_text="SO-2026-00043")
    for cell in (row.locator(".choose-available"), row.locator(".choose-term")):
        expect(cell).to_be_visible()
        found = box(cell)
        assert found["x"] >= 0 and found["x"] + found["width"] <= PHONE["width"], (
            f"{cell.inner_text()} is clipped: {found}"
        )
    expect(row.get_by_role("cell", name="Available 120")).to_be_visible()  # the labels come from CSS at this width
    expect(row.get_by_role("cell", name=re.compile("^Term ends"))).to_be_visible()
    dialog.get_by_label("SO-2026-00043").check()
    dialog.get_by_role("button", name="Next").click()
    expect(dialog.get_by_label("Credits to assign")).to_be_visible()


def test_at_phone_width_home_navigation_fits_and_the_bar_graph_labels_are_readable(
    browser: Browser, linked: Stack, tmp_path: Path
) -> None:
    monthly = linked.subscription("SO-2026-00042")
    linked.api(
        "POST",
        f"/systems/{linked.homes['Studio A'].system_id}/assignments",
        {"subscription_id": monthly["id"], "credits": 3},
    )
    context = browser.new_context(viewport=PHONE, base_url=linked.homes["Studio A"].url)
    try:
        home = context.new_page()
        home.goto("/licenses/credits")
        expect(home.locator("#credits-graph")).to_be_visible()
        links = home.get_by_role("navigation", name="Main").get_by_role("link")
        tops = {round(box(links.nth(index))["y"]) for index in range(links.count())}
        assert len(tops) == 1, "HOME's navigation wraps"
        label = home.locator("#credits-graph text.axis-label").last
        height = box(label)["height"]
        assert height >= 9, f"the graph's labels are {height:.1f} px high"
        assert home.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "the page scrolls sideways"
    finally:
        context.close()


def test_a_refused_download_says_why_instead_of_saving_a_file(linked: Stack, page: Page) -> None:
    sign_in(page, linked.cloud_url)
    open_system(page, "OB Van 3")
    toolbar = page.get_by_role("group", name="Credits actions")
    toolbar.locator("input[name=csrf]").evaluate("el => { el.value = 'forged'; }")
    downloads: list[str] = []
    page.on("download", lambda started: downloads.append(started.suggested_filename))
    toolbar.get_by_role("button", name="Download").click()
    note = toolbar.locator("[data-download-status]")
    expect(note).to_have_text(re.compile(r"^The download failed: This form has expired"))
    expect(note).to_have_class(re.compile("is-failed"))
    assert downloads == []
