"""Link faults on a real link between a real cloud and a real HOME: each fault's effect, then convergence
once it is lifted, with the invariant checked after every step."""

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from flex_emulator.cloud.appkeys import DB
from tests.kit.api import call
from tests.kit.world import Home, World

RESEND_SECONDS = 0.4


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """As the shared world, but a push waits only briefly for its receipt, so a lost message shows."""
    async with World.start(tmp_path, ack_wait_seconds=0.15, resend_seconds=RESEND_SECONDS) as world:
        yield world
        await world.check()


async def faults(world: World, home: Home, expect: int = 200, **body: Any) -> dict[str, Any]:
    answer = await call(
        world.cloud, "POST", f"/_emulator/systems/{home.system_id}/link-faults", json=body, expect=expect
    )
    return answer["faults"] if expect == 200 else answer


async def events(world: World, after: str = "0") -> list[dict[str, Any]]:
    return (await call(world.cloud, "GET", f"/_emulator/events?after={after}&limit=1000"))["events"]


async def kinds(world: World, system_id: str) -> list[str]:
    return [event["kind"] for event in await events(world) if event.get("system_id") == system_id]


async def eventually(condition: Callable[[], Any], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the condition never held")
        await asyncio.sleep(0.02)


async def settled(world: World, home: Home) -> dict[str, Any]:
    """Wait until HOME has acknowledged the latest snapshot the cloud issued to it, and nothing waits to be issued;
    a copy or receipt that was lost is pushed again when the cloud's clock reaches the re-push."""
    await call(world.cloud, "GET", f"/_emulator/systems/{home.system_id}/settled?advance=true&timeout=5")

    async def acked() -> bool:
        system = await world.cloud.app[DB].read.systems.get(home.system_id)
        assert system is not None
        return (
            home.link.state == "online"
            and not system.dirty
            and system.acked_seq == system.seq == (await home.credits())["seq"]
        )

    await eventually(acked)
    return await world.system(home.system_id)


async def test_dropped_snapshot_is_pushed_again_while_the_link_is_up(world: World) -> None:
    sub = await world.tenant.subscription(8)
    home = await world.online_home("Studio A")
    await world.check()
    assert (await faults(world, home, drop_next="snapshot"))["drop_next"] == ["snapshot"]
    item = await world.tenant.assign(home.system_id, sub["id"], 2)
    await world.check()
    assert await home.held_ids() == set()  # lost in transit: HOME has not seen it
    seen = await kinds(world, home.system_id)
    assert seen[seen.index("fault_dropped") - 1] == "snapshot_pushed"
    await settled(world, home)
    await world.check()
    assert await home.held_ids() == {item["id"]}
    pushes = [event for event in await events(world) if event["kind"] == "snapshot_pushed"]
    assert pushes[-1].get("resent") is True
    assert (await call(world.cloud, "GET", f"/_emulator/systems/{home.system_id}/link-faults"))["faults"][
        "active"
    ] is False


async def test_dropped_receipt_does_not_leave_a_revoke_pending_while_online(world: World) -> None:
    sub = await world.tenant.subscription(8)
    home = await world.online_home("Studio A")
    item = await world.tenant.assign(home.system_id, sub["id"], 3)
    await settled(world, home)
    await world.check()
    await faults(world, home, drop_next="receipt")
    answer = await world.tenant.revoke(home.system_id, item["id"])
    await world.check()
    assert answer["assignment"]["state"] == "revoke_pending"  # the proof was lost on its way
    assert await home.held_ids() == set()
    assert "fault_dropped" in await kinds(world, home.system_id)
    await world.advance(1)  # the re-push waits RESEND_SECONDS of the cloud's clock, not of the machine's
    detail = await world.wait_for_portal(home.system_id, lambda found: found["assignments"][0]["state"] == "ended")
    await world.check()
    assert detail["assignments"][0]["end_reason"] == "revoked"
    assert (await world.tenant.sub_state(sub["id"]))["credits_available"] == 8
    history = [event["kind"] for event in (await world.tenant.get("/history"))["events"]]
    assert history.count("returned") == 1


async def test_duplicated_snapshot_and_receipt_count_once(world: World) -> None:
    sub = await world.tenant.subscription(8)
    home = await world.online_home("Studio A")
    await faults(world, home, duplicate_next="snapshot")
    first = await world.tenant.assign(home.system_id, sub["id"], 2)
    await settled(world, home)
    await world.check()
    assert await home.held_ids() == {first["id"]} and (await home.credits())["total"] == 2
    await faults(world, home, duplicate_next="receipt")
    answer = await world.tenant.revoke(home.system_id, first["id"])
    await world.check()
    await world.wait_for_portal(home.system_id, lambda found: found["assignments"][0]["state"] == "ended")
    await world.check()
    assert answer["assignment"]["state"] in ("ended", "revoke_pending")
    assert (await world.tenant.sub_state(sub["id"]))["credits_available"] == 8
    history = [event["kind"] for event in (await world.tenant.get("/history"))["events"]]
    assert history.count("returned") == 1
    seen = await kinds(world, home.system_id)
    assert seen.count("fault_duplicated") == 2


async def test_latency_delays_messages_both_ways_and_then_clears(world: World) -> None:
    sub = await world.tenant.subscription(8)
    home = await world.online_home("Studio A")
    assert (await faults(world, home, latency_ms=300))["latency_ms"] == 300
    loop = asyncio.get_running_loop()
    started = loop.time()
    item = await world.tenant.assign(home.system_id, sub["id"], 1)
    await world.check()
    await settled(world, home)
    assert loop.time() - started >= 0.6  # 300 ms out (the snapshot) and 300 ms back (the receipt)
    await world.check()
    assert await home.held_ids() == {item["id"]}
    cleared = await faults(world, home, clear=True)
    assert cleared == {"cut": False, "latency_ms": 0, "drop_next": [], "duplicate_next": [], "active": False}
    started = loop.time()
    await world.tenant.revoke(home.system_id, item["id"])
    await settled(world, home)
    assert loop.time() - started < 0.6
    await world.check()


async def test_cut_closes_the_link_refuses_reconnects_and_recovers_when_lifted(world: World) -> None:
    sub = await world.tenant.subscription(8)
    home = await world.online_home("Studio A")
    held = await world.tenant.assign(home.system_id, sub["id"], 2)
    await settled(world, home)
    await world.check()

    assert (await faults(world, home, cut=True))["cut"] is True
    await world.wait_for_portal(home.system_id, lambda found: not found["system"]["online"])
    await world.check()
    await eventually(lambda: _refused_with(world, home, "link_cut"))
    assert home.link.state != "online"
    assert "cut" in (home.link.last_error or "")
    revoked = await world.tenant.revoke(home.system_id, held["id"])
    assert revoked["assignment"]["state"] == "revoke_pending"  # HOME may still use them: proof is awaited
    added = await world.tenant.assign(home.system_id, sub["id"], 1)
    assert added["downloaded"] is False
    await world.check()
    assert await home.held_ids() == {held["id"]}

    await faults(world, home, cut=False)
    home.link.retry_now()  # its backoff waits on the world's clock, which has not moved
    await home.link.wait_for_state("online")
    detail = await settled(world, home)
    await world.check()
    states = {item["id"]: item["state"] for item in detail["assignments"]}
    assert states == {held["id"]: "ended", added["id"]: "active"}
    assert await home.held_ids() == {added["id"]}
    assert (await world.tenant.sub_state(sub["id"]))["credits_available"] == 7
    seen = await kinds(world, home.system_id)
    assert "link_down" in seen and "link_refused" in seen and seen.count("link_up") >= 2


async def _refused_with(world: World, home: Home, code: str) -> bool:
    return any(event["kind"] == "link_refused" and event.get("code") == code for event in await events(world))


async def test_faults_are_refused_for_unknown_systems_and_bad_bodies(world: World) -> None:
    home = await world.online_home("Studio A")
    await call(world.cloud, "POST", "/_emulator/systems/sys_nope/link-faults", json={"cut": True}, expect=404)
    for body in ({"drop_next": "welcome"}, {"latency_ms": -1}, {"latency_ms": "5"}, {"cut": "yes"}, {"explode": True}):
        answer = await faults(world, home, expect=400, **body)
        assert answer["error"]["code"] in ("invalid_value", "unknown_fault")
    assert (await call(world.cloud, "GET", f"/_emulator/systems/{home.system_id}/link-faults"))["faults"][
        "active"
    ] is False


async def test_the_journal_pages_with_opaque_cursors_oldest_first(world: World) -> None:
    sub = await world.tenant.subscription(8)
    home = await world.online_home("Studio A")
    await world.tenant.assign(home.system_id, sub["id"], 1)
    await settled(world, home)
    everything = await events(world)
    kinds_seen = [event["kind"] for event in everything]
    for kind in ("system_linked", "link_up", "assigned", "snapshot_issued", "snapshot_pushed", "receipt_accepted"):
        assert kind in kinds_seen, kind
    assert (
        kinds_seen.index("snapshot_issued") < kinds_seen.index("snapshot_pushed") < kinds_seen.index("receipt_accepted")
    )
    assigned = next(event for event in everything if event["kind"] == "assigned")
    assert assigned["credits"] == 1 and assigned["subscription_id"] == sub["id"] and assigned["at"].endswith("Z")
    first = await call(world.cloud, "GET", "/_emulator/events?limit=2")
    assert [event["cursor"] for event in first["events"]] == [event["cursor"] for event in everything[:2]]
    rest = await call(world.cloud, "GET", f"/_emulator/events?after={first['next']}&limit=1000")
    assert first["events"] + rest["events"] == everything
    empty = await call(world.cloud, "GET", f"/_emulator/events?after={rest['next']}")
    assert empty == {"events": [], "next": rest["next"]}
    for query in ("after=abc", "limit=0", "limit=100000"):
        await call(world.cloud, "GET", f"/_emulator/events?{query}", expect=400)


async def test_home_journal_records_link_states_snapshots_receipts_keys_and_resources(world: World) -> None:
    sub = await world.tenant.subscription(8)
    home = await world.online_home("Studio A")
    await world.tenant.assign(home.system_id, sub["id"], 2)
    await settled(world, home)
    await home.credits()  # shows the revoke key
    made = await call(
        home.client,
        "POST",
        "/api/v1/resources",
        expect=201,
        json={"name": "Importer", "license_type_needed": "NMOS Importer", "count": 1, "license_type": "credits"},
    )
    resource_id = made["resource"]["id"]
    await call(home.client, "POST", f"/api/v1/resources/{resource_id}/start")
    await call(home.client, "POST", f"/api/v1/resources/{resource_id}/stop")
    await home.switch_link(False)
    await world.check()
    journal = (await call(home.client, "GET", "/_emulator/events?limit=1000"))["events"]
    kinds_seen = [event["kind"] for event in journal]
    states = [event["state"] for event in journal if event["kind"] == "link_state"]
    assert "online" in states and states[0] == "connecting"
    assert states[-1] == "disabled"
    # a start or stop that changes the credits in use sends the receipt again, with HOME's usage
    order = [
        "snapshot_applied",
        "receipt_sent",
        "revoke_key_shown",
        "resource_started",
        "receipt_sent",
        "resource_stopped",
        "receipt_sent",
    ]
    assert [kind for kind in kinds_seen if kind in order] == order
    assert [event["source"] for event in journal if event["kind"] == "receipt_sent"] == ["link", "usage", "usage"]
    applied = next(event for event in journal if event["kind"] == "snapshot_applied")
    assert applied["seq"] == 1 and applied["source"] == "link" and applied["at"].endswith("Z")
    assert [int(event["cursor"]) for event in journal] == sorted(int(event["cursor"]) for event in journal)
    await call(home.client, "GET", "/_emulator/events?after=-1", expect=400)


async def test_a_check_in_lost_while_the_clock_runs_is_delivered_again(world: World) -> None:
    sub = await world.tenant.subscription(8, duration="annual")
    home = await world.online_home("Studio A")
    item = await world.tenant.assign(home.system_id, sub["id"], 2)
    await settled(world, home)
    first_until = (await home.credits())["entries"][0]["valid_until"]
    await faults(world, home, drop_next="snapshot")
    await world.advance(29 * 86400 + 3600)  # past the check-in, 24 hours before the copy ends: its renewal is lost
    await world.check()
    assert "fault_dropped" in await kinds(world, home.system_id)
    await settled(world, home)  # pushed again: HOME holds the renewed copy
    await world.check()
    [entry] = (await home.credits())["entries"]
    assert entry["assignment_id"] == item["id"] and entry["valid_until"] > first_until
    await world.advance(2 * 86400)  # past the first copy's end: still held, nothing came back
    await world.check()
    assert await home.held_ids() == {item["id"]}
    assert (await world.tenant.sub_state(sub["id"]))["credits_available"] == 6
