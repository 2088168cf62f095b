"""Concurrent assigns from one subscription, through every process of the cloud (two on PostgreSQL), to systems
online through either process and offline: never over-assigned, and each HOME ends up holding exactly the
assignments the cloud records as its own (a snapshot is issued from what committed before it, whatever ran
beside it)."""

import asyncio
from collections import Counter

from aiohttp.test_utils import TestClient

from tests.kit.world import World


async def test_concurrent_assigns_through_either_process_never_over_assign(world: World) -> None:
    sub = await world.tenant.subscription(20)
    homes = [await world.online_home("Studio A"), await world.online_home("Studio B")]
    offline, _ = await world.tenant.link_new_system("OB Van 3")
    targets = [home.system_id for home in homes] + [offline["id"]]
    processes: list[TestClient] = [world.cloud, *world.others]
    answers: Counter[int] = Counter()

    async def assign(n: int) -> None:
        response = await processes[n % len(processes)].post(
            world.tenant.path(f"/systems/{targets[n % len(targets)]}/assignments"),
            json={"subscription_id": sub["id"], "credits": 0.75},
            headers={"Authorization": f"Bearer {world.tenant.token}"},
        )
        answers[response.status] += 1
        if response.status == 409:
            assert (await response.json())["error"]["code"] == "insufficient_credits"

    await asyncio.gather(*(assign(n) for n in range(60)))
    assert answers == {201: 26, 409: 34}  # 26 x 0.75 = 19.5 <= 20 < 27 x 0.75
    assert (await world.tenant.sub_state(sub["id"]))["credits_available"] == 0.5
    await world.check()
    for home in homes:
        detail = await world.system(home.system_id)
        await home.link.wait_for_seq(detail["system"]["seq"])
        assert await home.held_ids() == {item["id"] for item in detail["assignments"] if item["state"] == "active"}
    await world.check()
