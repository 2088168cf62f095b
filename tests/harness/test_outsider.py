"""The issue's "done when": an outsider's suite of some twenty tests of their own licensing client (online,
disconnected, expiry, Auto Revoke, every bad file, link faults, HTTP faults on their client's calls, a stopped
cloud, restarts, subprocess mode) runs green under ``pytest -n 2`` with the installed package and no support
code beyond building their client from the world's connection details (tests/harness/outsider/)."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

OUTSIDER = Path(__file__).resolve().parent / "outsider"
pytestmark = pytest.mark.slow  # pytest in a subprocess, with two workers and a world of subprocesses


def test_an_outsiders_suite_runs_green_in_two_workers(tmp_path: Path) -> None:
    project = tmp_path / "their-project"
    project.mkdir()
    shutil.copyfile(OUTSIDER / "licensing_client.py", project / "licensing_client.py")
    shutil.copyfile(OUTSIDER / "project_conftest.py", project / "conftest.py")
    shutil.copyfile(OUTSIDER / "project_tests.py", project / "test_licensing.py")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "PYTHONPATH"))}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "-q", "-p", "no:cacheprovider", "--rootdir", str(project)],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    passed = re.search(r"(\d+) passed", result.stdout)
    assert passed and int(passed.group(1)) >= 20, result.stdout[-3000:]
    assert "failed" not in result.stdout and "error" not in result.stdout.lower().split("passed")[-1]
