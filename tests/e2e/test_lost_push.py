"""Two cloud processes on one PostgreSQL database: a copy issued through one reaches a HOME linked to the other by
a message sent after the commit. If the issuing process dies between the two, the HOME linked elsewhere still gets
that copy: the process holding its link pushes, at its next sweep, what was issued and never pushed from there."""

from pathlib import Path
from typing import Any

import pytest

from flex_emulator.cloud.appkeys import CLUSTER, HUB
from flex_emulator.shared.bus import Message
from tests.kit.postgres import SessionPostgres
from tests.kit.world import World

pytestmark = pytest.mark.slow  # a PostgreSQL server


async def test_a_copy_whose_push_message_was_never_sent_reaches_home_at_the_next_sweep(
    tmp_path: Path, postgres: SessionPostgres
) -> None:
    url = await postgres.fresh()
    async with World.start(tmp_path, database=url, processes=2) as world:
        home = await world.online_home("Studio A")  # linked through the second process
        holder = world.others[0].app
        assert holder[HUB].is_online(home.system_id)
        sub = await world.tenant.subscription(10)
        first = await world.tenant.assign(home.system_id, sub["id"], 2)  # through the first process
        await home.link.wait_for_seq(1)

        issuer = world.cloud.app[CLUSTER].db.bus
        send = issuer.publish

        async def killed_after_commit(message: Message) -> None:
            if message.get("kind") != "push":  # as if the process died right after committing the copy
                await send(message)

        issuer.publish = killed_after_commit  # type: ignore[method-assign]
        try:
            second: dict[str, Any] = await world.tenant.assign(home.system_id, sub["id"], 1)
        finally:
            issuer.publish = send  # type: ignore[method-assign]
        assert (await home.credits())["seq"] == 1 and (await world.system(home.system_id))["system"]["seq"] == 2

        await holder[CLUSTER].push_what_never_came()
        await home.link.wait_for_seq(2)
        assert await home.held_ids() == {first["id"], second["id"]}
        await world.wait_for_portal(home.system_id, lambda detail: detail["system"].get("seq") == 2)
        await world.check()
