"""One process per data folder, and a port in use: a clear line on stderr, exit status 2, nothing changed."""

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.kit.processes import free_port

pytestmark = pytest.mark.slow  # real service processes

SERVICES = {
    "cloud": ["-m", "flex_emulator.cloud", "--emulator-api", "--virtual-clock"],
    "home": ["-m", "flex_emulator.home", "--offline", "--virtual-clock", "--cloud-url", "http://127.0.0.1:9"],
    "fleet": [
        "-m",
        "flex_emulator.home.fleet",
        "--count",
        "2",
        "--offline",
        "--virtual-clock",
        "--cloud-url",
        "http://127.0.0.1:9",
    ],
}


def start(service: str, data: Path, ready: Path) -> subprocess.Popen[bytes]:
    log = ready.with_suffix(".log")
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, *SERVICES[service], "--data", str(data), "--port", "0", "--ready-file", str(ready)],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while not ready.exists():
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "no ready file"
        time.sleep(0.02)
    return process


def run_once(service: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *SERVICES[service], *args], capture_output=True, text=True, timeout=30, check=False
    )


def folder_state(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime_ns) for path in folder.rglob("*")}


@pytest.mark.parametrize("service", ["cloud", "home", "fleet"])
def test_a_second_process_on_a_data_folder_in_use_exits_2_naming_the_folder_and_holder(
    service: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    holder = start(service, data, tmp_path / "ready.json")
    try:
        pid = json.loads((tmp_path / "ready.json").read_text())["pid"]
        before = folder_state(data)
        second = run_once(service, "--data", str(data), "--port", "0", "--ready-file", str(tmp_path / "second.json"))
        assert second.returncode == 2, second.stderr
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1 and str(data) in lines[0] and str(pid) in lines[0] and "in use" in lines[0], lines
        assert folder_state(data) == before and not (tmp_path / "second.json").exists()
        assert holder.poll() is None
        # The holder dies without a goodbye: the OS lets go of the folder, so a restart is not blocked.
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        (tmp_path / "ready.json").unlink()
        holder = start(service, data, tmp_path / "ready.json")
    finally:
        holder.send_signal(signal.SIGTERM)
        holder.wait(timeout=15)


@pytest.mark.parametrize("service", ["cloud", "home", "fleet"])
def test_a_port_in_use_is_one_line_exit_2_and_creates_nothing(service: str, tmp_path: Path) -> None:
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        answer = run_once(service, "--data", str(tmp_path / "data"), "--port", str(port))
    assert answer.returncode == 2, answer.stderr
    lines = answer.stderr.strip().splitlines()
    assert len(lines) == 1 and f"port {port}" in lines[0] and "Traceback" not in answer.stderr, lines
    assert not (tmp_path / "data").exists()
