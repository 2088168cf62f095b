"""How long a test waits for its world: a fresh cloud, one account, one linked online HOME and its
first credits visible on HOME (flex_emulator's ``World``, as a user's test builds it)."""

import statistics
import tempfile
import time
from pathlib import Path

from flex_emulator import World
from flex_emulator.servers import Mode


def world_to_first_credits_ms(mode: Mode) -> float:
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        with World.start(Path(folder), mode=mode, check=False) as world:
            account = world.create_account(subscriptions=[8])
            studio = world.start_home("Studio A", account=account)
            account.assign(studio, 2)
            studio.settle()
            assert studio.credits()["total"] == 2
            elapsed = time.perf_counter() - began
    return elapsed * 1000


def bench_world_start(runs: int) -> dict[str, float]:
    """Milliseconds from nothing to first credits on HOME. ``world_start_ms``: in-process, median (the
    first run warms imports and is not counted). ``pair_start_ms``: as subprocesses, median of the runs
    after the first; ``pair_cold_ms``: the first, which also starts the session's fork server."""
    world_to_first_credits_ms("inprocess")
    inprocess = [world_to_first_credits_ms("inprocess") for _ in range(runs)]
    cold = world_to_first_credits_ms("subprocess")
    subprocess = [world_to_first_credits_ms("subprocess") for _ in range(max(1, runs // 2))]
    return {
        "world_start_ms": round(statistics.median(inprocess), 1),
        "pair_start_ms": round(statistics.median(subprocess), 1),
        "pair_cold_ms": round(cold, 1),
    }


if __name__ == "__main__":
    print(bench_world_start(10))
