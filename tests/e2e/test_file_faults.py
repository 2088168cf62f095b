"""Bad credits files on demand: HOME refuses each with the contract's code and changes nothing, the cloud
records nothing, and the current file still brings both sides together afterwards."""

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from flex_emulator.cloud.app import create_app as create_cloud
from flex_emulator.cloud.config import Config as CloudConfig
from flex_emulator.cloud.domain.demo import DEMO_USERS
from flex_emulator.shared.clock import VirtualClock
from tests.kit.api import Tenant, assert_error, call, sign_in
from tests.kit.world import Home, World

# fault -> (HTTP status, code) HOME must answer the upload with
REFUSALS = {
    "expired": (422, "expired"),
    "future": (422, "clock_skew"),
    "stale": (409, "stale"),
    "tampered": (422, "bad_signature"),
    "wrong_system": (422, "wrong_system"),
    "alg_none": (422, "bad_signature"),
    "untrusted_key": (422, "bad_signature"),
    "truncated": (400, "malformed"),
}


async def faulty_file(tenant: Tenant, system_id: str, fault: str, expect: int = 200) -> Any:
    response = await tenant.client.post(
        tenant.path(f"/systems/{system_id}/credits-file?fault={fault}"),
        headers={"Authorization": f"Bearer {tenant.token}"},
    )
    assert response.status == expect, await response.text()
    if expect != 200:
        return await response.json()
    assert response.headers["Content-Type"] == "application/jwt"
    return await response.text()


async def cloud_record(world: World, system_id: str) -> tuple[int, list[tuple[str, bool]], int]:
    """What a bad file must not change in the cloud: seq, each assignment's Downloaded tick, the ledger."""
    detail = await world.system(system_id)
    history = (await world.tenant.get("/history"))["events"]
    return detail["system"]["seq"], [(item["id"], item["downloaded"]) for item in detail["assignments"]], len(history)


async def home_events(home: Home) -> list[dict[str, Any]]:
    return (await call(home.client, "GET", "/_emulator/events?limit=1000"))["events"]


async def prepare(world: World, home: Home) -> dict[str, Any]:
    """Two files applied (so an older one exists), then one more assignment that was never downloaded."""
    sub = await world.tenant.subscription(10)
    await world.tenant.assign(home.system_id, sub["id"], 2)
    await world.check()
    for _ in range(2):
        await home.upload(await world.tenant.download(home.system_id))
        await world.check()
    return await world.tenant.assign(home.system_id, sub["id"], 1)


async def refuse_every_fault(world: World, home: Home) -> None:
    before_cloud = await cloud_record(world, home.system_id)
    before_home = await home.credits()
    for fault, (status, code) in REFUSALS.items():
        token = await faulty_file(world.tenant, home.system_id, fault)
        assert await cloud_record(world, home.system_id) == before_cloud, fault
        answer = await home.upload(token, expect=status)
        assert_error(answer, code)
        assert await home.credits() == before_home, fault
        await world.check()
    refused = [event["code"] for event in await home_events(home) if event["kind"] == "upload_refused"]
    assert refused == [code for _, code in REFUSALS.values()]
    served = [
        event["fault"]
        for event in (await call(world.cloud, "GET", "/_emulator/events?limit=1000"))["events"]
        if event["kind"] == "file_fault_served"
    ]
    assert served == list(REFUSALS)


async def test_a_disconnected_home_refuses_every_bad_file_and_the_current_one_still_converges(world: World) -> None:
    home = await world.start_home("OB Van", offline=True)
    fresh = await prepare(world, home)
    assert fresh["downloaded"] is False
    await refuse_every_fault(world, home)

    # Recovery is what a person does anyway: download the current file, upload it, enter the revoke key.
    applied = await home.upload(await world.tenant.download(home.system_id))
    await world.check()
    assert applied["result"] == "applied" and applied["seq"] == 3
    assert fresh["id"] in await home.held_ids()
    detail = await world.system(home.system_id)
    assert all(item["downloaded"] for item in detail["assignments"])
    await world.tenant.post(f"/systems/{home.system_id}/revoke-keys", {"revoke_key": applied["revoke_key"]})
    await world.check()
    kinds = [event["kind"] for event in await home_events(home)]
    assert kinds.count("upload_applied") == 3 and kinds.count("snapshot_applied") == 3 and "revoke_key_shown" in kinds


async def test_an_online_home_refuses_every_bad_file_and_stays_in_step(world: World) -> None:
    home = await world.online_home("Studio A")
    sub = await world.tenant.subscription(10)
    first = await world.tenant.assign(home.system_id, sub["id"], 2)
    second = await world.tenant.assign(home.system_id, sub["id"], 1)
    await home.link.wait_for_seq(2)
    await world.check()
    await refuse_every_fault(world, home)
    assert home.link.state == "online"
    assert await home.held_ids() == {first["id"], second["id"]}
    revoked = await world.tenant.revoke(home.system_id, first["id"])
    assert revoked["assignment"]["state"] == "ended"
    await world.check()
    assert await home.held_ids() == {second["id"]}


async def test_a_stale_file_needs_an_older_copy_and_an_unknown_fault_is_refused(world: World) -> None:
    home = await world.start_home("OB Van", offline=True)
    assert_error(await faulty_file(world.tenant, home.system_id, "stale", expect=409), "no_older_file")
    assert_error(await faulty_file(world.tenant, home.system_id, "gremlins", expect=400), "unknown_fault")
    assert_error(await faulty_file(world.tenant, "home-nope", "expired", expect=404), "not_found")
    assert (await world.system(home.system_id))["system"]["seq"] == 0
    await world.check()


@pytest.fixture
async def plain_cloud(aiohttp_client: Any, tmp_path: Path, clock: VirtualClock) -> TestClient:
    return await aiohttp_client(create_cloud(CloudConfig(data_dir=tmp_path / "cloud", demo=True), clock))


async def test_bad_files_need_the_emulator_api(plain_cloud: TestClient) -> None:
    email, password, _ = DEMO_USERS[0]
    token = await sign_in(plain_cloud, email, password)
    [account] = (await call(plain_cloud, "GET", "/api/v1/accounts", token=token))["accounts"]
    tenant = Tenant(plain_cloud, account["id"], token)
    assert_error(await faulty_file(tenant, "home-any", "expired", expect=400), "emulator_api_disabled")
    await call(plain_cloud, "GET", "/_emulator/events", expect=404)


async def test_a_future_file_never_stands_in_for_a_file_the_cloud_issues_later(world: World) -> None:
    """A future file, kept until HOME's clock has caught up, is a copy of the latest file issued: it never holds a
    seq the cloud issues later, so the real next file is applied, never answered as ``unchanged``."""
    home = await world.start_home("OB Van", offline=True)
    sub = await world.tenant.subscription(10)
    kept = await world.tenant.assign(home.system_id, sub["id"], 2)
    revoked = await world.tenant.assign(home.system_id, sub["id"], 1)
    await home.upload(await world.tenant.download(home.system_id))
    future = await faulty_file(world.tenant, home.system_id, "future")
    assert_error(await home.upload(future, expect=422), "clock_skew")
    await world.advance(86400)  # HOME's clock has caught up with the file's time
    late = await home.upload(future)
    assert (late["result"], late["seq"]) == ("unchanged", 1)
    assert await home.held_ids() == {kept["id"], revoked["id"]}

    pending = await world.tenant.revoke(home.system_id, revoked["id"])
    assert pending["assignment"]["state"] == "revoke_pending"
    applied = await home.upload(await world.tenant.download(home.system_id))
    assert (applied["result"], applied["seq"]) == ("applied", 2)
    assert await home.held_ids() == {kept["id"]}
    await world.tenant.post(f"/systems/{home.system_id}/revoke-keys", {"revoke_key": applied["revoke_key"]})
    assert (await world.tenant.sub_state(sub["id"]))["credits_available"] == 8
    await world.check()


async def test_a_future_file_needs_a_file_to_copy(world: World) -> None:
    home = await world.start_home("OB Van", offline=True)
    assert_error(await faulty_file(world.tenant, home.system_id, "future", expect=409), "no_file_yet")
    assert (await world.system(home.system_id))["system"]["seq"] == 0
    await world.check()
