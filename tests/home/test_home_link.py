"""The cloud link against a small in-test cloud that speaks the protocol of ``shared.protocol``."""

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from flex_emulator.home.appkeys import LINK, NODE
from flex_emulator.home.domain.identity import Identity, load_identity
from flex_emulator.home.link.cloud_link import CloudLink, backoff_delay, link_url
from flex_emulator.shared.tokens import verify_receipt
from tests.kit.home import (
    FakeCloud,
    HomeFactory,
    credits_view,
    entry,
    snapshot_token,
    upload,
    wait_until,
)


@pytest.fixture
def identity(data_dir: Path) -> Identity:
    """The HOME's key made before it starts, so the fake cloud can link it."""
    return load_identity(data_dir / "home_key.pem")


@pytest.fixture
def start_linked(
    start_home: HomeFactory, cloud_server: TestServer, fake_cloud: FakeCloud, identity: Identity
) -> Callable[..., Awaitable[TestClient]]:
    async def start(linked: bool = True, **overrides: Any) -> TestClient:
        if linked:
            fake_cloud.linked[identity.system_id] = identity.public_key
        settings: dict[str, Any] = {"cloud_url": str(cloud_server.make_url("")), "offline": False} | overrides
        return await start_home(**settings)

    return start


def link_of(home: TestClient) -> CloudLink:
    return home.app[LINK]


def test_link_url_follows_the_cloud_url() -> None:
    assert str(link_url("http://127.0.0.1:8700")) == "ws://127.0.0.1:8700/api/v1/link"
    assert str(link_url("https://cloud.example/flex/")) == "wss://cloud.example/flex/api/v1/link"


def test_backoff_stays_between_its_bounds() -> None:
    for failures in range(40):
        delay = backoff_delay(failures, 0.5, 10.0)
        assert 0.5 <= delay <= 10.0
    assert max(backoff_delay(0, 0.5, 10.0) for _ in range(20)) == 0.5


async def test_link_authenticates_and_goes_online(
    start_linked: Callable[..., Awaitable[TestClient]], fake_cloud: FakeCloud, identity: Identity
) -> None:
    home = await start_linked()
    await link_of(home).wait_for_state("online")
    auth = fake_cloud.auths[0]
    assert auth["type"] == "auth"
    assert auth["system_id"] == identity.system_id
    assert auth["seq"] == 0 and auth["receipt"] is None
    body = await (await home.get("/api/v1/system")).json()
    assert body["cloud"]["state"] == "online" and body["cloud"]["enabled"] is True


async def test_pushed_snapshot_is_applied_and_a_receipt_comes_back(
    start_linked: Callable[..., Awaitable[TestClient]],
    fake_cloud: FakeCloud,
    identity: Identity,
    cloud_key: Ed25519PrivateKey,
) -> None:
    home = await start_linked()
    link = link_of(home)
    await link.wait_for_state("online")
    await fake_cloud.send("snapshot", token=snapshot_token(cloud_key, identity.system_id, 1, (entry("a1", 8),)))
    await link.wait_for_seq(1)
    await wait_until(lambda: bool(fake_cloud.of_type("receipt")))
    receipt = verify_receipt(fake_cloud.of_type("receipt")[0]["token"], identity.system_id, identity.public_key)
    assert (receipt.seq, receipt.held) == (1, ("a1",))
    view = await credits_view(home)
    assert view["total"] == 2
    assert view["revoke_key"] == fake_cloud.of_type("receipt")[0]["token"]


async def test_same_snapshot_again_is_acknowledged_with_the_latest_receipt(
    start_linked: Callable[..., Awaitable[TestClient]],
    fake_cloud: FakeCloud,
    identity: Identity,
    cloud_key: Ed25519PrivateKey,
) -> None:
    home = await start_linked()
    link = link_of(home)
    await link.wait_for_state("online")
    token = snapshot_token(cloud_key, identity.system_id, 4, (entry("a1", 8),))
    await fake_cloud.send("snapshot", token=token)
    await link.wait_for_receipts(1)
    await fake_cloud.send("snapshot", token=token)
    await link.wait_for_receipts(2)
    await wait_until(lambda: len(fake_cloud.of_type("receipt")) == 2)
    first, second = fake_cloud.of_type("receipt")
    assert first["token"] == second["token"]


async def test_refused_snapshot_gets_an_error_reply_and_the_link_stays_up(
    start_linked: Callable[..., Awaitable[TestClient]],
    fake_cloud: FakeCloud,
    identity: Identity,
    cloud_key: Ed25519PrivateKey,
) -> None:
    home = await start_linked()
    link = link_of(home)
    await link.wait_for_state("online")
    await fake_cloud.send("snapshot", token=snapshot_token(cloud_key, "home-other0000000000", 1, (entry(),)))
    await fake_cloud.send("snapshot", token=snapshot_token(Ed25519PrivateKey.generate(), identity.system_id, 1, ()))
    await wait_until(lambda: len(fake_cloud.of_type("error")) == 2)
    assert [e["code"] for e in fake_cloud.of_type("error")] == ["wrong_system", "bad_signature"]
    assert all(isinstance(e["reply_to"], int) for e in fake_cloud.of_type("error"))
    assert link.state == "online"
    assert (await credits_view(home))["seq"] == 0


async def test_bad_messages_get_protocol_errors_and_never_crash_the_link(
    start_linked: Callable[..., Awaitable[TestClient]],
    fake_cloud: FakeCloud,
    identity: Identity,
    cloud_key: Ed25519PrivateKey,
) -> None:
    home = await start_linked()
    link = link_of(home)
    await link.wait_for_state("online")
    await fake_cloud.send_raw("this is not json")
    await fake_cloud.send_raw(json.dumps([1, 2, 3]))
    await fake_cloud.send("teleport", destination="mars")
    await fake_cloud.send("snapshot")  # no token
    await wait_until(lambda: len(fake_cloud.of_type("error")) == 4)
    codes = [e["code"] for e in fake_cloud.of_type("error")]
    assert codes == ["bad_json", "invalid_message", "unknown_type", "invalid_message"]
    await fake_cloud.send("snapshot", token=snapshot_token(cloud_key, identity.system_id, 1, (entry(),)))
    await link.wait_for_seq(1)
    assert link.state == "online"


async def test_link_reconnects_after_the_cloud_drops_it_and_reports_its_seq(
    start_linked: Callable[..., Awaitable[TestClient]],
    fake_cloud: FakeCloud,
    identity: Identity,
    cloud_key: Ed25519PrivateKey,
) -> None:
    home = await start_linked()
    link = link_of(home)
    await link.wait_for_state("online")
    await fake_cloud.send("snapshot", token=snapshot_token(cloud_key, identity.system_id, 2, (entry(),)))
    await link.wait_for_receipts(1)
    await fake_cloud.close_all()
    await wait_until(lambda: fake_cloud.connections == 2 and link.state == "online")
    second = fake_cloud.auths[1]
    assert second["seq"] == 2
    assert second["receipt"] == (await credits_view(home))["revoke_key"]


async def test_switching_the_link_off_closes_it_and_on_reconnects(
    start_linked: Callable[..., Awaitable[TestClient]], fake_cloud: FakeCloud
) -> None:
    home = await start_linked()
    link = link_of(home)
    await link.wait_for_state("online")
    response = await home.put("/api/v1/cloud-link", json={"enabled": False})
    assert response.status == 200
    assert await response.json() == {
        "url": link.view()["url"],
        "enabled": False,
        "state": "disabled",
        "last_error": None,
    }
    await wait_until(lambda: not fake_cloud.sockets)
    response = await home.put("/api/v1/cloud-link", json={"enabled": True})
    assert (await response.json())["enabled"] is True
    await link.wait_for_state("online")
    assert fake_cloud.connections == 2


async def test_switched_off_link_stays_off_after_a_restart_and_offline_forces_it_off(
    start_linked: Callable[..., Awaitable[TestClient]], fake_cloud: FakeCloud
) -> None:
    home = await start_linked()
    await link_of(home).wait_for_state("online")
    await home.put("/api/v1/cloud-link", json={"enabled": False})
    await home.close()
    home = await start_linked()
    assert link_of(home).state == "disabled" and link_of(home).enabled is False
    await home.put("/api/v1/cloud-link", json={"enabled": True})
    await link_of(home).wait_for_state("online")
    await home.close()
    home = await start_linked(offline=True)
    assert link_of(home).state == "disabled"
    assert fake_cloud.connections == 2


async def test_unlinked_home_shows_not_linked_and_connects_once_linked(
    start_linked: Callable[..., Awaitable[TestClient]], fake_cloud: FakeCloud, identity: Identity
) -> None:
    home = await start_linked(linked=False)
    link = link_of(home)
    await link.wait_for_state("not_linked")
    assert (await (await home.get("/api/v1/system")).json())["cloud"]["state"] == "not_linked"
    fake_cloud.linked[identity.system_id] = identity.public_key
    await link.wait_for_state("online")


async def test_unreachable_cloud_leaves_the_link_offline_and_retrying(start_home: HomeFactory) -> None:
    home = await start_home(cloud_url="http://127.0.0.1:9", offline=False)
    link = link_of(home)
    await link.wait_for_state("offline")
    assert link.enabled is True
    assert link.last_error


async def test_cloud_keys_are_pinned_on_first_contact_and_kept(
    start_linked: Callable[..., Awaitable[TestClient]],
    fake_cloud: FakeCloud,
    identity: Identity,
    cloud_key: Ed25519PrivateKey,
) -> None:
    home = await start_linked(cloud_key_file=None)
    await link_of(home).wait_for_state("online")
    assert fake_cloud.jwks_requests == 1
    assert home.app[NODE].trust.source == "pinned"
    await home.close()
    # Offline now, the pinned key still checks an uploaded credits file.
    home = await start_linked(cloud_key_file=None, offline=True)
    response = await upload(home, snapshot_token(cloud_key, identity.system_id, 1, (entry(),)))
    assert response.status == 200
    assert fake_cloud.jwks_requests == 1


async def test_file_uploaded_while_online_sends_its_receipt_at_once(
    start_linked: Callable[..., Awaitable[TestClient]],
    fake_cloud: FakeCloud,
    identity: Identity,
    cloud_key: Ed25519PrivateKey,
) -> None:
    home = await start_linked()
    await link_of(home).wait_for_state("online")
    response = await upload(home, snapshot_token(cloud_key, identity.system_id, 3, (entry("a9"),)))
    revoke_key = (await response.json())["revoke_key"]
    await wait_until(lambda: bool(fake_cloud.of_type("receipt")))
    assert fake_cloud.of_type("receipt")[0]["token"] == revoke_key


async def test_a_home_with_the_emulator_api_says_where_it_answers_and_one_without_does_not(
    start_home: HomeFactory, tmp_path: Path
) -> None:
    home = await start_home(emulator_api=True)
    home.app[LINK].announce("http://0.0.0.0:8802")  # listening on every interface: it answers on loopback too
    assert home.app[LINK].home_url == "http://127.0.0.1:8802"
    home.app[LINK].announce("http://[::]:8802")
    assert home.app[LINK].home_url == "http://[::1]:8802"
    quiet = await start_home(emulator_api=False, data_dir=tmp_path / "quiet")
    quiet.app[LINK].announce("http://127.0.0.1:8803")
    assert quiet.app[LINK].home_url is None  # no journal route to read there


async def test_a_test_waits_for_a_link_state_with_one_request(
    start_linked: Callable[..., Awaitable[TestClient]], fake_cloud: FakeCloud, identity: Identity
) -> None:
    home = await start_linked(linked=False, offline=True)
    at_once = await home.get("/_emulator/cloud-link")
    assert at_once.status == 200 and (await at_once.json())["state"] == "disabled"
    waiting = asyncio.ensure_future(home.get("/_emulator/cloud-link", params={"state": "online", "timeout": "5"}))
    await home.put("/api/v1/cloud-link", json={"enabled": True})
    await link_of(home).wait_for_state("not_linked")
    assert not waiting.done()  # not_linked is not what it waits for
    fake_cloud.linked[identity.system_id] = identity.public_key
    link_of(home).retry_now()
    answer = await waiting
    assert answer.status == 200
    assert await answer.json() == link_of(home).view() and link_of(home).state == "online"


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ({"state": "online", "timeout": "0"}, 504, "timeout"),
        ({"state": "up"}, 400, "invalid_link_state"),
        ({"state": "online", "timeout": "301"}, 400, "out_of_range"),
        ({"state": "online", "timeout": "NaN"}, 400, "wrong_type"),
        ({"state": "online", "timeout": "soon"}, 400, "wrong_type"),
        ({"state": "online", "timeout": "٣"}, 400, "wrong_type"),
        ({"state": "online", "timeout": "1_0"}, 400, "wrong_type"),
        ({"state": "online", "timeout": "1e1"}, 400, "wrong_type"),
    ],
)
async def test_waiting_for_a_link_state_refuses_what_it_cannot_wait_for(
    start_linked: Callable[..., Awaitable[TestClient]], query: dict[str, str], status: int, code: str
) -> None:
    home = await start_linked(linked=False, offline=True)
    answer = await home.get("/_emulator/cloud-link", params=query)
    assert answer.status == status
    assert (await answer.json())["error"]["code"] == code
    assert link_of(home).state == "disabled" and link_of(home).enabled is False


async def test_a_test_switches_the_link_on_and_waits_for_it_online_with_one_request(
    start_linked: Callable[..., Awaitable[TestClient]], fake_cloud: FakeCloud, identity: Identity
) -> None:
    home = await start_linked(linked=True, offline=True)
    answer = await home.put("/_emulator/cloud-link", params={"state": "online", "timeout": "5"}, json={"enabled": True})
    assert answer.status == 200
    assert await answer.json() == link_of(home).view() and link_of(home).state == "online"
    assert fake_cloud.connections == 1 and fake_cloud.auths  # the link really connected and authenticated
    switched_off = await home.put("/_emulator/cloud-link", params={"state": "disabled"}, json={"enabled": False})
    assert (await switched_off.json())["state"] == "disabled" and link_of(home).enabled is False
    plain = await home.put("/_emulator/cloud-link", json={"enabled": True})  # without state: answers at once
    assert plain.status == 200 and link_of(home).enabled is True


@pytest.mark.parametrize(
    ("query", "body", "status", "code", "switched"),
    [
        ({"state": "online", "timeout": "0"}, {"enabled": True}, 504, "timeout", True),
        ({"state": "up"}, {"enabled": True}, 400, "invalid_link_state", False),
        ({"state": "online", "timeout": "1e1"}, {"enabled": True}, 400, "wrong_type", False),
        ({"state": "online"}, {"enabled": "yes"}, 400, "wrong_type", False),
        ({"state": "online"}, {}, 400, "missing_field", False),
    ],
)
async def test_switching_the_link_refuses_a_bad_request_before_switching_and_keeps_a_switch_that_timed_out(
    start_linked: Callable[..., Awaitable[TestClient]],
    query: dict[str, str],
    body: dict[str, Any],
    status: int,
    code: str,
    switched: bool,
) -> None:
    home = await start_linked(linked=False, offline=True)
    answer = await home.put("/_emulator/cloud-link", params=query, json=body)
    assert answer.status == status
    assert (await answer.json())["error"]["code"] == code
    assert link_of(home).enabled is switched
