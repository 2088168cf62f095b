"""``flex-cloud --workers N``: N cloud processes on one port and one PostgreSQL database, stopped together."""

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import pytest

from tests.kit.postgres import SessionPostgres

pytestmark = pytest.mark.slow  # real cloud processes

ROOT = Path(__file__).resolve().parents[2]


async def test_workers_share_one_port_and_stop_together_on_sigterm(tmp_path: Path, postgres: SessionPostgres) -> None:
    url = await postgres.fresh()
    ready = tmp_path / "ready.json"
    command = [sys.executable, "-m", "flex_emulator.cloud", "--database", url, "--data", str(tmp_path / "cloud")]
    with (tmp_path / "cloud.log").open("wb") as log:
        parent = subprocess.Popen(
            [*command, "--workers", "2", "--port", "0", "--ready-file", str(ready), "--emulator-api"],
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert parent.poll() is None and time.monotonic() < deadline, (tmp_path / "cloud.log").read_text()
            await asyncio.sleep(0.05)
        conn = await asyncpg.connect(url)
        try:
            processes = await conn.fetchval("SELECT COUNT(*) FROM cloud_processes")
        finally:
            await conn.close()
        assert processes == 2
        assert json.loads(ready.read_text())["url"].startswith("http://127.0.0.1:")
        jwks = json.loads((tmp_path / "cloud" / "jwks.json").read_text())
        assert jwks == json.loads((tmp_path / "cloud" / "worker-2" / "jwks.json").read_text())  # one key for both
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=30) == 0
        assert not ready.exists()
    finally:
        if parent.poll() is None:
            parent.kill()
        await postgres.drop(url)


def test_workers_without_a_database_are_refused_before_anything_starts(tmp_path: Path) -> None:
    answer = subprocess.run(
        [sys.executable, "-m", "flex_emulator.cloud", "--data", str(tmp_path / "cloud"), "--workers", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert answer.returncode == 2 and "--workers N (N > 1) needs --database" in answer.stderr
    assert not (tmp_path / "cloud").exists()


@pytest.mark.parametrize("url", ["sqlite:///x", "mysql://db/flex"])
def test_a_database_that_is_not_postgresql_is_refused(tmp_path: Path, url: str) -> None:
    answer = subprocess.run(
        [sys.executable, "-m", "flex_emulator.cloud", "--data", str(tmp_path), "--database", url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert answer.returncode == 2 and "--database must be a postgresql:// URL" in answer.stderr
