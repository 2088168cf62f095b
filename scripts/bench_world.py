"""How long a test waits for its world, as a user's test builds it with flex_emulator's ``World``:

- ``world_start_ms``: a fresh cloud, one account, one linked online HOME and its first credits visible on HOME;
- ``online_test_ms``: a whole online test, start to teardown (assign, settle, revoke, settle, the invariant);
- ``dropped_message_ms``: in a running world, a revoke whose receipt is lost, settled (the cloud's re-push runs
  on the world's clock, so no real seconds pass);
- ``pair_start_ms`` / ``pair_cold_ms``: ``world_start_ms`` as subprocesses (after the first / the first).
"""

import statistics
import tempfile
import time
from pathlib import Path

from flex_emulator import World
from flex_emulator.servers import Mode

PHASES = ("world_cloud_ms", "world_account_ms", "world_home_online_ms", "world_first_credits_ms")


def world_phases_ms(mode: Mode) -> dict[str, float]:
    """``world_start_ms`` in its steps: the cloud started, an account with a subscription, a HOME started, linked
    and online, and an assign settled and seen on HOME."""
    with tempfile.TemporaryDirectory() as folder:
        marks = [time.perf_counter()]
        with World.start(Path(folder), mode=mode, check=False) as world:
            marks.append(time.perf_counter())
            account = world.create_account(subscriptions=[8])
            marks.append(time.perf_counter())
            studio = world.start_home("Studio A", account=account)
            marks.append(time.perf_counter())
            account.assign(studio, 2)
            studio.settle()
            assert studio.credits()["total"] == 2
            marks.append(time.perf_counter())
    steps = {key: (marks[n + 1] - marks[n]) * 1000 for n, key in enumerate(PHASES)}
    return steps | {"world_start_ms": (marks[-1] - marks[0]) * 1000}


def world_to_first_credits_ms(mode: Mode) -> float:
    return world_phases_ms(mode)["world_start_ms"]


def online_test_ms() -> float:
    """An online assign / settle / revoke / settle test, from its world's start to the end of its teardown."""
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        with World.start(Path(folder)) as world:  # check=True: the teardown checks the invariant
            account = world.create_account(subscriptions=[8])
            studio = world.start_home("Studio A", account=account)
            item = account.assign(studio, 2)
            studio.settle()
            assert studio.credits()["total"] == 2
            account.revoke(studio, item)
            studio.settle()
            assert studio.credits()["total"] == 0
        return (time.perf_counter() - began) * 1000


def dropped_message_ms(world: World) -> float:
    account = world.create_account(subscriptions=[8])
    studio = world.start_home("Studio A", account=account)
    item = account.assign(studio, 2)
    studio.settle()
    began = time.perf_counter()
    studio.set_link_faults(drop_next="receipt")
    assert account.revoke(studio, item)["state"] == "revoke_pending"
    studio.settle()
    assert account.assignments(studio)[0]["state"] == "ended"
    return (time.perf_counter() - began) * 1000


def bench_world_start(runs: int) -> dict[str, float]:
    """The figures above, medians of ``runs`` (the first in-process world warms imports and the session's
    templates and is not counted)."""
    world_to_first_credits_ms("inprocess")
    phases = [world_phases_ms("inprocess") for _ in range(runs)]
    inprocess = [run["world_start_ms"] for run in phases]
    whole = [online_test_ms() for _ in range(runs)]
    with tempfile.TemporaryDirectory() as folder, World.start(Path(folder)) as world:
        dropped = [dropped_message_ms(world) for _ in range(runs)]
    cold = world_to_first_credits_ms("subprocess")
    subprocess = [world_to_first_credits_ms("subprocess") for _ in range(max(1, runs // 2))]
    return {
        "world_start_ms": round(statistics.median(inprocess), 1),
        **{key: round(statistics.median(run[key] for run in phases), 1) for key in PHASES},
        "online_test_ms": round(statistics.median(whole), 1),
        "dropped_message_ms": round(statistics.median(dropped), 1),
        "pair_start_ms": round(statistics.median(subprocess), 1),
        "pair_cold_ms": round(cold, 1),
    }


if __name__ == "__main__":
    print(bench_world_start(10))
