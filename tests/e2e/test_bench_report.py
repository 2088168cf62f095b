"""scripts/bench prints each figure beside its target and whether it is met, under the key names the docs and
``--json`` use."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.bench_targets import TARGETS, judge

ROOT = Path(__file__).resolve().parents[2]


def test_each_target_is_judged_in_its_direction_under_its_key() -> None:
    figures = {
        "file_1000_roundtrip_ms": 33.0,  # at most 50: met
        "due_items_100k_s": 6.2,  # at most 5: not met
        "assigns_share_of_bare": 0.046,  # at least 0.25: not met
        "links_connected": 10_000,  # at least 10,000: met
    }
    verdicts = {verdict.key: verdict for verdict in judge(figures, quick=False)}
    assert set(verdicts) == set(figures)
    assert verdicts["file_1000_roundtrip_ms"].met is True and verdicts["due_items_100k_s"].met is False
    assert verdicts["assigns_share_of_bare"].met is False and verdicts["links_connected"].met is True
    assert verdicts["file_1000_roundtrip_ms"].line().split()[:2] == ["file_1000_roundtrip_ms", "33.0"]
    assert "≤ 50" in verdicts["file_1000_roundtrip_ms"].line()
    assert verdicts["due_items_100k_s"].line().endswith("not met")
    # A quick run's links are far fewer than the target's: it is not judged as if it were the target's size.
    assert judge({"links_connected": 300}, quick=True)[0].met is None


def test_every_target_names_a_key_the_performance_notes_use() -> None:
    notes = (ROOT / "docs" / "performance.md").read_text()
    assert all(f"`{target.key}`" in notes for target in TARGETS), [t.key for t in TARGETS if f"`{t.key}`" not in notes]


@pytest.mark.slow  # a real benchmark part: servers, a 1,000-entry credits file
def test_a_run_prints_its_figures_beside_their_targets_and_json_carries_the_verdicts() -> None:
    run = subprocess.run(
        [sys.executable, "scripts/bench.py", "--quick", "--only", "file", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    lines = run.stdout.splitlines()
    figures = json.loads(lines[-1])
    line = next(line for line in lines if line.strip().startswith("file_1000_roundtrip_ms"))
    assert re.search(rf"file_1000_roundtrip_ms\s+{figures['file_1000_roundtrip_ms']}\s+≤ 50 ms\s+(met|not met)$", line)
    verdict = figures["targets"]["file_1000_roundtrip_ms"]
    assert verdict["value"] == figures["file_1000_roundtrip_ms"] and verdict["target"] == "≤ 50 ms"
    assert verdict["met"] == (figures["file_1000_roundtrip_ms"] <= 50)


@pytest.mark.slow  # real benchmark parts, at their small sizes
def test_every_part_of_the_bench_but_the_long_ones_runs_and_reports_its_figures() -> None:
    parts = ("primitives", "tokens", "api", "visible", "file", "month", "due", "world", "journal")
    run = subprocess.run(
        [sys.executable, "scripts/bench.py", "--quick", "--only", ",".join(parts), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    figures = json.loads(run.stdout.splitlines()[-1])
    for key in ("primitive_bound_ms", "assign_visible_p50_ms", "file_1000_roundtrip_ms", "month_100_items_s"):
        assert isinstance(figures[key], (int, float)), key
    assert figures[f"due_items_{figures['due_items']}_s"] > 0 and figures["world_start_ms"] > 0
    assert figures["journal_kept_after_burst"] == figures["journal_keep"]
