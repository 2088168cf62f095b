"""The online flow end to end: link, assign, receipt, revoke, catch-up, presence."""

from typing import Any

from flex_emulator.home.domain.licensing import apply_snapshot
from flex_emulator.shared import protocol
from tests.kit.world import World


async def test_assigning_to_an_online_home_delivers_at_once(world: World) -> None:
    sub = await world.tenant.subscription(10, order_id="SO-2026-00042")
    home = await world.start_home("Studio A", pin_key=True)
    await home.link.wait_for_state("online")
    await world.check()
    systems = (await world.tenant.get("/systems"))["systems"]
    assert systems[0]["online"] is True and systems[0]["last_seen"] is not None

    item = await world.tenant.assign(home.system_id, sub["id"], 2.5)
    await world.check()
    assert item["downloaded"] is True and item["valid_until"] is not None
    await home.link.wait_for_seq(item_seq := (await world.tenant.get(f"/systems/{home.system_id}"))["system"]["seq"])
    view = await home.credits()
    assert view["seq"] == item_seq and view["total"] == 2.5 and view["remaining"] == 2.5 and view["in_use"] == 0
    [entry] = view["entries"]
    assert entry["assignment_id"] == item["id"] and entry["order_id"] == "SO-2026-00042"
    assert entry["valid_until"] == item["valid_until"]
    assert view["revoke_key"]
    await home.link.wait_for_receipts(1)
    await world.check()


async def test_online_revoke_returns_credits_once_home_proves_it_dropped_them(world: World) -> None:
    sub = await world.tenant.subscription(6)
    home = await world.online_home("Studio A")
    keep = await world.tenant.assign(home.system_id, sub["id"], 1)
    await world.check()
    gone = await world.tenant.assign(home.system_id, sub["id"], 2)
    await world.check()
    answer = await world.tenant.revoke(home.system_id, gone["id"])
    await world.check()
    assert answer["assignment"]["state"] == "ended" and answer["assignment"]["end_reason"] == "revoked"
    assert (await world.tenant.sub_state(sub["id"]))["credits_available"] == 5
    assert await home.held_ids() == {keep["id"]}
    assert (await home.credits())["total"] == 1
    await world.check()
    history = [event["kind"] for event in (await world.tenant.get("/history"))["events"]]
    assert history.count("returned") == 1


async def test_a_home_that_was_disconnected_catches_up_on_reconnect(world: World) -> None:
    sub = await world.tenant.subscription(8)
    home = await world.online_home("Studio A")
    first = await world.tenant.assign(home.system_id, sub["id"], 1)
    await world.check()
    await home.switch_link(False)
    await home.link.wait_for_state("disabled")
    await world.wait_for_portal(home.system_id, lambda found: not found["system"]["online"])
    await world.check()
    second = await world.tenant.assign(home.system_id, sub["id"], 3)
    assert second["downloaded"] is False
    await world.check()
    revoked = await world.tenant.revoke(home.system_id, first["id"])
    assert revoked["assignment"]["state"] == "revoke_pending"
    await world.check()

    await home.switch_link(True)
    await home.link.wait_for_state("online")
    await world.check()
    seq = (await world.tenant.get(f"/systems/{home.system_id}"))["system"]["seq"]
    await home.link.wait_for_seq(seq)
    await home.link.wait_for_receipts(2)
    await world.check()
    assert await home.held_ids() == {second["id"]}
    detail = {item["id"]: item for item in (await world.tenant.get(f"/systems/{home.system_id}"))["assignments"]}
    assert detail[second["id"]]["downloaded"] is True
    await world.wait_for_portal(
        home.system_id,
        lambda found: all(item["state"] == "ended" for item in found["assignments"] if item["id"] == first["id"]),
    )
    assert (await world.tenant.sub_state(sub["id"]))["credits_available"] == 5
    await world.check()


async def test_portal_shows_offline_and_last_seen_after_the_link_drops(world: World) -> None:
    home = await world.online_home("Studio A")
    await world.advance(120)
    await home.switch_link(False)
    await home.link.wait_for_state("disabled")
    detail = await world.wait_for_portal(home.system_id, lambda found: not found["system"]["online"])
    assert detail["system"]["last_seen"] == "2026-11-28T10:02:00Z"


async def test_an_unlinked_home_is_told_so_and_comes_online_once_linked(world: World) -> None:
    home = await world.start_home("Studio B", link=False)
    await home.link.wait_for_state("not_linked")
    code = await home.client.get("/api/v1/system")
    await world.tenant.link((await code.json())["registration_code"])
    await home.link.wait_for_state("online", timeout=10)
    await world.check()


async def test_a_revoke_cut_off_after_home_applied_it_but_before_the_receipt_returns_the_credits_once_on_reconnect(
    world: World,
) -> None:
    sub = await world.tenant.subscription(6)
    home = await world.online_home("Studio A")
    item = await world.tenant.assign(home.system_id, sub["id"], 2)
    await world.check()

    # The fault: HOME applies the pushed snapshot for real, then the line drops before its receipt leaves.
    link = home.link
    deliver = link._handlers[protocol.SNAPSHOT]

    async def apply_then_drop(ws: Any, message: Any) -> None:
        await apply_snapshot(link._node, message.text("token"), source="link")
        await ws.close()

    link._handlers[protocol.SNAPSHOT] = apply_then_drop
    answer = await world.tenant.revoke(home.system_id, item["id"])
    assert answer["assignment"]["state"] == "revoke_pending"  # the cloud has no proof yet
    assert await home.held_ids() == set()  # HOME already dropped them
    assert (await world.tenant.sub_state(sub["id"]))["credits_available"] == 4  # so they are in neither place
    await world.check()

    link._handlers[protocol.SNAPSHOT] = deliver
    await home.switch_link(False)
    await home.switch_link(True)
    await home.link.wait_for_state("online")  # HOME's handshake carries its latest receipt: the proof
    await world.wait_for_portal(home.system_id, lambda found: found["assignments"][0]["state"] == "ended")
    assert (await world.tenant.sub_state(sub["id"]))["credits_available"] == 6
    history = [event["kind"] for event in (await world.tenant.get("/history"))["events"]]
    assert history.count("returned") == 1
    await world.check()
