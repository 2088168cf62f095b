"""Revoke keys typed into the portal: no contact from HOME, harmless when repeated."""

from typing import Any

from aiohttp.test_utils import TestClient

from flex_emulator.shared.clock import VirtualClock
from tests.kit.api import assert_error, assert_invariant, call, new_tenant
from tests.kit.portal import Home


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
    assert await tenant.post(f"/systems/{home.system_id}/revoke-keys", {"revoke_key": key}) == {
        "returned": [first["id"]],
        "credits_returned": 1,
    }
    await tenant.revoke(home.system_id, second["id"])
    entered = await revoke_key_events(tenant.get)

    assert await tenant.post(f"/systems/{home.system_id}/revoke-keys", {"revoke_key": key}) == {
        "returned": [],
        "credits_returned": 0,
    }
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
