"""System details wording and flags, dialogs answering their script, and History: who revoked, filter and pages."""

import re
from typing import Any

from tests.kit.portal import Client, Home, LinkedHome, Portal

Subs = dict[str, dict[str, Any]]


def system_path(portal: Portal, home: Home) -> str:
    return f"{portal.base}/systems/{home.system_id}"


async def assign(portal: Portal, token: str, home: Home, sub_id: str, credits: float) -> dict[str, Any]:
    body = {"subscription_id": sub_id, "credits": credits}
    status, answer = await portal.api(
        "POST", f"/api/v1/accounts/{portal.account_id}/systems/{home.system_id}/assignments", token, body
    )
    assert status == 201, answer
    return dict(answer["assignment"])


async def test_the_assignment_table_says_sub_status_once_and_flags_a_cancelled_subscription(
    admin: Portal, studio: Home, subs: Subs, token: str
) -> None:
    await assign(admin, token, studio, subs["SO-2026-00042"]["id"], 1)
    await assign(admin, token, studio, subs["SO-2026-00044"]["id"], 2)
    html = await admin.page(system_path(admin, studio))
    header = html.split("<thead>")[1].split("</thead>")[0]
    assert '<th scope="col">Sub Status</th>' in header and '<th scope="col">State</th>' not in header
    active_row = html[html.index('<td class="num strong">1</td>') :].split("</tr>")[0]
    cancelled_row = html[html.index('<td class="num strong">2</td>') :].split("</tr>")[0]
    assert "badge-warning" not in active_row and active_row.count(">Active<") == 1 and "<td>Active</td>" in active_row
    assert re.search(
        r'<td>Cancelled\s*<span class="badge badge-warning sub-ends" '
        r'title="Subscription cancelled: these credits end by [^"]+">',
        cancelled_row,
    )
    assert "Ends 28 Nov 2027" in cancelled_row


async def test_download_and_enter_revoke_key_are_grouped_for_an_offline_home_and_quiet_while_online(
    admin: Portal, studio: Home, client: Client
) -> None:
    html = await admin.page(system_path(admin, studio))
    assert '<div class="toolbar" role="group" aria-label="Credits actions" data-file-toolbar>' in html
    assert "For an offline HOME, by file:" in html and "data-download>" in html
    link = await LinkedHome(studio, client.session, str(client.make_url("/api/v1/link"))).connect()
    try:
        html = await admin.page(system_path(admin, studio))
        assert '<div class="toolbar is-online" role="group" aria-label="Credits actions" data-file-toolbar>' in html
        assert 'title="Linked to the licensing cloud right now: credits arrive at once"' in html
    finally:
        await link.close()


async def test_a_form_posted_from_a_dialog_answers_its_next_place_and_keeps_the_message_for_it(
    admin: Portal, studio: Home, subs: Subs
) -> None:
    form = f"{system_path(admin, studio)}/add?step=2&subscription={subs['SO-2026-00042']['id']}"
    response = await admin.post_from_dialog(
        f"{system_path(admin, studio)}/assignments",
        {"subscription_id": subs["SO-2026-00042"]["id"], "credits": "1.5"},
        form_page=form,
    )
    assert response.status == 200 and await response.json() == {"location": system_path(admin, studio)}
    html = await admin.page(system_path(admin, studio))
    assert "1.5 credits from SO-2026-00042 were added for Studio A." in html  # shown by the page the script opens
    refused = await admin.post_from_dialog(
        f"{system_path(admin, studio)}/assignments",
        {"subscription_id": subs["SO-2026-00042"]["id"], "credits": "99"},
        form_page=form,
    )
    text = await refused.text()
    assert (
        refused.status == 200 and "data-dialog-content" in text
    )  # the dialog again is the script's answer and "has only 38.5 credits available" in text
    assert 'value="99"' in text


async def test_an_online_revoke_is_recorded_as_the_person_who_revoked(
    admin: Portal, studio: Home, subs: Subs, token: str, client: Client
) -> None:
    link = await LinkedHome(studio, client.session, str(client.make_url("/api/v1/link"))).connect()
    try:
        item = await assign(admin, token, studio, subs["SO-2026-00043"]["id"], 2)
        assert item["downloaded"] is True
        page = f"{system_path(admin, studio)}/assignments/{item['id']}/revoke"
        _, html = await admin.post_and_follow(page, {"confirm": "confirm"}, form_page=page)
        assert "Revoked: 2 credits are back in their subscription." in html
    finally:
        await link.close()
    _, body = await admin.api("GET", f"/api/v1/accounts/{admin.account_id}/history", token)
    returned = next(event for event in body["events"] if event["kind"] == "returned")
    assert returned["actor"] == "admin@example.com" and returned["via"] == "link"
    html = await admin.page(f"{admin.base}/history")
    row = html[html.index("Credits returned") :].split("</tr>")[0]
    assert (
        "Revoked, HOME confirmed online" in row and "<td>admin@example.com</td>" in row and "HOME Studio A" not in row
    )


async def test_history_pages_back_fifty_at_a_time_and_filters_by_kind_and_system(
    admin: Portal, studio: Home, token: str
) -> None:
    other = Home("OB Van 3")
    await admin.api(
        "POST", f"/api/v1/accounts/{admin.account_id}/systems", token, {"registration_code": other.registration_code}
    )
    for _ in range(55):
        response = await admin.client.post(
            f"/api/v1/accounts/{admin.account_id}/systems/{studio.system_id}/credits-file",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status == 200
    _, body = await admin.api("GET", f"/api/v1/accounts/{admin.account_id}/history", token)
    total = len(body["events"])
    subscription_events = sum(event["kind"].startswith("subscription_") for event in body["events"])
    html = await admin.page(f"{admin.base}/history")
    rows = html.split("<tbody>")[1].split("</tbody>")[0].count("<tr>")
    assert total > 55 + subscription_events and rows == 50 and "Older &gt;</a>" in html and "Newest</a>" not in html
    older = re.search(r'<a class="btn" href="([^"]+)" rel="next">', html)
    assert older is not None
    html = await admin.page(older.group(1).replace("&amp;", "&"))
    rows = html.split("<tbody>")[1].split("</tbody>")[0].count("<tr>")
    assert rows == total - 50 and "Older &gt;</a>" not in html and "&lt; Newest</a>" in html

    html = await admin.page(f"{admin.base}/history?what=subscriptions")
    rows_html = html.split("<tbody>")[1].split("</tbody>")[0]
    assert (
        rows_html.count("<tr>") == subscription_events
        and "Subscription created" in rows_html
        and "Credits file downloaded" not in rows_html
    )
    assert '<option value="subscriptions" selected>' in html and "Clear filter" in html
    html = await admin.page(f"{admin.base}/history?system={other.system_id}")
    rows_html = html.split("<tbody>")[1].split("</tbody>")[0]
    assert rows_html.count("<tr>") == 1 and "System linked" in rows_html and "OB Van 3" in rows_html
    html = await admin.page(f"{admin.base}/history?what=credits&system={other.system_id}")
    assert "No events match this filter." in html


async def test_the_history_api_pages_and_filters_like_the_page(admin: Portal, studio: Home, token: str) -> None:
    base = f"/api/v1/accounts/{admin.account_id}/history"
    _, everything = await admin.api("GET", base, token)
    newest, *rest = everything["events"]
    _, older = await admin.api("GET", f"{base}?before={newest['id']}", token)
    assert older["events"] == rest
    query = f"system={studio.system_id}&kind=system_linked&kind=system_unlinked"
    _, linked = await admin.api("GET", f"{base}?{query}", token)
    assert [event["kind"] for event in linked["events"]] == ["system_linked"]
    status, refused = await admin.api("GET", f"{base}?before=yesterday", token)
    assert status == 400 and refused["error"]["code"] == "wrong_type"
