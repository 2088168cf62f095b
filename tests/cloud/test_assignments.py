"""Assigning and revoking credits against the cloud alone (systems that are not connected)."""

import asyncio
from datetime import timedelta

from aiohttp.test_utils import TestClient

from flex_emulator.shared.clock import VirtualClock
from flex_emulator.shared.timefmt import iso
from tests.kit import START, TENANT_ADMIN
from tests.kit.api import assert_error, assert_invariant, new_tenant


async def test_assignment_takes_credits_in_quarters_and_shows_not_downloaded(cloud: TestClient) -> None:
    tenant = await new_tenant(cloud)
    sub = await tenant.subscription(10, order_id="SO-2026-00099")
    system, _ = await tenant.link_new_system()
    item = await tenant.assign(system["id"], sub["id"], "2.75")
    assert item["credits"] == 2.75 and item["state"] == "active" and item["downloaded"] is False
    assert item["valid_until"] is None and item["returns_at"] is None
    assert item["subscription"] == {
        "id": sub["id"],
        "order_id": "SO-2026-00099",
        "duration": "monthly",
        "state": "active",
    }
    assert (await tenant.sub_state(sub["id"]))["credits_available"] == 7.25
    systems = (await tenant.get("/systems"))["systems"]
    assert systems[0]["credits_assigned"] == 2.75
    await assert_invariant(cloud.app)


async def test_credits_not_downloaded_are_revoked_at_once(cloud: TestClient) -> None:
    tenant = await new_tenant(cloud)
    sub = await tenant.subscription(4)
    system, _ = await tenant.link_new_system()
    item = await tenant.assign(system["id"], sub["id"], 4)
    answer = await tenant.revoke(system["id"], item["id"])
    assert answer["assignment"]["state"] == "ended" and answer["assignment"]["end_reason"] == "revoked"
    assert "steps" not in answer
    assert (await tenant.sub_state(sub["id"]))["credits_available"] == 4
    assert_error(await tenant.revoke(system["id"], item["id"], expect=409), "already_ended")
    await assert_invariant(cloud.app)


async def test_revoke_needs_the_word_confirm(cloud: TestClient) -> None:
    tenant = await new_tenant(cloud)
    sub = await tenant.subscription(4)
    system, _ = await tenant.link_new_system()
    item = await tenant.assign(system["id"], sub["id"], 1)
    path = f"/systems/{system['id']}/assignments/{item['id']}/revoke"
    for typed in ("yes", "Confirm", "confirm ", " confirm", "CONFIRM"):  # exactly the word, as the seed says
        assert_error(await tenant.post(path, {"confirm": typed}, expect=400), "confirmation_required")
    assert_error(await tenant.post(path, {}, expect=400), "missing_field")
    detail = await tenant.get(f"/systems/{system['id']}")
    assert detail["assignments"][0]["state"] == "active"


async def test_never_more_than_available_nor_from_an_unusable_subscription(cloud: TestClient) -> None:
    tenant = await new_tenant(cloud)
    sub = await tenant.subscription(2)
    inactive = await tenant.subscription(50, state="inactive")
    system, _ = await tenant.link_new_system()
    assert_error(await tenant.assign(system["id"], sub["id"], 2.25, expect=409), "insufficient_credits")
    assert_error(await tenant.assign(system["id"], inactive["id"], 1, expect=409), "subscription_not_selectable")
    assert_error(
        await tenant.assign(system["id"], sub["id"], 1, expect=400, auto_revoke_at="2020-01-01T00:00:00Z"),
        "auto_revoke_in_past",
    )
    assert (await tenant.sub_state(sub["id"]))["credits_available"] == 2
    assert (await tenant.get(f"/systems/{system['id']}"))["assignments"] == []


async def test_auto_revoke_must_be_later_than_now_by_at_least_a_second(cloud: TestClient, clock: VirtualClock) -> None:
    tenant = await new_tenant(cloud)
    sub = await tenant.subscription(4)
    system, _ = await tenant.link_new_system()
    now = clock.now()
    assert now == START
    # Times are kept to the second: now + 0.4 s would be kept as now itself, so it is refused like now
    for moment in (iso(now), "2026-11-28T10:00:00.400Z", "2026-11-28T10:00:00.999999Z", "2026-11-28T11:00:00.5+01:00"):
        refused = await tenant.assign(system["id"], sub["id"], 1, expect=400, auto_revoke_at=moment)
        assert_error(refused, "auto_revoke_in_past")
    assert (await tenant.sub_state(sub["id"]))["credits_available"] == 4
    assert (await tenant.get(f"/systems/{system['id']}"))["assignments"] == []
    # a fraction past the next second is kept as that second
    item = await tenant.assign(system["id"], sub["id"], 1, auto_revoke_at="2026-11-28T10:00:01.700Z")
    assert item["auto_revoke_at"] == iso(now + timedelta(seconds=1))
    await tenant.revoke(system["id"], item["id"])
    item = await tenant.assign(system["id"], sub["id"], 1, auto_revoke_at=iso(now + timedelta(seconds=1)))
    assert item["auto_revoke_at"] == iso(now + timedelta(seconds=1))
    await assert_invariant(cloud.app)


async def test_parallel_assignments_never_over_assign(cloud: TestClient) -> None:
    tenant = await new_tenant(cloud)
    sub = await tenant.subscription(10)
    systems = [(await tenant.link_new_system(f"Van {n}"))[0] for n in range(3)]
    statuses = []

    async def one(n: int) -> None:
        response = await cloud.post(
            tenant.path(f"/systems/{systems[n % 3]['id']}/assignments"),
            json={"subscription_id": sub["id"], "credits": 0.75},
            headers={"Authorization": f"Bearer {tenant.token}"},
        )
        statuses.append(response.status)

    await asyncio.gather(*(one(n) for n in range(40)))
    assert statuses.count(201) == 13 and statuses.count(409) == 27  # 13 x 0.75 = 9.75 <= 10 < 14 x 0.75
    state = await tenant.sub_state(sub["id"])
    assert state["credits_available"] == 0.25
    await assert_invariant(cloud.app)


async def test_history_records_every_movement(cloud: TestClient) -> None:
    tenant = await new_tenant(cloud)
    sub = await tenant.subscription(4)
    system, _ = await tenant.link_new_system()
    item = await tenant.assign(system["id"], sub["id"], 1.5)
    await tenant.revoke(system["id"], item["id"])
    events = (await tenant.get("/history"))["events"]
    kinds = [event["kind"] for event in events]
    assert kinds[:2] == ["returned", "assigned"]
    assert "system_linked" in kinds and "subscription_created" in kinds
    returned = events[0]
    assert returned["credits"] == 1.5 and returned["reason"] == "revoked" and returned["actor"] == TENANT_ADMIN[0]
    assert returned["assignment_id"] == item["id"] and returned["subscription_id"] == sub["id"]


async def test_activate_and_cancel_change_what_can_be_selected(cloud: TestClient) -> None:
    tenant = await new_tenant(cloud)
    inactive = await tenant.subscription(8, duration="annual", state="inactive")
    assert inactive["selectable"] is False and inactive["term_start"] is None
    active = (await tenant.post(f"/subscriptions/{inactive['id']}/activate"))["subscription"]
    assert active["state"] == "active" and active["selectable"] is True
    assert active["term_end"].startswith("2027-11-28")
    assert_error(await tenant.post(f"/subscriptions/{inactive['id']}/activate", expect=409), "not_inactive")
    cancelled = (await tenant.post(f"/subscriptions/{inactive['id']}/cancel"))["subscription"]
    assert (
        cancelled["state"] == "cancelled" and cancelled["selectable"] is True and cancelled["cancelled_at"] is not None
    )
    assert_error(await tenant.post(f"/subscriptions/{inactive['id']}/cancel", expect=409), "not_active")
