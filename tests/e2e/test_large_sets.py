"""A system holding the most assignments allowed receives them online, and one more is refused cleanly."""

from typing import Any

import pytest

from flex_emulator.cloud.appkeys import DB
from flex_emulator.cloud.domain.models import Assignment
from flex_emulator.cloud.store.ledger import LedgerEntry
from flex_emulator.shared import protocol
from flex_emulator.shared.snapshot_claims import MAX_ACTIVE_ASSIGNMENTS, MAX_SNAPSHOT_BYTES
from tests.kit import TENANT_ADMIN
from tests.kit.api import assert_error
from tests.kit.portal import csrf_in
from tests.kit.world import World

pytestmark = pytest.mark.slow  # 10,000 assignments on one system


async def fill(world: World, system_id: str, sub_id: str, count: int) -> None:
    """``count`` assignments of 0.25 credits put straight into the cloud's store (as many assigns would)."""
    now = world.clock.now()
    async with world.cloud.app[DB].transaction() as tx:
        assert await tx.subscriptions.take_quarters(sub_id, count)
        items = [
            Assignment.new(
                account_id=world.tenant.account_id,
                system_id=system_id,
                subscription_id=sub_id,
                quarters=1,
                assigned_at=now,
                auto_revoke_at=None,
            )
            for _ in range(count)
        ]
        await tx.assignments.insert_many(items)
        await tx.ledger.append_many(
            [
                LedgerEntry(
                    at=now,
                    kind="assigned",
                    actor="test",
                    account_id=world.tenant.account_id,
                    subscription_id=sub_id,
                    system_id=system_id,
                    assignment_id=item.id,
                    quarters=1,
                )
                for item in items
            ]
        )
        await tx.systems.mark_dirty([system_id])


async def portal_assign(world: World, system_id: str, sub_id: str) -> str:
    """Sign in on the portal's pages and submit Add Credits; answers the page it lands on (refused: the form again)."""
    client = world.cloud
    form = await client.get("/signin", headers={"Accept": "text/html"})
    signed = await client.post(
        "/signin",
        data={"csrf": csrf_in(await form.text()), "email": TENANT_ADMIN[0], "password": TENANT_ADMIN[1], "next": "/"},
        allow_redirects=False,
    )
    assert signed.status == 303
    base = f"/accounts/{world.tenant.account_id}/systems/{system_id}"
    page = await client.get(f"{base}/add?step=2&subscription={sub_id}", headers={"Accept": "text/html"})
    posted = await client.post(
        f"{base}/assignments",
        data={"csrf": csrf_in(await page.text()), "subscription_id": sub_id, "credits": "0.25"},
        allow_redirects=False,
    )
    if posted.status != 303:
        return await posted.text()
    landing = await client.get(posted.headers["Location"], headers={"Accept": "text/html"})
    return await landing.text()


async def test_the_most_assignments_a_system_holds_reach_it_online_and_one_more_is_refused(world: World) -> None:
    sub = await world.tenant.subscription(MAX_ACTIVE_ASSIGNMENTS, duration="annual")
    van = await world.start_home("OB Van 3", offline=True)
    await fill(world, van.system_id, sub["id"], MAX_ACTIVE_ASSIGNMENTS - 1)

    await van.switch_link(True)  # the whole set arrives in the snapshot sent on connect
    await van.link.wait_for_state("online", timeout=30)
    await van.link.wait_for_seq(1, timeout=60)
    last = await world.tenant.assign(van.system_id, sub["id"], 0.25)  # and the last one online, pushed at once
    assert last["downloaded"] is True
    await van.link.wait_for_seq(2, timeout=60)

    held: dict[str, Any] = await van.credits()
    assert (
        held["seq"] == 2
        and len(held["entries"]) == MAX_ACTIVE_ASSIGNMENTS
        and held["total"] == MAX_ACTIVE_ASSIGNMENTS / 4
    )
    assert van.link.state == "online" and van.link.last_error is None
    latest = await world.cloud.app[DB].read.snapshots.latest(van.system_id)
    assert latest is not None and len(latest.token) <= MAX_SNAPSHOT_BYTES < protocol.MAX_MESSAGE_BYTES

    more = await world.tenant.subscription(1)
    refused = await world.tenant.assign(van.system_id, more["id"], 0.25, expect=409)
    assert_error(refused, "too_many_assignments")
    assert f"{MAX_ACTIVE_ASSIGNMENTS:,} active assignments" in refused["error"]["message"]
    page = await portal_assign(world, van.system_id, more["id"])
    assert f"already holds {MAX_ACTIVE_ASSIGNMENTS:,} active assignments" in page

    assert (await world.tenant.sub_state(more["id"]))["credits_available"] == 1
    assert van.link.state == "online" and (await van.credits())["seq"] == 2
    detail = await world.system(van.system_id)
    assert detail["system"]["online"] is True
