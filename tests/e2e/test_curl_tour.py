"""The tour's shell blocks (docs/tour.md) run as written, top to bottom in one shell, against ``scripts/run`` on
free ports, in a temporary folder of their own."""

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.kit.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
TOUR = ROOT / "docs" / "tour.md"
# The first block's first line; the test swaps in its own ports there and nowhere else.
ADDRESSES = "CLOUD=http://127.0.0.1:8700 STUDIO=http://127.0.0.1:8801 OBVAN=http://127.0.0.1:8802"


def shell_blocks() -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", TOUR.read_text(), re.DOTALL | re.MULTILINE)


@contextmanager
def scripts_run(data: Path, *extra: str) -> Iterator[str]:
    """``scripts/run`` (its launcher, in this venv) on free ports; answers the first line with those ports."""
    cloud, studio, van = free_port(), free_port(), free_port()
    launcher = subprocess.Popen(
        [
            sys.executable,
            "scripts/launch.py",
            "--data",
            str(data),
            "--cloud-port",
            str(cloud),
            "--home-ports",
            f"{studio},{van}",
            *extra,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        assert launcher.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not launcher.stdout.readline().startswith("  State"):
            assert launcher.poll() is None, "scripts/run stopped during start-up"
        yield f"CLOUD=http://127.0.0.1:{cloud} STUDIO=http://127.0.0.1:{studio} OBVAN=http://127.0.0.1:{van}"
    finally:
        os.killpg(launcher.pid, signal.SIGINT)
        launcher.communicate(timeout=30)


FAULTS_MARK = "--- bad files from here ---"


def run_in_one_shell(script: str, folder: Path) -> str:
    """Run ``script`` from ``folder`` (its temporary folders made there too); no answer may be an error, except
    after FAULTS_MARK (the bad files HOME must refuse)."""
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=folder,
        env={**os.environ, "TMPDIR": str(folder)},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    output = done.stdout
    assert '"error"' not in output.split(FAULTS_MARK)[0] + done.stderr, output + done.stderr
    return output + done.stderr


def test_every_tour_shell_block_uses_the_addresses_of_the_first_line() -> None:
    blocks = shell_blocks()
    assert blocks[0].splitlines()[0] == ADDRESSES
    rest = "\n".join(blocks)[len(ADDRESSES) :]
    assert not re.search(r"127\.0\.0\.1|localhost|:8[78]\d\d", rest), (
        "a block names an address instead of $CLOUD, $STUDIO or $OBVAN"
    )
    assert all(
        " -s " in line
        for block in blocks
        for line in block.splitlines()
        if line.lstrip().startswith("curl") or "$(curl" in line
    )


@pytest.mark.slow  # scripts/run as real processes
def test_tour_shell_blocks_run_as_written_against_scripts_run_in_a_folder_of_their_own(tmp_path: Path) -> None:
    blocks = shell_blocks()
    walk = [block for block in blocks if "_emulator/clock" not in block and "credits-file?fault" not in block]
    clock = [block for block in blocks if "_emulator/clock" in block]
    [bad_files] = [block for block in blocks if "credits-file?fault" in block]
    assert len(walk) >= 3 and len(clock) == 1

    where = tmp_path / "shell"  # where the reader's shell is: their checkout, say
    where.mkdir()
    with scripts_run(tmp_path / "run") as addresses:
        script = "\n".join([*walk, f"echo '{FAULTS_MARK}'", bad_files]).replace(ADDRESSES, addresses, 1)
        output = run_in_one_shell("set -eu\n" + script, where)
    assert not list(where.glob("*.jwt")), "the tour wrote its files into the reader's folder"
    assert {path.name for path in where.glob("*/*.jwt")} == {"credits.jwt", "newer.jwt", "bad.jwt"}
    assert '"end_reason": "revoked"' in output  # the online revoke ended at once
    assert '"state": "revoke_pending"' in output and '"steps": [' in output
    assert '"credits_returned": 1.5' in output and '"credits_returned": 0' in output
    assert '"enabled": false, "state": "disabled"' in output and '"enabled": true' in output
    link_faults, refusals = output.split(FAULTS_MARK)
    assert link_faults.count('"result": "applied"') == 2
    assert '"kind": "fault_dropped"' in link_faults and '"kind": "fault_duplicated"' in link_faults
    assert '"kind": "link_refused"' in link_faults or '"kind": "link_down"' in link_faults
    codes = re.findall(r'"error": {"code": "(\w+)"', refusals)
    assert codes == [
        "expired",
        "clock_skew",
        "stale",
        "bad_signature",
        "wrong_system",
        "bad_signature",
        "bad_signature",
        "malformed",
    ]

    with scripts_run(tmp_path / "virtual", "--virtual-clock") as addresses:
        output = run_in_one_shell("set -eu\n" + addresses + "\n" + clock[0], tmp_path)
    assert '"virtual": true' in output and '"ok": true' in output
    assert "\n{" in output  # each JSON answer ends with a newline, so the next starts on a line of its own


@pytest.mark.slow  # scripts/run as real processes
def test_scripts_run_refuses_state_made_with_the_other_clock(tmp_path: Path) -> None:
    data = tmp_path / "run"
    data.mkdir()
    (data / "clock-mode").write_text("virtual\n")
    done = subprocess.run(
        [
            sys.executable,
            "scripts/launch.py",
            "--data",
            str(data),
            "--cloud-port",
            str(free_port()),
            "--home-ports",
            f"{free_port()},{free_port()}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode != 0
    assert "made with --virtual-clock" in done.stderr and "--fresh" in done.stderr
