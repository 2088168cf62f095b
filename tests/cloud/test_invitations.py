"""Joining an account needs the user's consent, and inviting says nothing about who is registered."""

from typing import Any

from aiohttp.test_utils import TestClient

from tests.kit.api import Tenant, assert_error, call, cloud_api, new_tenant, sign_in


async def member_emails(tenant: Tenant) -> set[str]:
    return {item["email"] for item in (await tenant.get("/users"))["users"]}


async def account_ids(client: TestClient, token: str) -> set[str]:
    return {item["id"] for item in (await call(client, "GET", "/api/v1/accounts", token=token))["accounts"]}


async def invite(tenant: Tenant, email: str, **extra: Any) -> dict[str, Any]:
    answer = await tenant.post("/users", {"email": email, "role": "operator", **extra}, expect=202)
    invitation: dict[str, Any] = answer["invitation"]
    return invitation


async def test_a_registered_user_of_another_account_joins_only_by_accepting(cloud: TestClient) -> None:
    acme = await new_tenant(cloud)
    rival = await new_tenant(cloud, "Rival Media", "boss@rival.test", "rival password")
    invitation = await invite(acme, "boss@rival.test")
    assert (
        invitation["account"] == {"id": acme.account_id, "name": "Acme Broadcast"} and invitation["role"] == "operator"
    )
    assert "boss@rival.test" not in await member_emails(acme)
    assert await account_ids(cloud, rival.token) == {rival.account_id}
    mine = (await call(cloud, "GET", "/api/v1/invitations", token=rival.token))["invitations"]
    assert [item["id"] for item in mine] == [invitation["id"]]
    # nobody else can answer it: not the inviting admin, not a stranger
    assert_error(
        await call(cloud, "POST", f"/api/v1/invitations/{invitation['id']}/accept", token=acme.token, expect=404),
        "not_found",
    )
    joined = await call(cloud, "POST", f"/api/v1/invitations/{invitation['id']}/accept", token=rival.token)
    assert joined == {"account": {"id": acme.account_id, "name": "Acme Broadcast", "role": "operator"}}
    assert await account_ids(cloud, rival.token) == {rival.account_id, acme.account_id}
    assert "boss@rival.test" in await member_emails(acme)
    assert (await call(cloud, "GET", "/api/v1/invitations", token=rival.token))["invitations"] == []
    assert_error(
        await call(cloud, "POST", f"/api/v1/invitations/{invitation['id']}/accept", token=rival.token, expect=404),
        "not_found",
    )


async def test_the_answer_is_the_same_whether_or_not_the_email_is_registered(cloud: TestClient) -> None:
    acme = await new_tenant(cloud)
    await new_tenant(cloud, "Rival Media", "boss@rival.test", "rival password")
    shapes = []
    for email, extra in (
        ("boss@rival.test", {}),
        ("nobody@nowhere.test", {}),
        ("boss@rival.test", {"password": "a new password"}),
        ("someone@new.test", {"password": "a new password"}),
    ):
        response = await acme.client.post(
            acme.path("/users"),
            json={"email": email, "role": "admin", **extra},
            headers={"Authorization": f"Bearer {acme.token}"},
        )
        body = await response.json()
        shapes.append((response.status, sorted(body), sorted(body["invitation"]), body["invitation"]["role"]))
    assert len(set(map(str, shapes))) == 1, shapes
    # a refused invitation is refused before the email is looked up
    for email in ("boss@rival.test", "nobody@nowhere.test"):
        assert_error(await acme.post("/users", {"email": email, "role": "owner"}, expect=400), "invalid_role")
        assert_error(
            await acme.post("/users", {"email": email, "role": "operator", "password": "short"}, expect=400),
            "invalid_password",
        )
    # the password given for a registered email changed nothing: the old one still signs in
    assert await sign_in(cloud, "boss@rival.test", "rival password")


async def test_a_new_colleague_signs_in_with_the_password_given_and_accepts(cloud: TestClient) -> None:
    acme = await new_tenant(cloud)
    invitation = await invite(acme, "New@Acme.test", password="welcome aboard")
    assert invitation["email"] == "new@acme.test"
    token = await sign_in(cloud, "new@acme.test", "welcome aboard")
    assert await account_ids(cloud, token) == set()
    await call(cloud, "POST", f"/api/v1/invitations/{invitation['id']}/accept", token=token)
    assert await account_ids(cloud, token) == {acme.account_id}
    assert_error(await acme.post("/users", {"email": "new@acme.test", "role": "admin"}, expect=409), "already_member")


async def test_declined_and_withdrawn_invitations_change_nothing(cloud: TestClient) -> None:
    acme = await new_tenant(cloud)
    rival = await new_tenant(cloud, "Rival Media", "boss@rival.test", "rival password")
    first = await invite(acme, "boss@rival.test")
    again = await invite(acme, "boss@rival.test", role="admin")
    assert (
        again["id"] == first["id"] and again["role"] == "admin"
    )  # one open invitation per email; the role follows the latest
    assert [item["email"] for item in (await acme.get("/invitations"))["invitations"]] == ["boss@rival.test"]
    assert await call(cloud, "POST", f"/api/v1/invitations/{first['id']}/decline", token=rival.token) == {
        "declined": first["id"]
    }
    assert await account_ids(cloud, rival.token) == {rival.account_id}
    assert (await acme.get("/invitations"))["invitations"] == []
    second = await invite(acme, "boss@rival.test")
    assert await call(cloud, "DELETE", acme.path(f"/invitations/{second['id']}"), token=acme.token) == {
        "withdrawn": second["id"]
    }
    assert_error(
        await call(cloud, "POST", f"/api/v1/invitations/{second['id']}/accept", token=rival.token, expect=404),
        "not_found",
    )
    assert_error(
        await call(cloud, "DELETE", rival.path(f"/invitations/{second['id']}"), token=rival.token, expect=404),
        "not_found",
    )
    assert await account_ids(cloud, rival.token) == {rival.account_id}
    # an operator invites nobody
    await call(
        cloud,
        "POST",
        f"/_emulator/accounts/{acme.account_id}/users",
        json={"email": "op@acme.test", "password": "operator pw", "role": "operator"},
        expect=201,
    )
    operator = await sign_in(cloud, "op@acme.test", "operator pw")
    assert_error(
        await call(
            cloud,
            "POST",
            acme.path("/invitations"),
            token=operator,
            json={"email": "x@y.z", "role": "admin"},
            expect=403,
        ),
        "forbidden",
    )


async def test_a_password_one_account_chose_never_reaches_another_accounts_invitations(cloud: TestClient) -> None:
    acme = await new_tenant(cloud)
    rival = await new_tenant(cloud, "Rival Media", "boss@rival.test", "rival password")
    from_rival = await tenant_invite(rival, "new@both.test", role="admin")
    # Acme's admin invites the same email with a password Acme chose: that login reaches Acme only
    from_acme = await invite(acme, "new@both.test", password="chosen by acme")
    acme_side = await sign_in(cloud, "new@both.test", "chosen by acme")
    listed = (await call(cloud, "GET", "/api/v1/invitations", token=acme_side))["invitations"]
    assert [item["id"] for item in listed] == [from_acme["id"]]
    for action in ("accept", "decline"):
        assert_error(
            await call(cloud, "POST", f"/api/v1/invitations/{from_rival['id']}/{action}", token=acme_side, expect=404),
            "not_found",
        )
    # Rival's later invitation with a password of its own is not ignored: that password reaches Rival only
    await tenant_invite(rival, "new@both.test", role="admin", password="chosen by rival")
    rival_side = await sign_in(cloud, "new@both.test", "chosen by rival")
    listed = (await call(cloud, "GET", "/api/v1/invitations", token=rival_side))["invitations"]
    assert [item["id"] for item in listed] == [from_rival["id"]]
    await call(cloud, "POST", f"/api/v1/invitations/{from_rival['id']}/accept", token=rival_side)
    await call(cloud, "POST", f"/api/v1/invitations/{from_acme['id']}/accept", token=acme_side)
    assert await account_ids(cloud, rival_side) == {rival.account_id}
    assert await account_ids(cloud, acme_side) == {acme.account_id}
    # signed in with Acme's password, nothing of Rival's is there, though the login is now an admin of both
    acme_session = (await cloud_api(cloud).sign_in("new@both.test", "chosen by acme"))["accounts"]
    assert [item["id"] for item in acme_session] == [acme.account_id]
    subscription = await rival.subscription(4)
    system, _ = await rival.link_new_system()
    for method, rest, body in (
        ("GET", "/subscriptions", None),
        ("POST", f"/systems/{system['id']}/assignments", {"subscription_id": subscription["id"], "credits": 1}),
    ):
        assert_error(await call(cloud, method, rival.path(rest), token=acme_side, json=body, expect=404), "not_found")
    assert (await rival.sub_state(subscription["id"]))["credits_available"] == 4
    assert {item["email"] for item in (await rival.get("/users"))["users"]} == {"boss@rival.test", "new@both.test"}


async def test_a_password_given_for_a_user_with_their_own_is_ignored_and_signs_in_nowhere(cloud: TestClient) -> None:
    acme = await new_tenant(cloud)
    await new_tenant(cloud, "Rival Media", "boss@rival.test", "rival password")
    invitation = await invite(acme, "boss@rival.test", password="chosen by acme")
    assert_error(
        await call(
            cloud,
            "POST",
            "/api/v1/auth/token",
            json={"email": "boss@rival.test", "password": "chosen by acme"},
            expect=401,
        ),
        "bad_credentials",
    )
    rival_token = await sign_in(cloud, "boss@rival.test", "rival password")
    listed = (await call(cloud, "GET", "/api/v1/invitations", token=rival_token))["invitations"]
    assert [item["id"] for item in listed] == [invitation["id"]]


async def tenant_invite(tenant: Tenant, email: str, role: str, **extra: Any) -> dict[str, Any]:
    answer = await tenant.post("/invitations", {"email": email, "role": role, **extra}, expect=202)
    invitation: dict[str, Any] = answer["invitation"]
    return invitation
