"""The targets of ``scripts/bench``, under the keys docs/performance.md and ``--json`` use, and the verdict on a run.

A target is the product's word for how fast something must be (docs/performance.md says where each comes from
and why some are not met); a figure of a run is judged against it in the run's own terms, a ratio to the
primitives measured in that run where the target is a ratio."""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Target:
    key: str
    limit: float
    at_most: bool  # the figure must be at most the limit (a time, a ratio) or at least it (a count, a share)
    unit: str = ""
    full_size: bool = False  # only a full run measures at the target's size (--quick and --links shrink it)

    def text(self) -> str:
        return f"{'≤' if self.at_most else '≥'} {self.limit:,g}{self.unit}"

    def met(self, value: float) -> bool:
        return value <= self.limit if self.at_most else value >= self.limit


TARGETS = (
    Target("assign_visible_p50_x_bound", 3, at_most=True, unit="×"),
    Target("assign_visible_p99_x_bound", 10, at_most=True, unit="×"),
    Target("assign_cost_ratio_1000_vs_10", 2, at_most=True, unit="×"),
    Target("assigns_share_of_bare", 0.25, at_most=False),
    Target("file_1000_roundtrip_ms", 50, at_most=True, unit=" ms"),
    Target("due_items_100k_s", 5, at_most=True, unit=" s"),
    Target("links_connected", 10_000, at_most=False, full_size=True),
    Target("link_rss_kb_each", 20, at_most=True, unit=" KB"),
    # a world of the harness (scripts/bench --only world): a test's wait for its world, and a whole online test
    Target("world_start_ms", 10, at_most=True, unit=" ms"),
    Target("online_test_ms", 50, at_most=True, unit=" ms"),
    Target("dropped_message_ms", 100, at_most=True, unit=" ms"),
    # the cloud on PostgreSQL (scripts/bench --only postgres): an online assign within 2× of SQLite's, measured in
    # the same run, and a change through one process seen on a HOME linked to another within 5 ms more
    Target("pg_vs_sqlite_assign_p50", 2, at_most=True, unit="×"),
    Target("pg_other_process_extra_p50_ms", 5, at_most=True, unit=" ms"),
)


@dataclass(frozen=True)
class Verdict:
    key: str
    value: float
    target: str
    met: bool | None  # None: this run did not measure at the target's size

    def line(self) -> str:
        word = "met" if self.met else ("not met" if self.met is False else "not judged (a quick run)")
        return f"{self.key:<30} {self.value!s:>10}   {self.target:<12} {word}"

    def json(self) -> dict[str, Any]:
        return {"value": self.value, "target": self.target, "met": self.met}


def judge(figures: dict[str, Any], quick: bool) -> list[Verdict]:
    """A verdict for each target whose key this run measured, in the order of TARGETS."""
    return [
        Verdict(
            target.key,
            figures[target.key],
            target.text(),
            None if quick and target.full_size else target.met(figures[target.key]),
        )
        for target in TARGETS
        if isinstance(figures.get(target.key), int | float)
    ]
