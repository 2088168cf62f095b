"""``scripts/test --fast`` stays fast: a test module that starts real processes marks those tests ``slow``."""

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
# What starts a process here: a service or script by Popen or asyncio, pytest in a subprocess, a subprocess world.
STARTS_A_PROCESS = re.compile(r"subprocess\.Popen|create_subprocess_exec|runpytest_subprocess|Subprocesses\(")


def test_every_module_that_starts_processes_marks_them_slow() -> None:
    starting = [path for path in TESTS.rglob("test_*.py") if STARTS_A_PROCESS.search(path.read_text())]
    assert len(starting) > 5, starting  # the rule has modules to check
    unmarked = [str(path.relative_to(TESTS)) for path in starting if "pytest.mark.slow" not in path.read_text()]
    assert not unmarked, f"these start processes without marking the tests that do @pytest.mark.slow: {unmarked}"
