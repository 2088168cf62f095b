"""Subscription terms: monthly terms end on each month's end without drifting."""

from aiohttp.test_utils import TestClient

from tests.kit.api import assert_error, assert_invariant, call, new_tenant


async def test_monthly_terms_from_january_31_end_on_each_month_end_without_drifting(cloud: TestClient) -> None:
    await call(cloud, "POST", "/_emulator/clock", json={"now": "2027-01-31T10:00:00Z"})
    tenant = await new_tenant(cloud)
    sub = await tenant.subscription(4, duration="monthly")
    assert sub["term_end"] == "2027-02-28T10:00:00Z"
    for now, start, end in [
        ("2027-03-01T00:00:00Z", "2027-02-28T10:00:00Z", "2027-03-31T10:00:00Z"),
        ("2027-04-01T00:00:00Z", "2027-03-31T10:00:00Z", "2027-04-30T10:00:00Z"),
        ("2027-05-01T00:00:00Z", "2027-04-30T10:00:00Z", "2027-05-31T10:00:00Z"),
    ]:
        await call(cloud, "POST", "/_emulator/clock", json={"now": now})
        state = await tenant.sub_state(sub["id"])
        assert (state["state"], state["term_start"], state["term_end"]) == ("active", start, end)


async def clock_to(cloud: TestClient, now: str) -> None:
    await call(cloud, "POST", "/_emulator/clock", json={"now": now})


async def test_an_active_subscription_renews_at_the_second_its_term_ends(cloud: TestClient) -> None:
    tenant = await new_tenant(cloud)
    sub = await tenant.subscription(4, duration="monthly")
    assert (sub["term_start"], sub["term_end"]) == ("2026-11-28T10:00:00Z", "2026-12-28T10:00:00Z")
    await clock_to(cloud, "2026-12-28T09:59:59Z")
    state = await tenant.sub_state(sub["id"])
    assert (state["term_start"], state["term_end"]) == ("2026-11-28T10:00:00Z", "2026-12-28T10:00:00Z")
    await clock_to(cloud, "2026-12-28T10:00:00Z")
    state = await tenant.sub_state(sub["id"])
    assert (state["state"], state["term_start"], state["term_end"]) == (
        "active",
        "2026-12-28T10:00:00Z",
        "2027-01-28T10:00:00Z",
    )


async def test_a_cancelled_subscription_is_usable_until_the_second_its_term_ends(cloud: TestClient) -> None:
    tenant = await new_tenant(cloud)
    sub = await tenant.subscription(8, duration="monthly")  # its term ends 2026-12-28T10:00:00Z
    system, _ = await tenant.link_new_system()
    await clock_to(cloud, "2026-12-18T10:00:00Z")
    await tenant.post(f"/subscriptions/{sub['id']}/cancel")
    held = await tenant.assign(system["id"], sub["id"], 2)
    await tenant.download(system["id"])
    await clock_to(cloud, "2026-12-28T09:59:59Z")
    state = await tenant.sub_state(sub["id"])
    assert (state["state"], state["selectable"]) == ("cancelled", True)
    late = await tenant.assign(system["id"], sub["id"], 1)  # still allowed in the term's last second
    detail = {item["id"]: item for item in (await tenant.get(f"/systems/{system['id']}"))["assignments"]}
    assert detail[held["id"]]["valid_until"] == detail[held["id"]]["returns_at"] == "2026-12-28T10:00:00Z"
    assert {item["state"] for item in detail.values()} == {"active"}
    assert (await tenant.sub_state(sub["id"]))["credits_available"] == 5
    await clock_to(cloud, "2026-12-28T10:00:00Z")
    state = await tenant.sub_state(sub["id"])
    assert (state["state"], state["selectable"], state["credits_available"]) == ("expired", False, 8)
    detail = {item["id"]: item for item in (await tenant.get(f"/systems/{system['id']}"))["assignments"]}
    assert {key: (item["state"], item["end_reason"]) for key, item in detail.items()} == {
        held["id"]: ("ended", "subscription_ended"),
        late["id"]: ("ended", "subscription_ended"),
    }
    assert_error(await tenant.assign(system["id"], sub["id"], 1, expect=409), "subscription_not_selectable")
    await assert_invariant(cloud.app)
