"""Time-driven behaviour on the virtual clock: activation, terms, expiry, Auto Revoke, restarts."""

from datetime import timedelta
from pathlib import Path

from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from flex_emulator.cloud.app import create_app
from flex_emulator.cloud.config import Config
from flex_emulator.shared.clock import VirtualClock
from flex_emulator.shared.timefmt import iso, parse_iso
from tests.kit.api import Tenant, assert_error, assert_invariant, call, new_tenant

DAY = 86400
SKEW = timedelta(minutes=5)


async def advance(client: TestClient, seconds: float) -> dict[str, object]:
    return await call(client, "POST", "/_emulator/clock", json={"advance_seconds": seconds})


async def test_clock_reads_and_moves_only_forward(cloud: TestClient, clock: VirtualClock) -> None:
    assert await call(cloud, "GET", "/_emulator/clock") == {"now": iso(clock.now()), "virtual": True}
    moved = await advance(cloud, 3600)
    assert moved["now"] == "2026-11-28T11:00:00Z"
    target = await call(cloud, "POST", "/_emulator/clock", json={"now": "2026-12-01T00:00:00Z"})
    assert target["now"] == "2026-12-01T00:00:00Z"
    assert_error(
        await call(cloud, "POST", "/_emulator/clock", json={"now": "2026-11-01T00:00:00Z"}, expect=400),
        "clock_backwards",
    )
    assert_error(
        await call(cloud, "POST", "/_emulator/clock", json={"advance_seconds": -5}, expect=400), "clock_backwards"
    )
    assert_error(await call(cloud, "POST", "/_emulator/clock", json={"advance_seconds": "x"}, expect=400), "wrong_type")
    assert_error(await call(cloud, "POST", "/_emulator/clock", json={}, expect=400), "missing_field")


async def test_wall_clock_refuses_to_be_set(aiohttp_client: AiohttpClient, tmp_path: Path) -> None:
    client = await aiohttp_client(create_app(Config(data_dir=tmp_path, emulator_api=True)))
    assert (await call(client, "GET", "/_emulator/clock"))["virtual"] is False
    assert_error(
        await call(client, "POST", "/_emulator/clock", json={"advance_seconds": 1}, expect=409), "clock_not_virtual"
    )


async def test_emulator_routes_are_absent_without_the_flag(aiohttp_client: AiohttpClient, tmp_path: Path) -> None:
    client = await aiohttp_client(create_app(Config(data_dir=tmp_path)))
    assert_error(await call(client, "GET", "/_emulator/clock", expect=404), "not_found")


async def test_inactive_subscription_activates_itself_after_three_weeks(cloud: TestClient) -> None:
    tenant = await new_tenant(cloud)
    sub = await tenant.subscription(8, state="inactive")
    await advance(cloud, 21 * DAY - 1)
    assert (await tenant.sub_state(sub["id"]))["state"] == "inactive"
    await advance(cloud, 1)
    active = await tenant.sub_state(sub["id"])
    assert active["state"] == "active" and active["term_start"] == "2026-12-19T10:00:00Z"
    assert active["term_end"] == "2027-01-19T10:00:00Z"


async def test_active_subscription_renews_and_cancelled_one_expires_returning_everything(cloud: TestClient) -> None:
    tenant = await new_tenant(cloud)
    renewing = await tenant.subscription(4)
    ending = await tenant.subscription(8, duration="monthly")
    system, _ = await tenant.link_new_system()
    item = await tenant.assign(system["id"], ending["id"], 3)
    await tenant.download(system["id"])
    await tenant.post(f"/subscriptions/{ending['id']}/cancel")
    assert (await tenant.sub_state(ending["id"]))["selectable"] is True
    await advance(cloud, 31 * DAY)
    renewed = await tenant.sub_state(renewing["id"])
    assert renewed["state"] == "active" and renewed["term_start"] == "2026-12-28T10:00:00Z"
    expired = await tenant.sub_state(ending["id"])
    assert expired["state"] == "expired" and expired["selectable"] is False and expired["credits_available"] == 8
    [ended] = (await tenant.get(f"/systems/{system['id']}"))["assignments"]
    assert ended["id"] == item["id"] and ended["state"] == "ended" and ended["end_reason"] == "subscription_ended"
    assert_error(await tenant.assign(system["id"], ending["id"], 1, expect=409), "subscription_not_selectable")
    await assert_invariant(cloud.app)


async def states(tenant: Tenant, system_id: str) -> dict[str, str]:
    return {item["id"]: item["state"] for item in (await tenant.get(f"/systems/{system_id}"))["assignments"]}


async def two_credits_downloaded(cloud: TestClient) -> tuple[Tenant, str, str, str]:
    """A tenant whose offline system holds 2 of 8 credits in a downloaded file: tenant, sub, system, assignment."""
    tenant = await new_tenant(cloud)
    sub = await tenant.subscription(8, duration="annual")
    system, _ = await tenant.link_new_system()
    item = await tenant.assign(system["id"], sub["id"], 2)
    await tenant.download(system["id"])
    return tenant, sub["id"], system["id"], item["id"]


async def assert_expired_back_in(cloud: TestClient, held: tuple[Tenant, str, str, str], seconds: float) -> None:
    """Still held a second before ``seconds`` from now, and returned as expired at that moment."""
    tenant, sub_id, system_id, item_id = held
    await advance(cloud, seconds - 1)
    assert (await tenant.sub_state(sub_id))["credits_available"] == 6
    await advance(cloud, 1)
    assert (await tenant.sub_state(sub_id))["credits_available"] == 8
    [ended] = (await tenant.get(f"/systems/{system_id}"))["assignments"]
    assert ended["id"] == item_id and ended["end_reason"] == "expired"
    await assert_invariant(cloud.app)


async def test_downloaded_credits_come_back_when_the_copy_expires_plus_skew(cloud: TestClient) -> None:
    held = await two_credits_downloaded(cloud)
    tenant, _, system_id, _ = held
    [shown] = (await tenant.get(f"/systems/{system_id}"))["assignments"]
    assert parse_iso(shown["returns_at"]) - parse_iso(shown["valid_until"]) == timedelta(minutes=5)
    await assert_expired_back_in(cloud, held, 30 * DAY + 300)


async def test_a_renewed_copy_keeps_its_credits_until_the_renewal_ends(cloud: TestClient) -> None:
    # The end item of the first copy is not moved when a newer copy renews it: it runs at the first copy's
    # end, finds the renewal, and waits for that one's end instead.
    held = await two_credits_downloaded(cloud)
    tenant, _, system_id, _ = held
    await advance(cloud, 10 * DAY)
    await tenant.download(system_id)
    await advance(cloud, 20 * DAY + 300)  # the first copy's end, plus skew
    [shown] = (await tenant.get(f"/systems/{system_id}"))["assignments"]
    assert shown["state"] == "active" and shown["returns_at"] == iso(parse_iso(shown["valid_until"]) + SKEW)
    await assert_expired_back_in(cloud, held, 10 * DAY)


async def test_auto_revoke_returns_undelivered_credits_at_the_time_and_delivered_ones_after_skew(
    cloud: TestClient, clock: VirtualClock
) -> None:
    tenant = await new_tenant(cloud)
    sub = await tenant.subscription(8)
    system, _ = await tenant.link_new_system()
    at = iso(clock.now() + timedelta(days=2))
    kept_home = await tenant.assign(system["id"], sub["id"], 1, auto_revoke_at=at)
    await tenant.download(system["id"])
    never_sent = await tenant.assign(system["id"], sub["id"], 2, auto_revoke_at=at)
    detail = {item["id"]: item for item in (await tenant.get(f"/systems/{system['id']}"))["assignments"]}
    assert detail[kept_home["id"]]["valid_until"] == at and detail[kept_home["id"]]["auto_revoke_at"] == at
    await advance(cloud, 2 * DAY - 1)
    assert await states(tenant, system["id"]) == {never_sent["id"]: "active", kept_home["id"]: "active"}
    await advance(cloud, 1)
    detail = {item["id"]: item for item in (await tenant.get(f"/systems/{system['id']}"))["assignments"]}
    assert detail[never_sent["id"]]["state"] == "ended" and detail[never_sent["id"]]["end_reason"] == "auto_revoked"
    assert detail[kept_home["id"]]["state"] == "revoke_pending"
    assert detail[kept_home["id"]]["returns_at"] == iso(parse_iso(at) + SKEW)
    requested = [e for e in (await tenant.get("/history"))["events"] if e["kind"] == "revoke_requested"]
    shown = [(e["assignment_id"], e["at"], e.get("reason")) for e in requested]
    assert shown == [(kept_home["id"], at, "auto_revoked")]  # in the history and the inspector at the moment itself
    await advance(cloud, 299)
    assert (await states(tenant, system["id"]))[kept_home["id"]] == "revoke_pending"
    await advance(cloud, 1)
    detail = {item["id"]: item for item in (await tenant.get(f"/systems/{system['id']}"))["assignments"]}
    assert detail[kept_home["id"]]["state"] == "ended" and detail[kept_home["id"]]["end_reason"] == "auto_revoked"
    assert (await tenant.sub_state(sub["id"]))["credits_available"] == 8
    await assert_invariant(cloud.app)


async def test_work_that_fell_due_while_the_cloud_was_down_runs_when_it_comes_back(
    aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    from tests.kit import START

    config = Config(data_dir=tmp_path / "cloud", emulator_api=True, virtual_clock=True)
    first_clock = VirtualClock(start=START)
    client = await aiohttp_client(create_app(config, first_clock))
    tenant = await new_tenant(client)
    sub = await tenant.subscription(4, state="inactive")
    active = await tenant.subscription(8)
    system, _ = await tenant.link_new_system()
    at = iso(START + timedelta(days=2))
    revoked_later = await tenant.assign(system["id"], active["id"], 1, auto_revoke_at=at)
    expires = await tenant.assign(system["id"], active["id"], 2)
    await tenant.download(system["id"])
    never_sent = await tenant.assign(system["id"], active["id"], 3, auto_revoke_at=at)
    await client.close()
    # The process was down for a month: the clock it comes back with is past every due time.
    later = VirtualClock(start=START + timedelta(days=40))
    client = await aiohttp_client(create_app(config, later))
    tenant = Tenant(client, tenant.account_id, tenant.token)
    await call(client, "POST", "/_emulator/clock", json={"advance_seconds": 0})
    state = await tenant.sub_state(sub["id"])
    assert state["state"] == "active"
    detail = await tenant.get(f"/systems/{system['id']}")
    assert detail["system"]["label"] == "OB Van 3"
    # Auto Revoke (delivered or not) and the end of a copy's validity all fell due while it was down
    ended = {item["id"]: item["end_reason"] for item in detail["assignments"] if item["state"] == "ended"}
    assert ended == {revoked_later["id"]: "auto_revoked", never_sent["id"]: "auto_revoked", expires["id"]: "expired"}
    assert (await tenant.sub_state(active["id"]))["credits_available"] == 8
    await assert_invariant(client.app)
