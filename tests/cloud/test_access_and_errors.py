"""Sign-in, roles and account scoping, and the one error shape on every error path."""

from aiohttp.test_utils import TestClient

from tests.kit import TENANT_ADMIN
from tests.kit.api import assert_error, assert_invariant, call, new_tenant, sign_in
from tests.kit.cross_site import EMPTY_FORM_TYPES, assert_foreign_origins_refused


async def test_sign_in_returns_a_token_and_the_accounts(cloud: TestClient) -> None:
    tenant = await new_tenant(cloud)
    answer = await call(
        cloud, "POST", "/api/v1/auth/token", json={"email": TENANT_ADMIN[0].upper(), "password": TENANT_ADMIN[1]}
    )
    assert answer["accounts"] == [{"id": tenant.account_id, "name": "Acme Broadcast", "role": "admin"}]
    listed = await call(cloud, "GET", "/api/v1/accounts", token=answer["token"])
    assert listed["accounts"][0]["id"] == tenant.account_id


async def test_wrong_password_is_401(cloud: TestClient) -> None:
    await new_tenant(cloud)
    body = await call(
        cloud, "POST", "/api/v1/auth/token", json={"email": TENANT_ADMIN[0], "password": "nope"}, expect=401
    )
    assert_error(body, "bad_credentials")


async def test_signed_out_token_stops_working(cloud: TestClient) -> None:
    tenant = await new_tenant(cloud)
    await call(cloud, "POST", "/api/v1/auth/logout", token=tenant.token)
    assert_error(await tenant.get("/subscriptions", expect=401), "invalid_token")


async def test_error_shape_on_every_error_path(cloud: TestClient) -> None:
    tenant = await new_tenant(cloud)
    sub = await tenant.subscription(4)
    system, _ = await tenant.link_new_system()
    base = f"/api/v1/accounts/{tenant.account_id}"
    cases = [
        ("GET", "/no/such/route", None, None, 404, "not_found"),
        ("DELETE", "/api/v1/auth/token", None, None, 405, "method_not_allowed"),
        ("POST", "/api/v1/auth/token", None, b"{not json", 400, "bad_json"),
        ("POST", "/api/v1/auth/token", None, b"[1, 2]", 400, "bad_json"),
        ("POST", "/api/v1/auth/token", None, b'{"email": "a@b.c"}', 400, "missing_field"),
        ("POST", "/api/v1/auth/token", None, b'{"email": 5, "password": "x"}', 400, "wrong_type"),
        ("GET", f"{base}/subscriptions", None, None, 401, "unauthorized"),
        ("GET", f"{base}/subscriptions", "not-a-token", None, 401, "invalid_token"),
        ("GET", "/api/v1/accounts/acc_nope/subscriptions", tenant.token, None, 404, "not_found"),
        ("GET", f"{base}/systems/home-nope", tenant.token, None, 404, "not_found"),
        (
            "POST",
            f"{base}/systems/{system['id']}/assignments",
            tenant.token,
            b'{"subscription_id": "sub_nope", "credits": 1}',
            404,
            "not_found",
        ),
        (
            "POST",
            f"{base}/systems/{system['id']}/assignments",
            tenant.token,
            f'{{"subscription_id": "{sub["id"]}", "credits": "lots"}}'.encode(),
            400,
            "invalid_credits",
        ),
        (
            "POST",
            f"{base}/systems/{system['id']}/assignments",
            tenant.token,
            f'{{"subscription_id": "{sub["id"]}", "credits": 0.3}}'.encode(),
            400,
            "invalid_credits",
        ),
        (
            "POST",
            f"{base}/systems/{system['id']}/assignments",
            tenant.token,
            f'{{"subscription_id": "{sub["id"]}"}}'.encode(),
            400,
            "missing_field",
        ),
        (
            "POST",
            f"{base}/systems/{system['id']}/assignments",
            tenant.token,
            f'{{"subscription_id": "{sub["id"]}", "credits": 1, "auto_revoke_at": "soon"}}'.encode(),
            400,
            "invalid_auto_revoke_at",
        ),
        (
            "POST",
            f"{base}/systems/{system['id']}/assignments/asg_nope/revoke",
            tenant.token,
            b'{"confirm": "confirm"}',
            404,
            "not_found",
        ),
        ("POST", f"{base}/subscriptions/sub_nope/activate", tenant.token, None, 404, "not_found"),
        ("POST", f"{base}/systems", tenant.token, b'{"registration_code": "garbage"}', 400, "malformed"),
        ("GET", f"{base}/history?limit=many", tenant.token, None, 400, "wrong_type"),
    ]
    for method, path, token, data, status, code in cases:
        headers = ({"Authorization": f"Bearer {token}"} if token else {}) | (
            {"Content-Type": "application/json"} if data else {}
        )
        response = await cloud.request(method, path, data=data, headers=headers)
        assert response.status == status, (method, path, await response.text())
        assert_error(await response.json(), code)


async def test_operator_may_assign_but_not_administer(cloud: TestClient) -> None:
    tenant = await new_tenant(cloud)
    await call(
        cloud,
        "POST",
        f"/_emulator/accounts/{tenant.account_id}/users",
        json={"email": "op@acme.test", "password": "operator pw", "role": "operator"},
        expect=201,
    )
    operator = await sign_in(cloud, "op@acme.test", "operator pw")
    inactive = await tenant.subscription(4, state="inactive")
    active = await tenant.subscription(4)
    system, _ = await tenant.link_new_system()
    assert_error(
        await tenant.post(f"/subscriptions/{inactive['id']}/activate", token=operator, expect=403), "forbidden"
    )
    assert_error(await tenant.post(f"/subscriptions/{active['id']}/cancel", token=operator, expect=403), "forbidden")
    assert_error(await tenant.post("/systems", {"registration_code": "x"}, token=operator, expect=403), "forbidden")
    assert_error(
        await tenant.get("/users", expect=200)
        and await call(cloud, "GET", tenant.path("/users"), token=operator, expect=403),
        "forbidden",
    )
    made = await tenant.post(
        f"/systems/{system['id']}/assignments",
        {"subscription_id": active["id"], "credits": 1},
        token=operator,
        expect=201,
    )
    assert made["assignment"]["credits"] == 1
    revoked = await tenant.post(
        f"/systems/{system['id']}/assignments/{made['assignment']['id']}/revoke", {"confirm": "confirm"}, token=operator
    )
    assert revoked["assignment"]["state"] == "ended"


async def test_outsiders_see_nothing_of_another_account(cloud: TestClient) -> None:
    acme = await new_tenant(cloud)
    rival = await new_tenant(cloud, "Rival", "boss@rival.test", "rival password")
    sub = await acme.subscription(8)
    system, _ = await acme.link_new_system()
    item = await acme.assign(system["id"], sub["id"], 1)
    for rest in ("/subscriptions", f"/systems/{system['id']}", "/history", "/systems"):
        assert_error(await call(cloud, "GET", acme.path(rest), token=rival.token, expect=404), "not_found")
    # The rival's own account does not reach acme's resources either.
    assert_error(await rival.get(f"/systems/{system['id']}", expect=404), "not_found")
    assert_error(await rival.revoke(system["id"], item["id"], expect=404), "not_found")
    assert_error(await rival.assign(system["id"], sub["id"], 1, expect=404), "not_found")


async def test_an_account_cannot_send_its_own_credits_to_another_accounts_system(cloud: TestClient) -> None:
    acme = await new_tenant(cloud)
    rival = await new_tenant(cloud, "Rival", "boss@rival.test", "rival password")
    acme_system, _ = await acme.link_new_system("Acme van")
    rival_system, _ = await rival.link_new_system("Rival van")
    rival_sub = await rival.subscription(8)
    await rival.assign(rival_system["id"], rival_sub["id"], 1)  # the subscription itself is usable
    # Everything in the request is the rival's own (its account, its subscription) except the system.
    assert_error(await rival.assign(acme_system["id"], rival_sub["id"], 2, expect=404), "not_found")
    assert (await rival.sub_state(rival_sub["id"]))["credits_available"] == 7
    assert (await acme.get(f"/systems/{acme_system['id']}"))["assignments"] == []
    await assert_invariant(cloud.app)


async def test_a_system_links_to_one_account_only(cloud: TestClient) -> None:
    acme = await new_tenant(cloud)
    rival = await new_tenant(cloud, "Rival", "boss@rival.test", "rival password")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from flex_emulator.shared.tokens import sign_registration

    code = sign_registration(Ed25519PrivateKey.generate(), "Studio A")
    system = await acme.link(code)
    assert system["label"] == "Studio A" and system["online"] is False and system["last_seen"] is None
    assert_error(await rival.post("/systems", {"registration_code": code}, expect=409), "already_linked")
    assert_error(await acme.post("/systems", {"registration_code": code}, expect=409), "already_linked")


async def test_users_admin_adds_and_removes_members_but_keeps_one_admin(cloud: TestClient) -> None:
    tenant = await new_tenant(cloud)
    body = {"email": "new@acme.test", "password": "long enough", "role": "operator"}
    invitation = (await tenant.post("/users", body, expect=202))["invitation"]
    newcomer_token = await sign_in(cloud, "new@acme.test", "long enough")
    await call(cloud, "POST", f"/api/v1/invitations/{invitation['id']}/accept", token=newcomer_token)
    users = await tenant.get("/users")
    newcomer = next(user for user in users["users"] if user["email"] == "new@acme.test")
    assert newcomer["role"] == "operator"
    admin = next(user for user in users["users"] if user["role"] == "admin")
    assert_error(
        await call(cloud, "DELETE", tenant.path(f"/users/{admin['user_id']}"), token=tenant.token, expect=409),
        "last_admin",
    )
    await call(cloud, "DELETE", tenant.path(f"/users/{newcomer['user_id']}"), token=tenant.token)
    assert_error(await tenant.post("/users", {"email": "x@acme.test", "role": "owner"}, expect=400), "invalid_role")


async def test_every_json_answer_ends_with_a_newline(cloud: TestClient) -> None:
    """So curl outputs in a row stay on lines of their own (the README's examples)."""
    for path, status in (("/healthz", 200), ("/api/v1/accounts", 401), ("/api/v1/nowhere", 404)):
        response = await cloud.get(path)
        body = await response.read()
        assert response.status == status and response.content_type == "application/json"
        assert body.endswith(b"}\n") and body.count(b"\n") == 1, body


async def test_no_emulator_route_answers_another_sites_page(cloud: TestClient) -> None:
    """A page elsewhere cannot reset, move time, read the state or make accounts: foreign and null Origins are 403,
    and a body-less form (what an old browser sends without Origin) is not taken for an empty JSON body."""
    tenant = await new_tenant(cloud)
    assert await assert_foreign_origins_refused(cloud) >= 14
    for content_type in EMPTY_FORM_TYPES:
        response = await cloud.post("/_emulator/reset", data=b"", headers={"Content-Type": content_type})
        assert response.status == 415, content_type
        assert_error(await response.json(), "unsupported_media_type")
    assert (await tenant.get("/subscriptions"))["subscriptions"] == []  # the account (and its session) is still there
    # scripts (no Origin, or JSON), and a page of the cloud's own origin, still do
    own = str(cloud.make_url("")).rstrip("/")
    assert (await cloud.get("/_emulator/clock", headers={"Origin": own})).status == 200
    assert (await cloud.post("/_emulator/reset", headers={"Origin": own})).status == 200
    assert (await cloud.post("/_emulator/reset", data=b"", headers={"Content-Type": "application/json"})).status == 200
    assert_error(await tenant.get("/subscriptions", expect=401), "invalid_token")
