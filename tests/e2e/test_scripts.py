"""scripts/run starts all three services and links them; the demo walks both flows; Ctrl-C stops all."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.kit import DEMO_ADMIN
from tests.kit.processes import free_port

pytestmark = pytest.mark.slow  # scripts/run and scripts/demo as real processes

ROOT = Path(__file__).resolve().parents[2]


def test_run_then_demo_then_ctrl_c_stops_everything(tmp_path: Path) -> None:
    cloud, studio, van = free_port(), free_port(), free_port()
    launcher = subprocess.Popen(
        [
            sys.executable,
            "scripts/launch.py",
            "--data",
            str(tmp_path / "run"),
            "--cloud-port",
            str(cloud),
            "--home-ports",
            f"{studio},{van}",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        banner = []
        assert launcher.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = launcher.stdout.readline()
            banner.append(line)
            if line.startswith("  State"):
                break
        text = "".join(banner)
        assert f"http://127.0.0.1:{cloud}/" in text and f"{DEMO_ADMIN[0]} / {DEMO_ADMIN[1]}" in text
        assert "'Studio A'" in text and "online" in text and "'OB Van 3'" in text and "disconnected" in text
        assert f"Inspector          http://127.0.0.1:{cloud}/_emulator/inspector" in text
        demo = subprocess.run(
            [
                sys.executable,
                "-m",
                "flex_emulator.cli",
                "demo",
                "--fast",
                "--cloud",
                f"http://127.0.0.1:{cloud}",
                "--studio",
                f"http://127.0.0.1:{studio}",
                "--van",
                f"http://127.0.0.1:{van}",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert demo.returncode == 0, demo.stderr
        tour = demo.stdout.splitlines()
        # One sentence per step, saying what to look at in the inspector; no raw event names or stray numbers.
        assert f"http://127.0.0.1:{cloud}/_emulator/inspector?system=home-" in tour[1]
        steps = [line for line in tour if re.match(r"^ ?\d+\. ", line)]
        assert len(steps) == 10 and all(line.rstrip().endswith(".") for line in steps), tour
        assert not re.search(r"\b(snapshot_issued|receipt_accepted|revoke_requested)\b", demo.stdout)
        assert "Studio A applied it and sent receipt 1 back" in steps[0]
        assert "returned 1.5 credits to SO-2026-00042" in steps[8] and "it returned nothing" in steps[9]
        assert "The clock is the wall clock, so the tour leaves out Auto Revoke" in demo.stdout
    finally:
        os.killpg(launcher.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        _, errors = launcher.communicate(timeout=30)
    # The launcher exits 0 only when every service exited 0 on its own (none was killed).
    assert launcher.returncode == 0, errors
    assert "Traceback" not in errors and "KeyboardInterrupt" not in errors
    leftovers = subprocess.run(["pgrep", "-f", f"--port {cloud}"], capture_output=True, text=True, check=False)
    assert leftovers.stdout.strip() == ""
