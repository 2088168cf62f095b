"""``--port 0`` and ``--ready-file``: each service picks a free port and says where it listens."""

import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # real service processes


def start(args: list[str], ready: Path) -> tuple[subprocess.Popen[bytes], dict[str, object]]:
    process = subprocess.Popen(
        [sys.executable, *args, "--port", "0", "--ready-file", str(ready)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 20
    while not ready.exists():
        assert process.poll() is None, process.stdout.read() if process.stdout else b""
        assert time.monotonic() < deadline, "no ready file"
        time.sleep(0.02)
    return process, json.loads(ready.read_text())


def stop(process: subprocess.Popen[bytes]) -> bytes:
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=15)
    assert process.returncode == 0, output
    return output


def test_cloud_and_home_on_free_ports_write_their_url_and_pid_once_ready(tmp_path: Path) -> None:
    cloud, cloud_ready = start(
        ["-m", "flex_emulator.cloud", "--data", str(tmp_path / "cloud"), "--emulator-api"], tmp_path / "cloud.json"
    )
    try:
        assert (
            cloud_ready["pid"] == cloud.pid
            and isinstance(cloud_ready["url"], str)
            and ":8700" not in cloud_ready["url"]
        )
        with urllib.request.urlopen(f"{cloud_ready['url']}/healthz", timeout=5) as answer:
            assert json.loads(answer.read()) == {"status": "ok"}
        home, home_ready = start(
            [
                "-m",
                "flex_emulator.home",
                "--data",
                str(tmp_path / "home"),
                "--cloud-url",
                str(cloud_ready["url"]),
                "--offline",
            ],
            tmp_path / "home.json",
        )
        assert home_ready["pid"] == home.pid and home_ready["url"] != cloud_ready["url"]
        with urllib.request.urlopen(f"{home_ready['url']}/api/v1/system", timeout=5) as answer:
            assert json.loads(answer.read())["cloud"]["state"] == "disabled"
        home_log = stop(home)
    finally:
        cloud_log = stop(cloud)
    for output, ready in ((cloud_log, cloud_ready), (home_log, home_ready)):
        assert output.count(b"listening") == 1 and str(ready["url"]).encode() in output
    assert not (tmp_path / "cloud.json").exists()
