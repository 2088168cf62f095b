"""Audit fixes over a real cloud and real SQLite: revoke keys, the link's error handling, terms, seeding."""

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from cloud.app import create_app
from cloud.config import Config
from cloud.demo import seed_demo
from cloud.hub import LinkHub
from cloud.signer import Signer
from cloud.store import Database
from cloud.store.subscriptions import SubscriptionQueries
from cloud.subscriptions import Subscriptions
from cloud.transfers import Transfers
from shared import protocol
from shared.clock import VirtualClock
from shared.tokens import sign_link_auth
from tests.conftest import START
from tests.pages.portal_kit import Home
from tests.support import assert_error, assert_invariant, call, new_tenant, sign_in

DAY = 86400


async def test_pasting_a_revoke_key_does_not_count_as_contact_from_home(cloud: TestClient, clock: VirtualClock) -> None:
    tenant = await new_tenant(cloud)
    sub = await tenant.subscription(8)
    home = Home("OB Van 3")
    await tenant.link(home.registration_code)
    item = await tenant.assign(home.system_id, sub["id"], 2)
    await tenant.download(home.system_id)
    await tenant.revoke(home.system_id, item["id"])
    await tenant.download(home.system_id)
    await call(cloud, "POST", "/_emulator/clock", json={"advance_seconds": 3600})
    answer = await tenant.post(f"/systems/{home.system_id}/revoke-keys", {"revoke_key": home.revoke_key(2)})
    assert answer["credits_returned"] == 2
    system = (await tenant.get(f"/systems/{home.system_id}"))["system"]
    assert system["online"] is False and system["last_seen"] is None


async def test_the_same_revoke_key_again_is_harmless_while_another_revoke_waits(cloud: TestClient) -> None:
    tenant = await new_tenant(cloud)
    sub = await tenant.subscription(8)
    home = Home("OB Van 3")
    await tenant.link(home.registration_code)
    first = await tenant.assign(home.system_id, sub["id"], 1)
    second = await tenant.assign(home.system_id, sub["id"], 2)
    await tenant.download(home.system_id)
    outdated = home.revoke_key(1, (first["id"], second["id"]))
    await tenant.revoke(home.system_id, first["id"])
    await tenant.download(home.system_id)
    key = home.revoke_key(2, (second["id"],))
    assert await tenant.post(f"/systems/{home.system_id}/revoke-keys", {"revoke_key": key}) == {"returned": [first["id"]], "credits_returned": 1}
    await tenant.revoke(home.system_id, second["id"])
    entered = await revoke_key_events(tenant.get)

    assert await tenant.post(f"/systems/{home.system_id}/revoke-keys", {"revoke_key": key}) == {"returned": [], "credits_returned": 0}
    assert await revoke_key_events(tenant.get) == entered
    refused = await tenant.post(f"/systems/{home.system_id}/revoke-keys", {"revoke_key": outdated}, expect=409)
    assert_error(refused, "revoke_key_outdated")
    assert (await tenant.sub_state(sub["id"]))["credits_available"] == 6

    await tenant.download(home.system_id)
    done = await tenant.post(f"/systems/{home.system_id}/revoke-keys", {"revoke_key": home.revoke_key(3)})
    assert done == {"returned": [second["id"]], "credits_returned": 2}
    assert len(await revoke_key_events(tenant.get)) == len(entered) + 1
    await assert_invariant(cloud.app)


async def revoke_key_events(get: Any) -> list[dict[str, Any]]:
    return [event for event in (await get("/history"))["events"] if event["kind"] == "revoke_key_entered"]


async def open_link(cloud: TestClient, home: Home, seq: object = 0) -> tuple[aiohttp.ClientWebSocketResponse, dict[str, Any]]:
    """A HOME's side of the handshake, by hand; answers the socket and the cloud's reply to ``auth``."""
    socket = await cloud.session.ws_connect(cloud.make_url("/api/v1/link"))
    challenge = await socket.receive_json(timeout=5)
    token = sign_link_auth(home.key, home.system_id, challenge["nonce"], datetime.now(UTC))
    await socket.send_str(protocol.encode(protocol.AUTH, system_id=home.system_id, token=token, seq=seq, receipt=None))
    return socket, await socket.receive_json(timeout=5)


async def test_home_refusing_a_pushed_snapshot_releases_the_revoke_at_once(cloud: TestClient) -> None:
    tenant = await new_tenant(cloud)
    sub = await tenant.subscription(8)
    home = Home("Studio A")
    await tenant.link(home.registration_code)
    socket, welcome = await open_link(cloud, home)
    assert welcome["type"] == protocol.WELCOME
    replies: list[dict[str, Any]] = []

    async def refuse_every_snapshot() -> None:
        async for raw in socket:
            message = protocol.decode(raw.data)
            if message.type == protocol.SNAPSHOT:
                await socket.send_str(protocol.error("stale", "This credits file is older than the one HOME has.", message.id))
            else:
                replies.append(message.body)

    answering = asyncio.create_task(refuse_every_snapshot())
    try:
        item = await tenant.assign(home.system_id, sub["id"], 2)
        loop = asyncio.get_running_loop()
        started = loop.time()
        answer = await tenant.revoke(home.system_id, item["id"])
        assert loop.time() - started < 2.0  # the cloud waits up to 5 s for a receipt that will not come
        assert answer["assignment"]["state"] == "revoke_pending"
        await asyncio.sleep(0.1)
        assert replies == []  # HOME's error is taken, not answered with another error
    finally:
        await socket.close()
        answering.cancel()
        await asyncio.gather(answering, return_exceptions=True)
    await assert_invariant(cloud.app)


@pytest.mark.parametrize("seq", [2**63, 2**53, -1, "7", None])
async def test_an_impossible_seq_from_home_gets_an_error_reply_not_a_crash(cloud: TestClient, seq: object) -> None:
    tenant = await new_tenant(cloud)
    home = Home("Studio A")
    await tenant.link(home.registration_code)
    socket, reply = await open_link(cloud, home, seq)
    assert reply["type"] == protocol.ERROR and reply["code"] == "invalid_message" and "seq" in reply["message"]
    assert (await socket.receive(timeout=5)).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    await socket.close()
    assert (await tenant.get(f"/systems/{home.system_id}"))["system"]["seq"] == 0
    socket, welcome = await open_link(cloud, home, 0)
    assert welcome["type"] == protocol.WELCOME
    await socket.close()


async def test_emulator_account_with_a_bad_admin_is_refused_and_leaves_nothing(cloud: TestClient, cloud_config: Config) -> None:
    cases = [
        ({"email": "not-an-email", "password": "long enough"}, "invalid_email"),
        ({"email": "admin@acme.test", "password": "short"}, "invalid_password"),
        ({"email": "admin@acme.test"}, "invalid_password"),
        ({"email": "admin@acme.test", "password": 12345678}, "wrong_type"),
    ]
    for admin, code in cases:
        refused = await call(cloud, "POST", "/_emulator/accounts", json={"name": "Acme", "admin": admin}, expect=400)
        assert_error(refused, code)
        assert account_names(cloud_config) == []
    await call(cloud, "POST", "/_emulator/accounts", json={"name": "Acme", "admin": {"email": "admin@acme.test", "password": "long enough"}}, expect=201)
    assert account_names(cloud_config) == ["Acme"]


def account_names(config: Config) -> list[str]:
    with sqlite3.connect(f"file:{config.data_dir / 'cloud.sqlite3'}?mode=ro", uri=True) as conn:
        return [row[0] for row in conn.execute("SELECT name FROM accounts ORDER BY name")]


async def test_monthly_terms_from_january_31_end_on_each_month_end_without_drifting(cloud: TestClient) -> None:
    await call(cloud, "POST", "/_emulator/clock", json={"now": "2027-01-31T10:00:00Z"})
    tenant = await new_tenant(cloud)
    sub = await tenant.subscription(4, duration="monthly")
    assert sub["term_end"] == "2027-02-28T10:00:00Z"
    for now, start, end in [
        ("2027-03-01T00:00:00Z", "2027-02-28T10:00:00Z", "2027-03-31T10:00:00Z"),
        ("2027-04-01T00:00:00Z", "2027-03-31T10:00:00Z", "2027-04-30T10:00:00Z"),
        ("2027-05-01T00:00:00Z", "2027-04-30T10:00:00Z", "2027-05-31T10:00:00Z"),
    ]:
        await call(cloud, "POST", "/_emulator/clock", json={"now": now})
        state = await tenant.sub_state(sub["id"])
        assert (state["state"], state["term_start"], state["term_end"]) == ("active", start, end)


async def test_a_demo_seed_that_fails_part_way_is_seeded_whole_on_the_next_start(
    aiohttp_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "cloud"
    clock = VirtualClock(start=START)
    db = Database(data / "cloud.sqlite3")
    await db.open()
    subscriptions = Subscriptions(db, Transfers(db, Signer.load(data), LinkHub(), clock, 1.0), clock)
    real = SubscriptionQueries.set_state

    async def crash_on_cancel(self: SubscriptionQueries, sub_id: str, state: str, *args: Any) -> None:
        if state == "cancelled":
            raise RuntimeError("the process died here")
        await real(self, sub_id, state, *args)

    monkeypatch.setattr(SubscriptionQueries, "set_state", crash_on_cancel)
    with pytest.raises(RuntimeError):
        await seed_demo(db, subscriptions, clock)
    monkeypatch.undo()
    await db.close()

    client = await aiohttp_client(create_app(Config(data_dir=data, emulator_api=True, virtual_clock=True, demo=True), clock))
    token = await sign_in(client, "admin@example.com", "flex-admin")
    [account] = (await call(client, "GET", "/api/v1/accounts", token=token))["accounts"]
    subs = (await call(client, "GET", f"/api/v1/accounts/{account['id']}/subscriptions", token=token))["subscriptions"]
    assert {item["order_id"]: item["state"] for item in subs} == {
        "SO-2026-00042": "active", "SO-2026-00043": "active", "SO-2026-00044": "cancelled", "SO-2026-00045": "inactive",
    }  # fmt: skip
