"""``flex-emulator up``, as someone who installed the package runs it: from any folder, no checkout."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.kit.processes import free_port

FLEX_EMULATOR = Path(sys.executable).with_name("flex-emulator")
pytestmark = pytest.mark.slow  # the command and the services it starts are processes


def test_up_runs_the_cloud_and_two_linked_homes_with_its_state_in_the_current_folder(tmp_path: Path) -> None:
    cloud, studio, van = free_port(), free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    process = subprocess.Popen(
        [str(FLEX_EMULATOR), "up", "--cloud-port", str(cloud), "--home-ports", f"{studio},{van}"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        lines = []
        deadline = time.monotonic() + 60
        while not (line := process.stdout.readline()).startswith("  State"):
            assert process.poll() is None and time.monotonic() < deadline, "".join(lines)
            lines.append(line)
        assert str(tmp_path / "flex-emulator-data" / "run") in line and "flex-emulator up --fresh" in line
        with urllib.request.urlopen(f"http://127.0.0.1:{studio}/api/v1/system", timeout=5) as answer:
            assert json.loads(answer.read())["cloud"]["state"] == "online"
        with urllib.request.urlopen(f"http://127.0.0.1:{van}/api/v1/system", timeout=5) as answer:
            assert json.loads(answer.read())["cloud"]["state"] == "disabled"
        assert (tmp_path / "flex-emulator-data" / "run" / "cloud" / "cloud.sqlite3").is_file()
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.communicate(timeout=30)
    assert process.returncode == 0


def test_without_a_command_it_says_what_is_missing_and_help_lists_up_and_demo() -> None:
    result = subprocess.run([str(FLEX_EMULATOR)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "COMMAND" in result.stderr
    listed = subprocess.run([str(FLEX_EMULATOR), "--help"], capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0 and "up " in listed.stdout and "demo" in listed.stdout
