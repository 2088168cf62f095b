"""One word per thing, looked at in Chromium: what a newcomer read on the portal's and HOME's pages and tripped
over (two words for one thing, a number without its reason, a date in another format, columns that do not
line up, a notice that contradicts the note beside it)."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.kit.browser import Stack, call, sign_in

pytestmark = pytest.mark.browser

HomePage = Callable[[str], Page]
SHORT_DATE = re.compile(r"^\d\d [A-Z][a-z]{2}$")  # "04 Nov", as "04 Nov 2026" elsewhere without the year


def open_system(page: Page, label: str) -> None:
    page.get_by_role("navigation", name="Portal sections").get_by_role("link", name="Systems").click()
    page.get_by_role("link", name=label, exact=True).click()
    expect(page.get_by_role("heading", name=label, level=1)).to_be_visible()


def assignment_rows(page: Page) -> Locator:
    return page.locator("table.assignments tbody tr")


def downloaded_cell(row: Locator) -> Locator:
    return row.locator("td").nth(4)


def assign(stack: Stack, label: str, order_id: str, credits: float) -> dict[str, object]:
    sub = stack.subscription(order_id)
    system = stack.homes[label].system_id
    answer: dict[str, object] = stack.api(
        "POST", f"/systems/{system}/assignments", {"subscription_id": sub["id"], "credits": credits}
    )["assignment"]
    return answer


def credits_file(stack: Stack, label: str) -> str:
    return str(stack.api("POST", f"/systems/{stack.homes[label].system_id}/credits-file"))


def column_lefts(table: Locator) -> dict[str, float]:
    """Each header cell's left edge by its text."""
    lefts = {}
    for cell in table.locator("thead th").all():
        box = cell.bounding_box()
        assert box is not None
        lefts[cell.inner_text().strip().lower()] = box["x"]
    return lefts


def test_portal_uses_one_word_per_thing_and_says_why(page: Page, linked: Stack) -> None:
    first = assign(linked, "Studio A", "SO-2026-00042", 1.5)
    studio = linked.homes["Studio A"].system_id
    linked.api("POST", f"/systems/{studio}/assignments/{first['id']}/revoke", {"confirm": "confirm"})
    assign(linked, "Studio A", "SO-2026-00043", 2)
    sign_in(page, linked.cloud_url)

    # The Add dialog offers the cancelled subscription, and says why; step 2 says Available, as everywhere.
    open_system(page, "Studio A")
    page.get_by_role("link", name="Add", exact=True).click()
    dialog = page.locator("dialog#modal")
    expect(dialog).to_contain_text("cancelled ones until their term ends")
    expect(dialog).not_to_contain_text("Only active subscriptions")
    expect(dialog.get_by_label("SO-2026-00044")).to_be_enabled()
    dialog.get_by_label("SO-2026-00042").check()
    dialog.get_by_role("button", name="Next").click()
    expect(dialog.locator("dl.facts dt")).to_contain_text(["Subscription", "Type", "Available"])
    expect(dialog).not_to_contain_text("Credits remaining")
    dialog.get_by_role("link", name="Cancel").click()

    # The Assigned and the Ended tables line up, column for column.
    page.locator("details.ended summary").click()
    assigned, ended = column_lefts(page.locator("table.assignments")), column_lefts(page.locator("details.ended table"))
    shared = [name for name in assigned if name in ended]
    assert {"credits", "assigned", "downloaded", "sub order id", "sub duration"} <= set(shared), (assigned, ended)
    assert all(abs(assigned[name] - ended[name]) < 1 for name in shared), (assigned, ended)

    # History names a credits file by its number, as HOME does.
    page.get_by_role("navigation", name="Portal sections").get_by_role("link", name="History").click()
    expect(page.locator("table")).to_contain_text("credits file number 1")
    expect(page.locator("table")).not_to_contain_text("sequence")


def test_a_disconnected_systems_page_says_downloaded_or_not_never_both(
    page: Page, linked: Stack, tmp_path: Path
) -> None:
    assign(linked, "OB Van 3", "SO-2026-00043", 2)
    sign_in(page, linked.cloud_url)
    open_system(page, "OB Van 3")
    expect(downloaded_cell(assignment_rows(page).first)).to_have_text(re.compile(r"^\s*—"))
    expect(page.get_by_text("Not downloaded yet.")).to_be_visible()

    # Note, the moment the download note appears, whether the notice still says the opposite.
    page.evaluate(
        """() => {
          const note = document.querySelector(".toolbar [data-download-status]");
          window.bothShown = null;
          new MutationObserver(() => {
            if (!note.textContent.startsWith("Downloaded")) return;
            const notice = [...document.querySelectorAll(".notice")]
              .find((n) => n.textContent.includes("Not downloaded yet"));
            if (window.bothShown === null) window.bothShown = Boolean(notice && notice.offsetParent !== null);
          }).observe(note, { childList: true, characterData: true, subtree: true });
        }"""
    )
    with page.expect_download():
        page.get_by_role("group", name="Credits actions").get_by_role("button", name="Download").click()
    page.wait_for_function("window.bothShown !== null || !document.querySelector('.toolbar [data-download-status]')")
    assert page.evaluate("window.bothShown") in (False, None)
    expect(page.get_by_text("Not downloaded yet.")).to_be_hidden()
    expect(downloaded_cell(assignment_rows(page).first).locator(".tick")).to_be_visible(timeout=8000)


def test_revoke_pending_explains_the_minutes_between_valid_until_and_returns_by(page: Page, linked: Stack) -> None:
    item = assign(linked, "OB Van 3", "SO-2026-00043", 2)
    call("POST", f"{linked.homes['OB Van 3'].url}/api/v1/file-licenses", raw=credits_file(linked, "OB Van 3").encode())
    system = linked.homes["OB Van 3"].system_id
    linked.api("POST", f"/systems/{system}/assignments/{item['id']}/revoke", {"confirm": "confirm"})
    sign_in(page, linked.cloud_url)
    open_system(page, "OB Van 3")
    assignment_rows(page).first.get_by_role("link", name=re.compile("^Finish revoke")).click()
    dialog = page.locator("dialog#modal")
    expect(dialog.get_by_role("heading", name="Revoke pending")).to_be_visible()
    expect(dialog.locator(".warning")).to_contain_text("Returns by")
    expect(dialog.locator(".warning")).to_contain_text("5 minutes")
    expect(dialog.locator(".warning")).to_contain_text("clock")


def test_a_disconnected_home_says_disconnected_and_never_promises_to_renew_by_itself(
    linked: Stack, home_page: HomePage
) -> None:
    assign(linked, "OB Van 3", "SO-2026-00043", 2)
    call("POST", f"{linked.homes['OB Van 3'].url}/api/v1/file-licenses", raw=credits_file(linked, "OB Van 3").encode())
    van = home_page("OB Van 3")
    van.goto("/file-licenses")
    expect(van.locator("#link-state")).to_have_text(re.compile(r"Disconnected$"))
    help_text = van.locator("#license-file-help")
    expect(help_text).to_contain_text("2.7 MiB")
    expect(help_text).not_to_contain_text("KiB")

    van.goto("/licenses/credits")
    expect(van.locator("#credit-status")).to_contain_text("cannot renew by itself")
    after = van.locator("#credit-entries td.after-validity")
    expect(after).to_have_text("Continues with a newer credits file")
    expect(van.locator(".legend")).to_contain_text("Continues with a newer credits file")
    expect(van.locator(".legend")).not_to_contain_text("renewal")
    labels = [text.strip() for text in van.locator("#credits-graph g.bar text").all_text_contents()]
    assert labels and all(SHORT_DATE.match(label) for label in labels), labels

    van.goto("/settings/cloud")
    expect(van.locator("#cloud-state")).to_have_text("Disconnected")


def test_an_online_home_says_it_renews_at_check_in(linked: Stack, home_page: HomePage) -> None:
    assign(linked, "Studio A", "SO-2026-00043", 2)
    studio = home_page("Studio A")
    studio.goto("/licenses/credits")
    expect(studio.locator("#credit-entries td.after-validity")).to_have_text("Renews at check-in")
    expect(studio.locator(".legend")).to_contain_text("Continues after the next renewal")
    expect(studio.locator("#link-state")).to_have_text(re.compile(r"Online$"))
