"""How long a test waits for its world, as a user's test builds it with flex_emulator's ``World``, one test
after another as the pytest plugin runs them: while a test ends, the next test's world is prepared
(``World.prepare``), and the next test's ``World.start`` takes it.

- ``world_start_ms``: from ``World.start`` to a fresh cloud, one account, one linked online HOME and its first
  credits visible on HOME (the world prepared while the test before ended);
- ``world_start_cpu_ms``: the processor time the whole process spent meanwhile (every thread: the test's and the
  services'); on a machine whose speed varies with its neighbours' load it moves with ``world_start_ms``, and
  the two being equal says the wait is work, not waiting;
- ``world_on_demand_ms``: the same when no world was prepared (a test whose marker asks for other settings);
- ``online_test_ms``: a whole online test, start to teardown (assign, settle, revoke, settle, the invariant, and
  the preparing of the next test's world, which runs during this one's teardown);
- ``dropped_message_ms``: in a running world, a revoke whose receipt is lost, settled (the cloud's re-push runs
  on the world's clock, so no real seconds pass);
- ``pair_start_ms`` / ``pair_cold_ms``: ``world_on_demand_ms`` as subprocesses (after the first / the first);
  a world of subprocesses is never prepared ahead.
"""

import itertools
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flex_emulator import World
from flex_emulator.inprocess import PreparedWorld
from flex_emulator.servers import Mode

PHASES = ("world_cloud_ms", "world_account_ms", "world_home_online_ms", "world_first_credits_ms")


class Session:
    """Worlds one after another as the pytest plugin gives them: each prepared while the one before ends (with
    ``ahead=False``, none is: each world starts when asked for)."""

    def __init__(self, root: Path, *, mode: Mode = "inprocess", ahead: bool = True) -> None:
        self.root = root
        self.mode = mode
        self.ahead = ahead and mode == "inprocess"
        self._numbers = itertools.count()
        self._prepared: PreparedWorld | None = None
        self._spent: list[Path] = []

    def _folder(self) -> Path:
        return self.root / f"world-{next(self._numbers)}"

    @contextmanager
    def world(self, *, check: bool) -> Iterator[World]:
        prepared, self._prepared = self._prepared, None
        folder = prepared.folder if prepared is not None else self._folder()
        self._spent.append(folder)
        with World.start(folder, mode=self.mode, check=False, prepared=prepared) as world:
            try:
                yield world
                if check:
                    world.check_invariant()
            finally:
                if self.ahead:
                    self._prepared = World.prepare(self._folder())

    def tidy(self) -> None:
        """Remove the folders of the worlds that ended, outside the figures, as a temporary folder would be."""
        for folder in self._spent:
            shutil.rmtree(folder)
        self._spent.clear()

    def close(self) -> None:
        if self._prepared is not None:
            self._prepared.discard()


def world_phases_ms(session: Session) -> dict[str, float]:
    """``world_start_ms`` in its steps: the cloud started (or taken, prepared), an account with a subscription,
    a HOME started (or taken), linked and online, and an assign settled and seen on HOME."""
    marks, cpu = [time.perf_counter()], time.process_time()
    with session.world(check=False) as world:
        marks.append(time.perf_counter())
        account = world.create_account(subscriptions=[8])
        marks.append(time.perf_counter())
        studio = world.start_home("Studio A", account=account)
        marks.append(time.perf_counter())
        account.assign(studio, 2)
        studio.settle()
        assert studio.credits()["total"] == 2
        marks.append(time.perf_counter())
        cpu = time.process_time() - cpu
    session.tidy()
    steps = {key: (marks[n + 1] - marks[n]) * 1000 for n, key in enumerate(PHASES)}
    return steps | {"world_start_ms": (marks[-1] - marks[0]) * 1000, "world_start_cpu_ms": cpu * 1000}


def online_test_ms(session: Session) -> float:
    """An online assign / settle / revoke / settle test, from its world's start to the end of its teardown."""
    began = time.perf_counter()
    with session.world(check=True) as world:  # the teardown checks the invariant
        account = world.create_account(subscriptions=[8])
        studio = world.start_home("Studio A", account=account)
        item = account.assign(studio, 2)
        studio.settle()
        assert studio.credits()["total"] == 2
        account.revoke(studio, item)
        studio.settle()
        assert studio.credits()["total"] == 0
    spent = (time.perf_counter() - began) * 1000
    session.tidy()
    return spent


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
    with tempfile.TemporaryDirectory() as folder:
        on_demand = Session(Path(folder) / "on-demand", ahead=False)
        world_phases_ms(on_demand)
        demand = [world_phases_ms(on_demand)["world_start_ms"] for _ in range(runs)]
        ahead = Session(Path(folder) / "ahead")
        try:
            world_phases_ms(ahead)
            phases = [world_phases_ms(ahead) for _ in range(runs)]
            whole = [online_test_ms(ahead) for _ in range(runs)]
        finally:
            ahead.close()
        with World.start(Path(folder) / "dropped") as world:
            dropped = [dropped_message_ms(world) for _ in range(runs)]
        pairs = Session(Path(folder) / "pairs", mode="subprocess")
        cold = world_phases_ms(pairs)["world_start_ms"]
        subprocess = [world_phases_ms(pairs)["world_start_ms"] for _ in range(max(1, runs // 2))]
    return {
        "world_start_ms": round(statistics.median(run["world_start_ms"] for run in phases), 1),
        "world_start_cpu_ms": round(statistics.median(run["world_start_cpu_ms"] for run in phases), 1),
        **{key: round(statistics.median(run[key] for run in phases), 1) for key in PHASES},
        "world_on_demand_ms": round(statistics.median(demand), 1),
        "online_test_ms": round(statistics.median(whole), 1),
        "dropped_message_ms": round(statistics.median(dropped), 1),
        "pair_start_ms": round(statistics.median(subprocess), 1),
        "pair_cold_ms": round(cold, 1),
    }


if __name__ == "__main__":
    print(bench_world_start(10))
