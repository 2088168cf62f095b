"""Every timer of a world follows its clock: a lost copy is pushed again when the clock reaches the re-push
(2 s of virtual time), not after seconds of the machine's, so a dropped-message test settles at once."""

from datetime import timedelta
from pathlib import Path

import pytest

from flex_emulator import World
from flex_emulator.servers import Mode


def pushes(world: World, system_id: str) -> list[tuple[str, bool]]:
    return [
        (event["at"], bool(event.get("resent")))
        for event in world.events(kind="snapshot_pushed")
        if event["system_id"] == system_id
    ]


def test_a_dropped_copy_is_pushed_again_when_the_clock_reaches_the_re_push(flex_world: World) -> None:
    account = flex_world.create_account(subscriptions=[8])
    studio = flex_world.start_home("Studio A", account=account)
    start = flex_world.now()
    studio.set_link_faults(drop_next="snapshot")
    item = account.assign(studio, 2)
    flex_world.advance(seconds=1, settle=False)
    assert studio.credits()["total"] == 0  # lost, and its re-push is due 2 s after the push, by the world's clock
    flex_world.advance(seconds=1)  # now it is due: pushed again, applied, acknowledged
    assert studio.credits()["entries"][0]["assignment_id"] == item["id"]
    assert [resent for _, resent in pushes(flex_world, studio.system_id)] == [False, True]
    assert pushes(flex_world, studio.system_id)[-1][0] == (start + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("mode", ["inprocess", pytest.param("subprocess", marks=pytest.mark.slow)])
def test_settle_runs_the_clock_on_to_the_re_push_after_a_lost_receipt(tmp_path: Path, mode: Mode) -> None:
    with World.start(tmp_path / "world", mode=mode) as world:
        account = world.create_account(subscriptions=[8])
        studio = world.start_home("Studio A", account=account)
        item = account.assign(studio, 2)
        studio.settle()
        studio.set_link_faults(drop_next="receipt")
        before = world.now()
        assert account.revoke(studio, item)["state"] == "revoke_pending"  # answered at once: the proof was lost
        studio.settle()  # the clock runs on to the re-push; HOME answers it with its receipt again
        assert account.assignments(studio)[0]["state"] == "ended"
        assert account.subscription()["credits_available"] == 8
        assert (world.now() - before).total_seconds() == 2
