"""The same world from an async test, and as real subprocesses."""

import pytest

from flex_emulator import AsyncWorld, World


async def test_async_world_reads_the_journal(async_flex_world: AsyncWorld) -> None:
    account = await async_flex_world.create_account(subscriptions=[8])
    studio = await async_flex_world.start_home("Studio A", account=account)
    await account.assign(studio, 1)
    await studio.settle()
    assert (await studio.credits())["total"] == 1
    state = await async_flex_world.cloud.dump_state()  # the whole cloud, to restore later with restore_state
    assert state["format"] == "flex-emulator/state"


@pytest.mark.flex_world(mode="subprocess")
def test_subprocess_world_has_the_same_interface(flex_world: World) -> None:
    account = flex_world.create_account(subscriptions=[8])
    studio = flex_world.start_home("Studio A", account=account)
    account.assign(studio, 2)
    studio.settle()
    assert studio.credits()["total"] == 2
    flex_world.advance(days=2)
    assert studio.credits()["total"] == 2
