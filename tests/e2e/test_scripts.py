"""scripts/run starts all three services and links them; the demo walks both flows; Ctrl-C stops all."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.kit import DEMO_ADMIN
from tests.kit.processes import free_port

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
        demo = subprocess.run(
            [
                sys.executable,
                "scripts/demo.py",
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
        assert "Studio A: Online" in demo.stdout and "OB Van 3: Offline" in demo.stdout
        assert '"credits_returned": 1.5' in demo.stdout and '"credits_returned": 0' in demo.stdout
    finally:
        os.killpg(launcher.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        _, errors = launcher.communicate(timeout=30)
    # The launcher exits 0 only when every service exited 0 on its own (none was killed).
    assert launcher.returncode == 0, errors
    assert "Traceback" not in errors and "KeyboardInterrupt" not in errors
    leftovers = subprocess.run(["pgrep", "-f", f"--port {cloud}"], capture_output=True, text=True, check=False)
    assert leftovers.stdout.strip() == ""
