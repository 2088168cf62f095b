"""Strange input on purpose: every class of bad request to the cloud is a clear 4xx that changes nothing."""

import asyncio
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from flex_emulator.cloud.appkeys import HUB
from flex_emulator.shared import protocol
from flex_emulator.shared.tokens import sign_link_auth
from tests.kit.api import assert_error, assert_invariant, call, new_tenant
from tests.kit.portal import Home

JSON = {"Content-Type": "application/json"}
DEEP = b"[" * 100_000 + b"]" * 100_000
SURROGATE = '"\\ud800"'


async def open_link(cloud: TestClient, home: Home) -> tuple[aiohttp.ClientWebSocketResponse, dict[str, Any]]:
    """A HOME's side of the handshake, by hand; the socket and the cloud's reply to ``auth``."""
    socket = await cloud.session.ws_connect(cloud.make_url("/api/v1/link"))
    challenge = await socket.receive_json(timeout=5)
    token = sign_link_auth(home.key, home.system_id, challenge["nonce"], datetime.now(UTC))
    await socket.send_str(protocol.encode(protocol.AUTH, system_id=home.system_id, token=token, seq=0, receipt=None))
    return socket, await socket.receive_json(timeout=5)


async def post_raw(
    client: TestClient, path: str, data: bytes, *, token: str | None = None, headers: dict[str, str] = JSON
) -> tuple[int, Any]:
    headers = headers | ({"Authorization": f"Bearer {token}"} if token else {})
    response = await client.post(path, data=data, headers=headers)
    body = await response.json() if response.content_type == "application/json" else await response.text()
    return response.status, body


async def test_deeply_nested_json_is_a_400_on_every_json_route(cloud: TestClient) -> None:
    tenant = await new_tenant(cloud)
    system, _ = await tenant.link_new_system()
    for path, token in (
        ("/api/v1/auth/token", None),
        (tenant.path(f"/systems/{system['id']}/assignments"), tenant.token),
        (tenant.path("/systems"), tenant.token),
        ("/_emulator/accounts", None),
        ("/_emulator/clock", None),
    ):
        for body in (DEEP, b'{"a": ' * 50 + b"1" + b"}" * 50):
            status, answer = await post_raw(cloud, path, body, token=token)
            assert status == 400, (path, answer)
            assert_error(answer, "bad_json")


async def test_lone_surrogates_are_refused_wherever_text_goes(cloud: TestClient) -> None:
    tenant = await new_tenant(cloud)
    sub = await tenant.subscription(4)
    system, _ = await tenant.link_new_system()
    cases = [
        ("/api/v1/auth/token", None, '{"email": %s, "password": "x"}'),
        ("/api/v1/auth/token", None, '{"email": "a@b.c", "password": %s}'),
        (tenant.path("/systems"), tenant.token, '{"registration_code": %s}'),
        (tenant.path("/systems"), tenant.token, '{"registration_code": "x", "label": %s}'),
        (tenant.path(f"/systems/{system['id']}/assignments"), tenant.token, '{"subscription_id": %s, "credits": 1}'),
        (tenant.path(f"/systems/{system['id']}/assignments"), tenant.token, '{"subscription_id": "s", "credits": %s}'),
        (tenant.path(f"/systems/{system['id']}/revoke-keys"), tenant.token, '{"revoke_key": %s}'),
        (tenant.path("/users"), tenant.token, '{"email": %s, "role": "operator", "password": "long enough"}'),
        ("/_emulator/accounts", None, '{"name": %s, "admin": {"email": "x@y.z", "password": "long enough"}}'),
        ("/_emulator/accounts", None, '{"name": "n", "admin": {%s: 1, "email": "x@y.z", "password": "long enough"}}'),
        (
            f"/_emulator/accounts/{tenant.account_id}/subscriptions",
            None,
            '{"duration": "monthly", "credits": 1, "order_id": %s}',
        ),
    ]
    for path, token, template in cases:
        status, answer = await post_raw(cloud, path, (template % SURROGATE).encode(), token=token)
        assert status == 400, (path, template, answer)
        assert_error(answer, "bad_json")
    assert (await tenant.sub_state(sub["id"]))["credits_available"] == 4
    await assert_invariant(cloud.server.app)


async def test_huge_exponents_in_credit_amounts_are_refused(cloud: TestClient) -> None:
    tenant = await new_tenant(cloud)
    sub = await tenant.subscription(4)
    system, _ = await tenant.link_new_system()
    for credits in ("1e1000000", "1e-1000000", "-1e1000000", "1E999999999999999999"):
        assert_error(await tenant.assign(system["id"], sub["id"], credits, expect=400), "invalid_credits")
        body = {"duration": "monthly", "credits": credits}
        answer = await call(
            cloud, "POST", f"/_emulator/accounts/{tenant.account_id}/subscriptions", json=body, expect=400
        )
        assert_error(answer, "invalid_credits")
    status, answer = await post_raw(
        cloud,
        tenant.path(f"/systems/{system['id']}/assignments"),
        b'{"subscription_id": "%s", "credits": 1e1000000}' % sub["id"].encode(),
        token=tenant.token,
    )
    assert status == 400 and answer["error"]["code"] == "invalid_credits"
    assert (await tenant.sub_state(sub["id"]))["credits_available"] == 4
    await assert_invariant(cloud.server.app)


async def test_times_that_overflow_in_utc_are_refused(cloud: TestClient) -> None:
    tenant = await new_tenant(cloud)
    sub = await tenant.subscription(4)
    system, _ = await tenant.link_new_system()
    before = await call(cloud, "GET", "/_emulator/clock")
    for moment in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00Z"):
        answer = await tenant.assign(system["id"], sub["id"], 1, expect=400, auto_revoke_at=moment)
        assert_error(answer, "invalid_auto_revoke_at")
        answer = await call(cloud, "POST", "/_emulator/clock", json={"now": moment}, expect=400)
        assert answer["error"]["code"] in ("wrong_type", "out_of_range", "clock_backwards"), answer
    assert await call(cloud, "GET", "/_emulator/clock") == before
    assert (await tenant.sub_state(sub["id"]))["credits_available"] == 4


async def test_non_ascii_digits_are_not_numbers(cloud: TestClient) -> None:
    tenant = await new_tenant(cloud)
    sub = await tenant.subscription(4)
    system, _ = await tenant.link_new_system()
    for credits in ("１", "٣", "²", "1.２5"):
        assert_error(await tenant.assign(system["id"], sub["id"], credits, expect=400), "invalid_credits")
    for number in ("²", "１０", "٣"):
        assert_error(await tenant.get(f"/history?limit={number}", expect=400), "wrong_type")
        assert_error(await tenant.get(f"/history?before={number}", expect=400), "wrong_type")
    assert (await tenant.sub_state(sub["id"]))["credits_available"] == 4
    for query, code in (("limit=²", "invalid_limit"), ("limit=１０", "invalid_limit"), ("after=٣", "invalid_cursor")):
        assert_error(await call(cloud, "GET", f"/_emulator/events?{query}", expect=400), code)


async def test_cloud_json_routes_require_a_json_content_type(cloud: TestClient) -> None:
    tenant = await new_tenant(cloud)
    body = b'{"email": "admin@acme.test", "password": "correct horse"}'
    for content_type in (
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/octet-stream",
    ):
        status, answer = await post_raw(cloud, "/api/v1/auth/token", body, headers={"Content-Type": content_type})
        assert status == 415, (content_type, answer)
        assert_error(answer, "unsupported_media_type")
    for content_type in ("application/json", "application/json; charset=utf-8", "application/merge-patch+json"):
        status, answer = await post_raw(cloud, "/api/v1/auth/token", body, headers={"Content-Type": content_type})
        assert status == 200, (content_type, answer)
    # a POST without a body needs no Content-Type
    status, _ = await post_raw(cloud, tenant.path("/systems/none/credits-file"), b"", token=tenant.token, headers={})
    assert status == 404


async def test_unsupported_request_encodings_are_refused_before_the_body_is_read(cloud: TestClient) -> None:
    for encoding in ("compress", "x-unknown", "gzip, gzip", "identity;q=0"):
        status, answer = await post_raw(
            cloud, "/api/v1/auth/token", b"{}", headers=JSON | {"Content-Encoding": encoding}
        )
        assert status == 415, (encoding, answer)
        assert_error(answer, "unsupported_encoding")
    status, answer = await post_raw(
        cloud, "/api/v1/auth/token", b"not deflate", headers=JSON | {"Content-Encoding": "deflate"}
    )
    assert status == 400
    assert_error(answer, "bad_body")


async def test_the_link_survives_hostile_messages_before_and_after_auth(cloud: TestClient) -> None:
    tenant = await new_tenant(cloud)
    home = Home("Studio A")
    await tenant.link(home.registration_code)
    # before auth: the cloud refuses and closes, it does not crash
    for first in (DEEP.decode(), '{"id": 1, "type": "auth", "system_id": ' + SURROGATE + ', "token": "t", "seq": 0}'):
        socket = await cloud.session.ws_connect(cloud.make_url("/api/v1/link"))
        await socket.receive_json(timeout=5)
        await socket.send_str(first)
        reply = await socket.receive_json(timeout=5)
        assert reply["type"] == "error" and reply["code"] == "bad_json", reply
        assert (await socket.receive(timeout=5)).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        await socket.close()
    # after auth: an error reply, and the link stays up
    socket, welcome = await open_link(cloud, home)
    assert welcome["type"] == protocol.WELCOME
    for bad in (
        DEEP.decode(),
        '{"id": 2, "type": "receipt", "token": ' + SURROGATE + "}",
        '{"id": 3, "type": ' + SURROGATE + "}",
    ):
        await socket.send_str(bad)
        reply = await receive_non_snapshot(socket)
        assert reply["type"] == "error" and reply["code"] == "bad_json", reply
    await socket.send_str(protocol.encode("no_such_type"))
    reply = await receive_non_snapshot(socket)
    assert reply["type"] == "error" and reply["code"] == "unknown_type", reply
    assert cloud.server.app[HUB].is_online(home.system_id)
    await socket.close()
    assert (await call(cloud, "GET", "/healthz")) == {"status": "ok"}


async def receive_non_snapshot(socket: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = await asyncio.wait_for(socket.receive_json(), 5)
        if message["type"] != protocol.SNAPSHOT:
            return message
