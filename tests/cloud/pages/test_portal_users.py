"""Users (admins only) and the account's History."""

import re
from typing import Any

from tests.kit.portal import OPERATOR, Client, Home, Portal, SignIn, csrf_in


async def test_users_lists_members_with_their_roles(admin: Portal) -> None:
    html = await admin.page(f"{admin.base}/users")
    assert "admin@example.com" in html and "operator@example.com" in html and "(you)" in html
    assert '<span class="role-tag">operator</span>' in html
    for label in ('<label for="member_email">', '<label for="member_role">', '<label for="member_password">'):
        assert label in html


async def test_admin_invites_a_new_member_who_signs_in_and_accepts(admin: Portal, client: Client) -> None:
    path, html = await admin.post_and_follow(
        f"{admin.base}/users",
        {"email": "newbie@example.com", "role": "operator", "password": "long-enough"},
        form_page=f"{admin.base}/users",
    )
    assert path == f"{admin.base}/users" and "newbie@example.com is invited as operator" in html
    assert "Invited, not joined yet" in html and "Withdraw" in html
    client.session.cookie_jar.clear()  # the newcomer's own browser
    form = await client.get("/signin")
    fields = {"csrf": csrf_in(await form.text()), "email": "newbie@example.com", "password": "long-enough", "next": "/"}
    signed_in = await client.post("/signin", data=fields, allow_redirects=False)
    assert signed_in.status == 303
    landing = await client.get("/")
    html = await landing.text()
    assert landing.url.path == "/accounts" and "Invitations" in html and "Demo Broadcast" in html
    newbie = Portal(client, admin.account_id)
    invitation = re.search(r'action="(/invitations/[^/]+/accept)"', html)
    assert invitation is not None
    path, html = await newbie.post_and_follow(invitation.group(1), form_page="/accounts")
    assert path == f"/accounts/{admin.account_id}/systems" and "You joined Demo Broadcast as operator." in html


async def test_a_member_of_another_account_is_only_invited(admin: Portal, client: Client, token: str) -> None:
    second = await client.post(
        "/_emulator/accounts", json={"name": "Other", "admin": {"email": "chief@other.test", "password": "x" * 8}}
    )
    assert second.status == 201
    _, html = await admin.post_and_follow(
        f"{admin.base}/users", {"email": "chief@other.test", "role": "admin"}, form_page=f"{admin.base}/users"
    )
    assert "chief@other.test is invited as admin" in html
    _, body = await admin.api("GET", f"/api/v1/accounts/{admin.account_id}/users", token)
    assert "chief@other.test" not in {item["email"] for item in body["users"]}
    invitation = re.search(r'action="(/accounts/[^/]+/invitations/[^/]+/withdraw)"', html)
    assert invitation is not None
    _, html = await admin.post_and_follow(invitation.group(1), form_page=f"{admin.base}/users")
    assert "The invitation for chief@other.test is withdrawn." in html and "Invited, not joined yet" not in html


async def test_inviting_a_member_checks_the_input(admin: Portal) -> None:
    for data, message in (
        (
            {"email": "shortpassword@example.com", "role": "operator", "password": "short"},
            "A password has at least 8 characters.",
        ),
        ({"email": "x@example.com", "role": "owner", "password": "long-enough"}, "The role must be"),
        ({"email": "not-an-email", "role": "operator", "password": "long-enough"}, "That is not an email address."),
        ({"email": "", "role": "operator"}, "Enter the email address"),
    ):
        html = await admin.post_refused(f"{admin.base}/users", data)
        assert message in html and '<p class="error" role="alert" id="add-member-problem">' in html
        assert f'name="email" type="email" required autocomplete="off" value="{data["email"]}"' in html, (
            "the email typed stays"
        )
    assert "shortpassword@example.com" not in await admin.page(f"{admin.base}/users")


async def test_admin_removes_a_member_but_the_last_admin_stays(admin: Portal, client: Client, token: str) -> None:
    _, body = await admin.api("GET", f"/api/v1/accounts/{admin.account_id}/users", token)
    ids = {item["email"]: item["user_id"] for item in body["users"]}
    users = await admin.page(f"{admin.base}/users")
    dialog = f"{admin.base}/users/{ids['operator@example.com']}/remove"
    assert (
        f'href="{dialog}" data-dialog>' in users and "data-confirm=" not in users
    )  # a dialog, not the browser's confirm()
    assert "Remove operator@example.com?</h1>" in await admin.page(dialog)
    _, html = await admin.post_and_follow(dialog, form_page=dialog)
    assert "operator@example.com was removed from this account." in html
    assert "operator@example.com" not in html.split("<tbody>")[1].split("</tbody>")[0]
    html = await admin.post_refused(f"{admin.base}/users/{ids['admin@example.com']}/remove", status=409)
    assert "An account keeps at least one admin." in html and "Remove admin@example.com?</h1>" in html


async def test_operator_has_no_users_page_and_cannot_change_members(sign_in: SignIn) -> None:
    operator = await sign_in(*OPERATOR)
    html = await operator.page(f"{operator.base}/systems")
    assert f'href="{operator.base}/users"' not in html
    await operator.page(f"{operator.base}/users", status=403)
    response = await operator.post(
        f"{operator.base}/users", {"email": "friend@example.com", "role": "admin", "password": "long-enough"}
    )
    assert response.status == 403


async def test_history_lists_every_event_in_words_newest_first(
    admin: Portal, studio: Home, token: str, subs: dict[str, Any]
) -> None:
    system = f"{admin.base}/systems/{studio.system_id}"
    await admin.post_and_follow(
        f"{system}/assignments",
        {"subscription_id": subs["SO-2026-00042"]["id"], "credits": "1.5"},
        form_page=f"{system}/add",
    )
    _, body = await admin.api("GET", f"/api/v1/accounts/{admin.account_id}/systems/{studio.system_id}", token)
    revoke = f"{system}/assignments/{body['assignments'][0]['id']}/revoke"
    await admin.post_and_follow(revoke, {"confirm": "confirm"}, form_page=revoke)
    html = await admin.page(f"{admin.base}/history")
    returned, assigned, linked = (
        html.index("Credits returned"),
        html.index("Credits assigned"),
        html.index("System linked"),
    )
    created = html.index("Subscription created")
    assert returned < assigned < linked < created
    row = html[assigned:].split("</tr>")[0]
    assert "admin@example.com" in row and "1.5" in row and "Studio A" in row and "SO-2026-00042" in row
    assert "Revoked" in html[returned:].split("</tr>")[0]
    assert "Subscription cancelled" in html and "usable until" in html
