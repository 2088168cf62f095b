"""Add Credits (two steps), Revoke (confirm; the four steps offline), Download, and revoke keys."""

import json
import re
from typing import Any

from flex_emulator.cloud.web.access import SESSION_COOKIE
from flex_emulator.shared.clock import VirtualClock
from flex_emulator.shared.keys import keys_from_jwks
from flex_emulator.shared.tokens import verify_snapshot
from tests.kit.portal import (
    OPERATOR,
    Client,
    Home,
    LinkedHome,
    Portal,
    SignIn,
    csrf_in,
)

Subs = dict[str, dict[str, Any]]


def system_path(portal: Portal, home: Home) -> str:
    return f"{portal.base}/systems/{home.system_id}"


async def assignments(portal: Portal, token: str, home: Home) -> list[dict[str, Any]]:
    _, body = await portal.api("GET", f"/api/v1/accounts/{portal.account_id}/systems/{home.system_id}", token)
    return list(body["assignments"])


async def add_credits(portal: Portal, home: Home, sub_id: str, credits: str, **extra: str) -> tuple[str, str]:
    form = f"{system_path(portal, home)}/add?step=2&subscription={sub_id}"
    return await portal.post_and_follow(
        f"{system_path(portal, home)}/assignments",
        {"subscription_id": sub_id, "credits": credits, **extra},
        form_page=form,
    )


async def test_step_one_lists_every_subscription_but_only_usable_ones_can_be_chosen(
    admin: Portal, studio: Home, subs: Subs
) -> None:
    html = await admin.page(f"{system_path(admin, studio)}/add")
    assert "Add Credits" in html and "Step 1 of 2" in html and ">Next</button>" in html
    assert 'method="get"' in html and 'name="step" value="2"' in html
    for order, enabled in (
        ("SO-2026-00042", True),
        ("SO-2026-00043", True),
        ("SO-2026-00044", True),
        ("SO-2026-00045", False),
    ):
        radio = re.search(rf'<input type="radio" name="subscription" id="sub-{subs[order]["id"]}"[^>]*>', html)
        assert radio is not None and ("disabled" not in radio.group(0)) == enabled, order
        assert f'<label for="sub-{subs[order]["id"]}"' in html
    row = html[html.index("SO-2026-00044") :].split("</tr>")[0]
    assert "Cancelled: usable until" in row and "badge-warning" in row


async def test_step_two_shows_remaining_credits_type_and_a_quarter_step_number_field(
    admin: Portal, studio: Home, subs: Subs
) -> None:
    html = await admin.page(f"{system_path(admin, studio)}/add?step=2&subscription={subs['SO-2026-00043']['id']}")
    assert "Step 2 of 2" in html and "<dt>Available</dt>" in html and "Annual (Active)" in html
    field = re.search(r'<input id="credits"[^>]*>', html)
    assert field is not None
    for attribute in ('type="number"', 'step="0.25"', 'min="0.25"', 'max="120"', 'value="1"'):
        assert attribute in field.group(0)
    for control in (
        'id="auto_revoke" name="auto_revoke" type="checkbox"',
        'type="date"',
        'type="time"',
        ">Add Credits</button>",
    ):
        assert control in html
    assert '<label for="auto_revoke">Auto Revoke</label>' in html


async def test_step_two_for_an_inactive_subscription_goes_back_to_step_one(
    admin: Portal, studio: Home, subs: Subs
) -> None:
    html = await admin.page(f"{system_path(admin, studio)}/add?step=2&subscription={subs['SO-2026-00045']['id']}")
    assert "Step 1 of 2" in html and "Subscription SO-2026-00045 cannot supply credits." in html
    html = await admin.page(f"{system_path(admin, studio)}/add?step=2")
    assert "Choose an active subscription." in html


async def test_add_credits_creates_the_assignment_and_returns_to_the_system(
    admin: Portal, studio: Home, subs: Subs, token: str
) -> None:
    path, html = await add_credits(admin, studio, subs["SO-2026-00042"]["id"], "2.5")
    assert path == system_path(admin, studio)
    assert "2.5 credits from SO-2026-00042 were added for Studio A. The system is offline" in html
    assert "Not downloaded yet." in html
    row = html[html.index('<td class="num strong">2.5</td>') :].split("</tr>")[0]
    assert "SO-2026-00042" in row and "Monthly" in row and "Active" in row and "✓" not in row
    [item] = await assignments(admin, token, studio)
    assert (item["credits"], item["downloaded"], item["auto_revoke_at"]) == (2.5, False, None)
    assert "37.5" in await admin.page(f"{admin.base}/subscriptions")


async def test_auto_revoke_takes_the_chosen_date_and_time_in_utc(
    admin: Portal, studio: Home, subs: Subs, token: str
) -> None:
    _, html = await add_credits(
        admin,
        studio,
        subs["SO-2026-00043"]["id"],
        "1.75",
        auto_revoke="on",
        auto_revoke_date="2026-12-24",
        auto_revoke_time="18:30",
    )
    assert "1.75 credits from SO-2026-00043" in html and "24 Dec 2026 18:30" in html
    [item] = await assignments(admin, token, studio)
    assert item["auto_revoke_at"] == "2026-12-24T18:30:00Z"


async def test_bad_amounts_and_missing_auto_revoke_dates_are_refused_and_change_nothing(
    admin: Portal, studio: Home, subs: Subs, token: str
) -> None:
    sub = subs["SO-2026-00042"]["id"]
    cases = [
        ("41", {}, "has only 40 credits available"),
        ("0.3", {}, "Credits come in steps of 0.25."),
        ("0", {}, "Assign at least 0.25 credits."),
        ("", {}, "Enter the number of credits to assign."),
        ("1", {"auto_revoke": "on"}, "Choose the date (and time) for Auto Revoke"),
        ("1", {"auto_revoke": "on", "auto_revoke_date": "2020-01-01"}, "The Auto Revoke time must be in the future."),
    ]
    form = f"{system_path(admin, studio)}/add?step=2&subscription={sub}"
    for credits, extra, message in cases:
        status = 409 if credits == "41" else 400
        data = {"subscription_id": sub, "credits": credits, **extra}
        path = f"{system_path(admin, studio)}/assignments"
        html = await admin.post_refused(path, data, status=status, form_page=form)
        assert "Step 2 of 2" in html and "data-dialog-content" in html, credits
        assert message in html and '<p class="error" role="alert">' in html, (credits, message)
        field = re.search(r'<input id="credits"[^>]*>', html)
        assert field is not None and f'value="{credits or 1}"' in field.group(0), "what was typed is kept"
        if extra.get("auto_revoke_date"):
            assert 'name="auto_revoke" type="checkbox" value="on" data-reveal="auto-revoke-when" checked' in html
            assert 'value="2020-01-01"' in html
    assert await assignments(admin, token, studio) == []


async def test_another_account_cannot_add_its_own_credits_to_this_accounts_system(
    admin: Portal, sign_in: SignIn, studio: Home, client: Client, token: str
) -> None:
    created = await client.post(
        "/_emulator/accounts",
        json={"name": "Rival Media", "admin": {"email": "boss@rival.test", "password": "rival password"}},
    )
    answer = await created.json()
    rival_id, rival_token = answer["account"]["id"], answer["token"]
    made = await client.post(
        f"/_emulator/accounts/{rival_id}/subscriptions", json={"credits": 8, "duration": "monthly", "state": "active"}
    )
    rival_sub = (await made.json())["subscription"]["id"]
    rival = await sign_in("boss@rival.test", "rival password")
    assert rival.account_id == rival_id
    # The rival's own account, its own active subscription and its own session's CSRF token: only the system is not
    # its own. The answer is the not-found page, which names nothing of the other account.
    target = f"/accounts/{rival_id}/systems/{studio.system_id}"
    html = await rival.page(f"{target}/add?step=2&subscription={rival_sub}", status=404)
    assert "Not found" in html and "Studio A" not in html
    html = await rival.post_refused(
        f"{target}/assignments",
        {"subscription_id": rival_sub, "credits": "2"},
        status=404,
        form_page=f"{rival.base}/systems",
    )
    assert "Not found" in html and "Studio A" not in html
    assert await assignments(admin, token, studio) == []
    _, body = await rival.api("GET", f"/api/v1/accounts/{rival_id}/subscriptions", rival_token)
    assert [sub["credits_available"] for sub in body["subscriptions"]] == [8]


async def test_operator_may_add_credits_but_not_without_the_csrf_token(
    sign_in: SignIn, studio: Home, subs: Subs, token: str, client: Client
) -> None:
    operator = await sign_in(*OPERATOR)
    response = await client.post(
        f"{system_path(operator, studio)}/assignments",
        data={"subscription_id": subs["SO-2026-00042"]["id"], "credits": "1"},
    )
    assert response.status == 403
    assert await assignments(operator, token, studio) == []
    _, html = await add_credits(operator, studio, subs["SO-2026-00042"]["id"], "1")
    assert "1 credits from SO-2026-00042 were added" in html
    assert len(await assignments(operator, token, studio)) == 1


async def test_revoke_requires_typing_confirm(admin: Portal, studio: Home, subs: Subs, token: str) -> None:
    await add_credits(admin, studio, subs["SO-2026-00042"]["id"], "3")
    [item] = await assignments(admin, token, studio)
    page = f"{system_path(admin, studio)}/assignments/{item['id']}/revoke"
    html = await admin.page(page)
    assert "Revoke credits" in html and "never downloaded" in html
    assert '<label for="confirm">Type <strong>confirm</strong> to enable Revoke</label>' in html
    assert 'data-confirm-word="confirm"' in html
    for typed in ("", "yes", "confirmed", "Confirm", "confirm ", " confirm", "CONFIRM"):
        html = await admin.post_refused(page, {"confirm": typed}, form_page=page)
        assert "Type the word confirm (exactly, in small letters) to revoke." in html and "Revoke credits" in html, (
            typed
        )
    assert (await assignments(admin, token, studio))[0]["state"] == "active"
    path, html = await admin.post_and_follow(page, {"confirm": "confirm"}, form_page=page)
    assert path == system_path(admin, studio) and "Revoked: 3 credits are back in their subscription." in html
    assert "<summary>Ended (1)</summary>" in html and "Revoked" in html
    assert (await assignments(admin, token, studio))[0]["state"] == "ended"


async def test_download_returns_a_verifiable_credits_file_and_ticks_downloaded(
    admin: Portal, studio: Home, subs: Subs, client: Client, clock: VirtualClock
) -> None:
    await add_credits(admin, studio, subs["SO-2026-00043"]["id"], "5")
    before = json.loads(await admin.page(f"{system_path(admin, studio)}/presence"))["version"]
    response = await admin.post(f"{system_path(admin, studio)}/credits-file", form_page=system_path(admin, studio))
    assert response.status == 200 and response.content_type == "application/jwt"
    assert re.fullmatch(r'attachment; filename="credits-studio-a-\d+\.jwt"', response.headers["Content-Disposition"])
    trusted = keys_from_jwks(await (await client.get("/.well-known/jwks.json")).json())
    snapshot = verify_snapshot(await response.text(), trusted, studio.system_id, clock.now())
    assert [entry.credits for entry in snapshot.entries] == [20]
    html = await admin.page(system_path(admin, studio))
    assert '<span class="tick" title="Downloaded">✓' in html and "Not downloaded yet." not in html
    after = json.loads(await admin.page(f"{system_path(admin, studio)}/presence"))["version"]
    assert after != before  # an open details page reloads itself to show the tick


async def test_download_without_csrf_issues_nothing(admin: Portal, studio: Home, client: Client, token: str) -> None:
    response = await client.post(f"{system_path(admin, studio)}/credits-file", data={})
    assert response.status == 403 and response.content_type == "text/html"
    _, body = await admin.api("GET", f"/api/v1/accounts/{admin.account_id}/systems/{studio.system_id}", token)
    assert body["system"]["seq"] == 0


async def test_revoking_downloaded_credits_offline_shows_the_four_steps_and_takes_a_revoke_key(
    admin: Portal, studio: Home, subs: Subs, token: str
) -> None:
    await add_credits(admin, studio, subs["SO-2026-00042"]["id"], "4")
    await admin.post(f"{system_path(admin, studio)}/credits-file")
    [item] = await assignments(admin, token, studio)
    page = f"{system_path(admin, studio)}/assignments/{item['id']}/revoke"
    assert "holds a downloaded copy" in await admin.page(page)
    path, html = await admin.post_and_follow(page, {"confirm": "confirm"}, form_page=page)
    assert path == page and "Follow the four steps below." in html
    assert "Revoke pending" in html and "Returns by" in html and "at the latest" in html
    for step in (
        "Download the latest credits file",
        "FileLicenses",
        "Copy the revoke key",
        "Enter the revoke key here.",
    ):
        assert step in html
    assert f'action="{system_path(admin, studio)}/credits-file"' in html and 'name="revoke_key"' in html
    details = await admin.page(system_path(admin, studio))
    assert '<span class="pending-tag">Revoke pending</span>' in details and "returns by" in details
    finish = re.search(r'<a class="btn btn-small" href="([^"]+)" data-dialog>Finish revoke', details)
    assert finish is not None and finish.group(1) == page, "Finish revoke opens the same dialog as Revoke"
    assert "data-download" in html and "data-download-status" in html

    outdated = studio.revoke_key(1, (item["id"],))
    html = await admin.post_refused(
        f"{system_path(admin, studio)}/revoke-key",
        {"revoke_key": outdated, "assignment_id": item["id"]},
        status=409,
        form_page=page,
    )
    assert "Revoke pending" in html and "The revoke key was refused: This revoke key was made before the revoke" in html
    assert f">{outdated}</textarea>" in html, "the pasted key stays in the box"
    html = await admin.post_refused(
        f"{system_path(admin, studio)}/revoke-key", {"revoke_key": "garbage"}, form_page=page
    )
    assert "The revoke key was refused:" in html and '<h1 id="revoke-key-title">Enter revoke key</h1>' in html
    assert ">garbage</textarea>" in html

    latest = await admin.post(f"{system_path(admin, studio)}/credits-file")
    assert latest.status == 200
    path, html = await admin.post_and_follow(
        f"{system_path(admin, studio)}/revoke-key",
        {"revoke_key": studio.revoke_key(2), "assignment_id": item["id"]},
        form_page=page,
    )
    assert path == system_path(admin, studio) and "Revoke key accepted: 4 credits came back (1 assignment)." in html
    assert (await assignments(admin, token, studio))[0]["state"] == "ended"
    _, html = await admin.post_and_follow(
        f"{system_path(admin, studio)}/revoke-key", {"revoke_key": studio.revoke_key(2)}
    )
    assert "No credits were waiting for it" in html


async def test_the_revoke_key_page_lists_what_is_pending(admin: Portal, studio: Home) -> None:
    html = await admin.page(f"{system_path(admin, studio)}/revoke-key")
    assert "Enter revoke key" in html and '<label for="revoke_key_input">Revoke key</label>' in html
    assert "No revoke is pending on this system right now." in html
    html = await admin.post_refused(f"{system_path(admin, studio)}/revoke-key", {"revoke_key": ""})
    assert "Enter revoke key" in html and "Paste the revoke key" in html


async def test_online_system_gets_credits_at_once_and_revoke_is_immediate(
    admin: Portal, studio: Home, subs: Subs, token: str, client: Client
) -> None:
    link = await LinkedHome(studio, client.session, str(client.make_url("/api/v1/link"))).connect()
    try:
        _, html = await add_credits(admin, studio, subs["SO-2026-00043"]["id"], "2")
        assert "2 credits from SO-2026-00043 were sent to Studio A." in html and "✓" in html
        [item] = await assignments(admin, token, studio)
        assert item["downloaded"] is True
        page = f"{system_path(admin, studio)}/assignments/{item['id']}/revoke"
        assert "is online: the credits go back to the subscription at once" in await admin.page(page)
        _, html = await admin.post_and_follow(page, {"confirm": "confirm"}, form_page=page)
        assert "Revoked: 2 credits are back in their subscription." in html
    finally:
        await link.close()


async def test_a_page_form_needs_the_session_cookie_not_just_the_token(
    admin: Portal, studio: Home, client: Client, subs: Subs
) -> None:
    csrf = csrf_in(await admin.page(system_path(admin, studio)))
    client.session.cookie_jar.clear()
    response = await client.post(
        f"{system_path(admin, studio)}/assignments",
        data={"csrf": csrf, "subscription_id": subs["SO-2026-00042"]["id"], "credits": "1"},
        allow_redirects=False,
    )
    assert response.status == 303 and response.headers["Location"] == "/signin"
    assert SESSION_COOKIE not in response.cookies or response.cookies[SESSION_COOKIE].value == ""
