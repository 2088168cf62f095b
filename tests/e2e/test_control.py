"""The emulator's control routes: admin token, reset, whole-state dump and restore, settled, converging clocks."""

from datetime import timedelta

from flex_emulator import START, AsyncWorld
from flex_emulator.shared.clock import VirtualClock
from flex_emulator.shared.timefmt import iso, parse_iso
from tests.kit import TENANT_ADMIN
from tests.kit.api import assert_error, call
from tests.kit.world import World

DAY = 86400


async def test_the_tests_world_is_the_harness_world_with_its_start_date(world: World) -> None:
    assert isinstance(world.harness, AsyncWorld) and world.harness.mode == "inprocess"
    assert await world.harness.now() == START == world.clock.now()
    assert world.cloud.app is world.harness.app()
    [tenant] = world.harness.accounts
    assert (tenant.id, tenant.email) == (world.tenant.account_id, TENANT_ADMIN[0])
    studio = await world.online_home("Studio A")
    assert (await tenant.cloud.system(tenant.id, studio.system_id))["system"]["online"]


async def test_new_account_answer_carries_an_admin_token_that_works_at_once(world: World) -> None:
    answer = await call(
        world.cloud,
        "POST",
        "/_emulator/accounts",
        json={"name": "Beta", "admin": {"email": "b@beta.test", "password": "long enough"}},
        expect=201,
    )
    accounts = await call(world.cloud, "GET", "/api/v1/accounts", token=answer["token"])
    assert accounts["accounts"] == [{"id": answer["account"]["id"], "name": "Beta", "role": "admin"}]


async def test_cloud_reset_forgets_everything_but_its_keys_and_may_set_the_clock_back(world: World) -> None:
    jwks = await call(world.cloud, "GET", "/.well-known/jwks.json")
    sub = await world.tenant.subscription(4)
    studio = await world.online_home("Studio A")
    await world.tenant.assign(studio.system_id, sub["id"], 1)
    earlier = world.clock.now() - timedelta(days=3)
    answer = await call(world.cloud, "POST", "/_emulator/reset", json={"now": iso(earlier)})
    assert answer["now"] == iso(earlier) and world.clock.now() == earlier
    assert_error(
        await call(world.cloud, "GET", "/api/v1/accounts", token=world.tenant.token, expect=401), "invalid_token"
    )
    assert await call(world.cloud, "GET", "/.well-known/jwks.json") == jwks
    await studio.link.wait_for_state("not_linked")
    assert (await call(world.cloud, "GET", "/_emulator/invariant"))["ok"]
    world.homes.clear()  # the tenant the teardown check reads is gone too
    answer = await call(
        world.cloud,
        "POST",
        "/_emulator/accounts",
        json={"name": "Acme Broadcast", "admin": {"email": TENANT_ADMIN[0], "password": TENANT_ADMIN[1]}},
        expect=201,
    )
    world.tenant.account_id, world.tenant.token = answer["account"]["id"], answer["token"]


async def test_state_dump_restores_the_whole_cloud_and_a_bad_document_changes_nothing(world: World) -> None:
    sub = await world.tenant.subscription(4)
    system, _ = await world.tenant.link_new_system("OB Van 3")
    saved = await call(world.cloud, "GET", "/_emulator/state")
    assert saved["format"] == "flex-emulator/state" and saved["version"] == 1 and "cloud_key" in saved["keys"]
    await world.tenant.assign(system["id"], sub["id"], 3)
    await world.advance(DAY)
    assert (await world.tenant.sub_state(sub["id"]))["credits_available"] == 1
    broken = saved | {"tables": {**saved["tables"], "accounts": {"columns": ["id"], "rows": [["x"]]}}}
    assert_error(await call(world.cloud, "PUT", "/_emulator/state", json=broken, expect=400), "invalid_state")
    assert_error(
        await call(world.cloud, "PUT", "/_emulator/state", json={"format": "other"}, expect=400), "invalid_state"
    )
    assert (await world.tenant.sub_state(sub["id"]))["credits_available"] == 1
    restored = await call(world.cloud, "PUT", "/_emulator/state", json=saved)
    assert restored["now"] == saved["now"] and iso(world.clock.now()) == saved["now"]
    assert (await world.tenant.sub_state(sub["id"]))["credits_available"] == 4
    assert (await world.system(system["id"]))["assignments"] == []
    again = await call(world.cloud, "GET", "/_emulator/state")
    assert {name: table for name, table in again["tables"].items() if name != "meta"} == {
        name: table for name, table in saved["tables"].items() if name != "meta"
    }


async def test_settled_answers_once_home_acknowledged_the_latest_copy(world: World) -> None:
    sub = await world.tenant.subscription(4)
    studio = await world.online_home("Studio A")
    await world.tenant.assign(studio.system_id, sub["id"], 2)
    settled = await call(world.cloud, "GET", f"/_emulator/systems/{studio.system_id}/settled?timeout=5")
    assert settled["seq"] == settled["acked_seq"] >= 1 and settled["online"] is True
    assert (await studio.credits())["total"] == 2
    await studio.switch_link(False)
    await world.wait_for_portal(studio.system_id, lambda detail: not detail["system"]["online"])
    assert_error(
        await call(world.cloud, "GET", f"/_emulator/systems/{studio.system_id}/settled", expect=409), "offline"
    )
    assert_error(await call(world.cloud, "GET", "/_emulator/systems/sys_nope/settled", expect=404), "not_found")
    assert_error(
        await call(world.cloud, "GET", f"/_emulator/systems/{studio.system_id}/settled?timeout=x", expect=400),
        "wrong_type",
    )


async def test_home_reset_forgets_its_credits_and_keeps_or_renews_its_identity(world: World) -> None:
    sub = await world.tenant.subscription(4)
    van = await world.start_home("OB Van 3", offline=True)
    await world.tenant.assign(van.system_id, sub["id"], 2)
    await van.upload(await world.tenant.download(van.system_id))
    answer = await call(van.client, "POST", "/_emulator/reset", json={})
    assert answer["system_id"] == van.system_id
    view = await van.credits()
    assert view["total"] == 0 and view["seq"] == 0 and view["revoke_key"] is None
    await van.upload(await world.tenant.download(van.system_id))  # a first copy is accepted again
    assert_error(await call(van.client, "POST", "/_emulator/reset", json={"identity": "yes"}, expect=400), "wrong_type")
    renewed = await call(van.client, "POST", "/_emulator/reset", json={"identity": True})
    assert renewed["system_id"] != van.system_id
    assert (await call(van.client, "GET", "/api/v1/system"))["system_id"] == renewed["system_id"]
    world.homes.clear()


async def test_home_on_its_own_clock_applies_a_future_copy_once_its_clock_catches_up(world: World) -> None:
    """The cloud's clock moves first, then HOME's: the end state is as if they had shared one clock."""
    sub = await world.tenant.subscription(8, duration="annual")
    home_clock = VirtualClock(start=world.clock.now())
    studio = await world.start_home("Studio A", clock=home_clock)
    await studio.link.wait_for_state("online")
    await world.tenant.assign(studio.system_id, sub["id"], 2)
    await call(world.cloud, "GET", f"/_emulator/systems/{studio.system_id}/settled")
    first_seq = (await studio.credits())["seq"]
    for _ in range(2):
        await world.advance(29 * DAY)  # the cloud's check-in issues copies dated in HOME's future: refused for now
        assert (await studio.credits())["seq"] == first_seq or _ == 1
        await call(studio.client, "POST", "/_emulator/clock", json={"advance_seconds": 29 * DAY})
        settled = await call(world.cloud, "GET", f"/_emulator/systems/{studio.system_id}/settled")
        view = await studio.credits()
        assert view["seq"] == settled["seq"] > first_seq and view["total"] == 2
        [entry] = view["entries"]
        assert parse_iso(entry["valid_until"]) > home_clock.now() + timedelta(days=20)


async def test_home_moving_a_clock_it_shares_in_process_runs_the_clouds_due_work_at_once(world: World) -> None:
    sub = await world.tenant.subscription(4)
    van = await world.start_home("OB Van 3", offline=True)
    await world.tenant.assign(van.system_id, sub["id"], 2, auto_revoke_at=iso(world.clock.now() + timedelta(hours=1)))
    answer = await call(van.client, "POST", "/_emulator/clock", json={"advance_seconds": 2 * 3600})
    assert parse_iso(answer["now"]) == world.clock.now()
    # no wait: the Auto Revoke already ran inside the cloud (never downloaded, so the credits are back)
    assert (await world.tenant.sub_state(sub["id"]))["credits_available"] == 4
