"""A real cloud and real HOME nodes: relinking keeps seq, cancelled terms cap validity, last seen while online."""

from datetime import datetime, timedelta
from typing import Any

from flex_emulator.shared.timefmt import iso, parse_iso
from tests.kit.api import call
from tests.kit.portal import snapshot_contents
from tests.kit.world import Home, World

DAY = 86400


async def test_a_relinked_home_takes_new_credits_files_because_seq_never_goes_back(world: World) -> None:
    van = await world.start_home("OB Van 3", offline=True)
    for _ in range(2):
        await van.upload(await world.tenant.download(van.system_id))
    assert (await van.credits())["seq"] == 2
    await call(world.cloud, "DELETE", world.tenant.path(f"/systems/{van.system_id}"), token=world.tenant.token)
    code = (await call(van.client, "GET", "/api/v1/system"))["registration_code"]
    assert (await world.tenant.link(code))["seq"] == 2

    sub = await world.tenant.subscription(8)
    item = await world.tenant.assign(van.system_id, sub["id"], 2)
    file = await world.tenant.download(van.system_id)
    assert snapshot_contents(file)["seq"] == 3
    applied = await van.upload(file)
    assert applied["result"] == "applied" and applied["seq"] == 3
    assert await van.held_ids() == {item["id"]}
    await world.check()


async def test_an_online_system_shows_last_seen_now_not_when_it_connected(world: World) -> None:
    studio = await world.online_home("Studio A")
    await world.advance(3 * DAY)
    [listed] = (await world.tenant.get("/systems"))["systems"]
    assert listed["online"] is True and listed["last_seen"] == iso(world.clock.now())
    detail = await world.system(studio.system_id)
    assert detail["system"]["last_seen"] == iso(world.clock.now())
    await studio.switch_link(False)
    gone = await world.wait_for_portal(studio.system_id, lambda found: not found["system"]["online"])
    await world.advance(DAY)
    assert (await world.system(studio.system_id))["system"]["last_seen"] == gone["system"]["last_seen"]


async def offline_copy_then_cancel(world: World) -> tuple[dict[str, Any], Home, dict[str, Any], datetime]:
    """A disconnected HOME holding a 30-day copy of 2 credits, then the subscription is cancelled 20 days in."""
    sub = await world.tenant.subscription(8, duration="monthly")
    van = await world.start_home("OB Van 3", offline=True)
    await world.advance(20 * DAY)
    item = await world.tenant.assign(van.system_id, sub["id"], 2)
    await van.upload(await world.tenant.download(van.system_id))
    copy_ends = world.clock.now() + timedelta(days=30)
    await world.tenant.post(f"/subscriptions/{sub['id']}/cancel")
    return sub, van, item, copy_ends


async def test_an_offline_home_gets_the_term_end_as_validity_after_cancel_and_its_key_proves_it(world: World) -> None:
    sub, van, item, long_copy = await offline_copy_then_cancel(world)
    [shown] = (await world.system(van.system_id))["assignments"]
    assert parse_iso(shown["valid_until"]) == long_copy  # HOME still holds that copy: the cloud says so

    await van.upload(await world.tenant.download(van.system_id))
    [entry] = (await van.credits())["entries"]
    assert entry["valid_until"] == sub["term_end"]  # the copy HOME holds now ends with the term
    key = (await van.credits())["revoke_key"]
    assert await world.tenant.post(f"/systems/{van.system_id}/revoke-keys", {"revoke_key": key}) == {
        "returned": [],
        "credits_returned": 0,
    }
    [shown] = (await world.system(van.system_id))["assignments"]
    assert shown["valid_until"] == shown["returns_at"] == sub["term_end"]
    await world.advance(10 * DAY)
    [ended] = (await world.system(van.system_id))["assignments"]
    assert ended["id"] == item["id"] and ended["end_reason"] == "subscription_ended"
    assert await van.held_ids() == set()
    await world.check()


async def test_a_copy_issued_before_cancel_keeps_its_credits_out_until_it_expires_on_home(world: World) -> None:
    sub, van, item, copy_ends = await offline_copy_then_cancel(world)

    await world.advance(10 * DAY)  # past the term end; HOME never got a newer file
    assert (await world.tenant.sub_state(sub["id"]))["state"] == "expired"
    assert await van.held_ids() == {item["id"]}
    [waiting] = (await world.system(van.system_id))["assignments"]
    assert waiting["state"] == "revoke_pending" and parse_iso(waiting["returns_at"]) == copy_ends + timedelta(minutes=5)
    await world.check()

    await world.advance((copy_ends - world.clock.now()).total_seconds() + 300)
    [ended] = (await world.system(van.system_id))["assignments"]
    assert ended["state"] == "ended" and ended["end_reason"] == "subscription_ended"
    assert (await world.tenant.sub_state(sub["id"]))["credits_available"] == 8
    assert await van.held_ids() == set()
    await world.check()
