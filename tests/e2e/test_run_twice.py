"""A second scripts/run says what is already running (addresses, pid, state folder) and starts nothing."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.kit.processes import free_port

pytestmark = pytest.mark.slow  # scripts/run as real processes

ROOT = Path(__file__).resolve().parents[2]


def launch(data: Path, cloud: int, homes: tuple[int, int], *extra: str) -> list[str]:
    return [
        sys.executable,
        "scripts/launch.py",
        "--data",
        str(data),
        "--cloud-port",
        str(cloud),
        "--home-ports",
        f"{homes[0]},{homes[1]}",
        *extra,
    ]


def run_second(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)


def test_a_second_run_names_what_is_running_and_starts_nothing(tmp_path: Path) -> None:
    cloud, studio, van = free_port(), free_port(), free_port()
    first = subprocess.Popen(
        launch(tmp_path / "run", cloud, (studio, van)),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        assert first.stdout is not None
        deadline = time.monotonic() + 60
        while not first.stdout.readline().startswith("  State"):
            assert time.monotonic() < deadline and first.poll() is None, "the first run did not start"
        addresses = [f"http://127.0.0.1:{port}/" for port in (cloud, studio, van)]
        state = sorted(path.name for path in (tmp_path / "run").iterdir())

        # The same state folder (even with --fresh: nothing is deleted), on other ports.
        same = run_second(launch(tmp_path / "run", free_port(), (free_port(), free_port()), "--fresh"))
        assert same.returncode == 2 and "is running" not in same.stdout, same
        assert "already running" in same.stderr and f"pid {first.pid}" in same.stderr
        assert str(tmp_path / "run") in same.stderr and all(url in same.stderr for url in addresses)
        assert sorted(path.name for path in (tmp_path / "run").iterdir()) == state
        # flex-emulator up (what scripts/run runs, for an installed package) says the same.
        up = run_second([sys.executable, "-m", "flex_emulator.cli", "up", "--data", str(tmp_path / "run"), "--fresh"])
        assert up.returncode == 2 and up.stderr.startswith("flex-emulator up: flex-emulator is already running"), up
        assert f"pid {first.pid}" in up.stderr and all(url in up.stderr for url in addresses)
        assert sorted(path.name for path in (tmp_path / "run").iterdir()) == state

        # A sibling state folder (as var/run-virtual beside var/run) on the same ports: nothing created.
        sibling = run_second(launch(tmp_path / "run-virtual", cloud, (studio, van), "--virtual-clock"))
        assert sibling.returncode == 2 and "is running" not in sibling.stdout, sibling
        assert f"port {cloud}" in sibling.stderr and f"pid {first.pid}" in sibling.stderr
        assert str(tmp_path / "run") in sibling.stderr and "Traceback" not in sibling.stderr
        assert not (tmp_path / "run-virtual").exists()

        # A port some other program holds.
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            other = run_second(launch(tmp_path / "other", free_port(), (port, free_port())))
        assert other.returncode == 2 and f"port {port}" in other.stderr and "another program" in other.stderr
        assert len(other.stderr.strip().splitlines()) == 1 and not (tmp_path / "other").exists()

        with urllib.request.urlopen(f"http://127.0.0.1:{cloud}/healthz", timeout=5) as answer:
            assert answer.status == 200 and first.poll() is None
    finally:
        os.killpg(first.pid, signal.SIGINT)
        first.communicate(timeout=30)
    assert first.returncode == 0
