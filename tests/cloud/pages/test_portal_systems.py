"""The Systems page, Add system (admin), and System details with its live online status."""

import asyncio
import json

from tests.kit.portal import OPERATOR, Client, Home, LinkedHome, Portal, SignIn


async def test_no_systems_yet_tells_an_admin_how_to_add_one(admin: Portal) -> None:
    html = await admin.page(f"{admin.base}/systems")
    assert "No systems linked yet" in html and "Settings → Licensing cloud" in html
    assert f'href="{admin.base}/add-system"' in html and ">Add system<" in html


async def test_admin_links_a_system_by_pasting_its_registration_code(admin: Portal) -> None:
    home = Home("Studio A")
    form = await admin.page(f"{admin.base}/add-system")
    assert (
        '<textarea id="registration_code" name="registration_code"' in form
        and '<label for="registration_code">' in form
    )
    path, html = await admin.post_and_follow(
        f"{admin.base}/systems",
        {"registration_code": home.registration_code, "label": "Studio A (main)"},
        form_page=f"{admin.base}/add-system",
    )
    assert path == f"{admin.base}/systems/{home.system_id}"
    assert "System Studio A (main) is linked to this account." in html
    listing = await admin.page(f"{admin.base}/systems")
    assert "Studio A (main)" in listing and home.system_id in listing and "Offline" in listing and "Never" in listing


async def test_a_bad_or_already_linked_code_is_refused_clearly(admin: Portal, studio: Home) -> None:
    html = await admin.post_refused(f"{admin.base}/systems", {"registration_code": "not-a-code", "label": "Van"})
    assert '<p class="error" role="alert" data-problem>' in html and "data-dialog-content" in html
    assert ">not-a-code</textarea>" in html and 'value="Van"' in html  # what was pasted stays
    html = await admin.post_refused(
        f"{admin.base}/systems", {"registration_code": studio.registration_code}, status=409
    )
    assert f"System {studio.system_id} is already linked to this account." in html
    html = await admin.post_refused(f"{admin.base}/systems", {"registration_code": "  "})
    assert "Paste the registration code" in html


async def test_operator_cannot_add_a_system(sign_in: SignIn) -> None:
    operator = await sign_in(*OPERATOR)
    html = await operator.page(f"{operator.base}/systems")
    assert "Add system" not in html and "An admin of this account can link" in html
    await operator.page(f"{operator.base}/add-system", status=403)
    response = await operator.post(f"{operator.base}/systems", {"registration_code": Home("Sneaky").registration_code})
    assert response.status == 403
    assert "No systems linked yet" in await operator.page(f"{operator.base}/systems")


async def test_system_details_show_the_walk_through_controls_and_columns(admin: Portal, studio: Home) -> None:
    html = await admin.page(f"{admin.base}/systems")
    assert f'href="{admin.base}/systems/{studio.system_id}">Studio A</a>' in html
    html = await admin.page(f"{admin.base}/systems/{studio.system_id}")
    assert f'<a class="back-link" href="{admin.base}/systems">&lt; Systems</a>' in html
    assert "<h1>Studio A</h1>" in html and "data-live-status" in html and "Offline" in html
    headers = [
        "Credits",
        "Assigned",
        "Valid",
        "Auto Revoke",
        "Downloaded",
        "Sub Order ID",
        "Sub Duration",
        "Sub Status",
    ]
    positions = [html.index(f'">{name}</th>') for name in headers]
    assert positions == sorted(positions)
    for control in (">Add</a>", ">Download</button>", ">Enter revoke key</a>"):
        assert control in html
    assert "No credits are assigned to this system." in html


async def test_a_system_of_another_account_is_not_found(admin: Portal, client: Client) -> None:
    created = await client.post(
        "/_emulator/accounts", json={"name": "Other", "admin": {"email": "o@example.com", "password": "secret-pass"}}
    )
    other = await created.json()
    token = (
        await (
            await client.post("/api/v1/auth/token", json={"email": "o@example.com", "password": "secret-pass"})
        ).json()
    )["token"]
    theirs = Home("Their studio")
    await admin.api(
        "POST",
        f"/api/v1/accounts/{other['account']['id']}/systems",
        token,
        {"registration_code": theirs.registration_code},
    )
    html = await admin.page(f"{admin.base}/systems/{theirs.system_id}", status=404)
    assert "Their studio" not in html
    await admin.page(f"{admin.base}/systems/{theirs.system_id}/presence", status=404)


async def test_the_online_status_updates_live_when_home_connects_and_leaves(
    admin: Portal, studio: Home, client: Client
) -> None:
    presence = f"{admin.base}/systems/{studio.system_id}/presence"
    before = json.loads(await admin.page(presence))
    assert before["online"] is False and before["last_seen"] == ""
    link = await LinkedHome(studio, client.session, str(client.make_url("/api/v1/link"))).connect()
    try:
        now = json.loads(await admin.page(presence))
        assert now["online"] is True
        html = await admin.page(f"{admin.base}/systems/{studio.system_id}")
        assert "badge-online" in html and ">Online<" in html
        listing = json.loads(await admin.page(f"{admin.base}/presence"))
        assert listing["systems"][studio.system_id]["online"] is True
    finally:
        await link.close()
    for _ in range(50):
        after = json.loads(await admin.page(presence))
        if not after["online"]:
            break
        await asyncio.sleep(0.02)
    assert after["online"] is False and after["last_seen"].endswith("Z")


async def test_system_details_show_an_injected_link_fault_as_a_badge(admin: Portal, studio: Home) -> None:
    page = f"{admin.base}/systems/{studio.system_id}"
    assert "data-link-fault" not in await admin.page(page)
    before = json.loads(await admin.page(f"{page}/presence"))["version"]
    response = await admin.client.post(
        f"/_emulator/systems/{studio.system_id}/link-faults", json={"cut": True, "drop_next": "receipt"}
    )
    assert response.status == 200
    html = await admin.page(page)
    assert "data-link-fault" in html and "Fault: link cut, drop next receipt" in html
    assert json.loads(await admin.page(f"{page}/presence"))["version"] != before  # an open page refreshes to show it
    await admin.client.post(f"/_emulator/systems/{studio.system_id}/link-faults", json={"clear": True})
    assert "data-link-fault" not in await admin.page(page)
