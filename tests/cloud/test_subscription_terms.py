"""Subscription terms: monthly terms end on each month's end without drifting."""

from aiohttp.test_utils import TestClient

from tests.kit.api import call, new_tenant


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
