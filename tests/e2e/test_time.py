"""Validity, check-in, expiry and Auto Revoke across a real cloud and real HOMEs on the virtual clock."""

import asyncio
from datetime import timedelta

from flex_emulator.shared.clock import VirtualClock
from flex_emulator.shared.timefmt import iso, parse_iso
from tests.kit.api import assert_error
from tests.kit.world import World

DAY = 86400


async def test_online_home_checks_in_and_keeps_its_credits_month_after_month(world: World) -> None:
    sub = await world.tenant.subscription(8, duration="annual")
    studio = await world.online_home("Studio A")
    item = await world.tenant.assign(studio.system_id, sub["id"], 2)
    first_until = parse_iso(item["valid_until"])
    assert first_until == world.clock.now() + timedelta(days=30)
    for month in range(1, 4):
        await world.advance(30 * DAY)
        await world.check()
        view = await studio.credits()
        assert view["total"] == 2, f"credits lost in month {month}"
        [entry] = view["entries"]
        assert parse_iso(entry["valid_until"]) >= world.clock.now() + timedelta(days=1)
    [shown] = (await world.system(studio.system_id))["assignments"]
    assert shown["state"] == "active" and parse_iso(shown["valid_until"]) > first_until + timedelta(days=80)


async def test_disconnected_copy_expires_on_both_sides_with_no_contact(world: World) -> None:
    sub = await world.tenant.subscription(8, duration="annual")
    van = await world.start_home("OB Van 3", offline=True)
    item = await world.tenant.assign(van.system_id, sub["id"], 3)
    await van.upload(await world.tenant.download(van.system_id))
    for step in (30 * DAY - 1, 1, 240, 59, 1):
        await world.advance(step)
        await world.check()
    assert (await van.credits())["total"] == 0
    [ended] = (await world.system(van.system_id))["assignments"]
    assert ended["id"] == item["id"] and ended["state"] == "ended" and ended["end_reason"] == "expired"
    assert (await world.tenant.sub_state(sub["id"]))["credits_available"] == 8


async def test_auto_revoke_returns_credits_from_an_online_home_at_the_time(world: World) -> None:
    sub = await world.tenant.subscription(8)
    studio = await world.online_home("Studio A")
    at = world.clock.now() + timedelta(hours=2)
    item = await world.tenant.assign(studio.system_id, sub["id"], 1.5, auto_revoke_at=iso(at))
    assert item["valid_until"] == iso(at) and item["auto_revoke_at"] == iso(at)
    await world.advance(2 * 3600 - 1)
    assert await studio.held_ids() == {item["id"]}
    await world.advance(1)
    [ended] = (await world.system(studio.system_id))["assignments"]
    assert ended["state"] == "ended" and ended["end_reason"] == "auto_revoked"
    assert await studio.held_ids() == set()
    assert (await world.tenant.sub_state(sub["id"]))["credits_available"] == 8
    await world.check()


async def test_a_cancelled_subscription_caps_validity_and_ends_its_assignments(world: World) -> None:
    sub = await world.tenant.subscription(8, duration="monthly")
    studio = await world.online_home("Studio A")
    await world.advance(20 * DAY)
    item = await world.tenant.assign(studio.system_id, sub["id"], 2)
    assert parse_iso(item["valid_until"]) == world.clock.now() + timedelta(days=30)
    await world.tenant.post(f"/subscriptions/{sub['id']}/cancel")
    seq = (await world.system(studio.system_id))["system"]["seq"]
    await studio.link.wait_for_seq(seq)
    [entry] = (await studio.credits())["entries"]
    assert entry["valid_until"] == sub["term_end"] and entry["renewal"] == "none"
    # once HOME holds only the capped copy, the portal says so: valid until, and back at, the term end
    detail = await world.wait_for_portal(
        studio.system_id, lambda found: found["assignments"][0]["valid_until"] == sub["term_end"]
    )
    [shown] = detail["assignments"]
    assert shown["returns_at"] == sub["term_end"] and shown["subscription"]["state"] == "cancelled"
    await world.advance(10 * DAY)
    await world.check()
    [ended] = (await world.system(studio.system_id))["assignments"]
    assert ended["state"] == "ended" and ended["end_reason"] == "subscription_ended"
    assert (await world.tenant.sub_state(sub["id"]))["state"] == "expired"
    assert await studio.held_ids() == set()


async def test_a_home_whose_clock_runs_behind_never_holds_returned_credits(world: World) -> None:
    sub = await world.tenant.subscription(8, duration="annual")
    behind = VirtualClock(start=world.clock.now() - timedelta(minutes=3))
    van = await world.start_home("OB Van 3", offline=True, clock=behind)
    item = await world.tenant.assign(van.system_id, sub["id"], 2)
    await van.upload(await world.tenant.download(van.system_id))
    assert await van.held_ids() == {item["id"]}
    for step in (30 * DAY - 60, 60, 120, 60, 60, 60):
        await world.advance(step)
        behind.set(world.clock.now() - timedelta(minutes=3))
        await world.check()
    assert (await world.tenant.sub_state(sub["id"]))["credits_available"] == 8


async def test_a_file_from_the_homes_future_is_refused_as_clock_skew(world: World) -> None:
    sub = await world.tenant.subscription(8)
    far_behind = VirtualClock(start=world.clock.now() - timedelta(hours=2))
    van = await world.start_home("OB Van 3", offline=True, clock=far_behind)
    await world.tenant.assign(van.system_id, sub["id"], 1)
    refused = await van.upload(await world.tenant.download(van.system_id), expect=422)
    assert_error(refused, "clock_skew")
    assert "clock" in refused["error"]["message"]
    assert (await van.credits())["total"] == 0
    await world.check()


async def test_an_online_home_gets_its_renewed_copy_24_hours_before_validity_ends(world: World) -> None:
    sub = await world.tenant.subscription(8, duration="annual")
    studio = await world.online_home("Studio A")
    item = await world.tenant.assign(studio.system_id, sub["id"], 2)
    first_until = item["valid_until"]
    seq = (await world.system(studio.system_id))["system"]["seq"]
    await studio.link.wait_for_seq(seq)
    await world.advance(29 * DAY - 1)  # the second before the check-in
    assert (await world.system(studio.system_id))["system"]["seq"] == seq
    assert [entry["valid_until"] for entry in (await studio.credits())["entries"]] == [first_until]
    await world.advance(1)  # 24 hours before the copy's end: the renewed copy, valid 30 days from now
    assert (await world.system(studio.system_id))["system"]["seq"] == seq + 1
    await studio.link.wait_for_seq(seq + 1)
    renewed = iso(world.clock.now() + timedelta(days=30))
    assert [entry["valid_until"] for entry in (await studio.credits())["entries"]] == [renewed]
    await world.check()


async def test_a_pushed_copy_up_to_five_minutes_in_homes_future_is_applied_and_a_later_one_waits(
    world: World,
) -> None:
    sub = await world.tenant.subscription(8)
    now = world.clock.now()
    inside = await world.start_home("Studio A", clock=VirtualClock(start=now - timedelta(minutes=5)))
    behind = VirtualClock(start=now - timedelta(minutes=5, seconds=1))
    outside = await world.start_home("Studio B", clock=behind)
    for home in (inside, outside):
        await home.link.wait_for_state("online")
    applied = await world.tenant.assign(inside.system_id, sub["id"], 1)
    waiting = await world.tenant.assign(outside.system_id, sub["id"], 1)
    await inside.link.wait_for_seq(1)
    assert await inside.held_ids() == {applied["id"]}
    for _ in range(250):  # the pushed copy arrives, and is refused for now
        refused = [event for event in (await outside.api.events())["events"] if event["kind"] == "snapshot_refused"]
        if refused:
            break
        await asyncio.sleep(0.02)
    assert [event["code"] for event in refused] == ["clock_skew"]
    assert (await outside.credits())["seq"] == 0
    await outside.api.call("POST", "/_emulator/clock", json={"advance_seconds": 1})  # HOME's clock catches up
    await outside.link.wait_for_seq(1)
    assert await outside.held_ids() == {waiting["id"]}
    await world.check()
