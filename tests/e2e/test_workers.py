"""``flex-cloud --workers N``: N cloud processes on one port and one PostgreSQL database, stopped together."""

import asyncio
import json
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from flex_emulator.shared.timefmt import iso, parse_iso
from flex_emulator.shared.tokens import sign_registration
from tests.kit.postgres import SessionPostgres
from tests.kit.processes import Service, api, free_port, invariant

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


async def test_the_virtual_clock_moved_through_one_process_moves_for_all_and_runs_due_work_once(
    tmp_path: Path, postgres: SessionPostgres
) -> None:
    url = await postgres.fresh()
    processes = [
        Service(
            f"cloud-{name}",
            [
                "flex_emulator.cloud",
                "--database",
                url,
                "--data",
                str(tmp_path / name),
                "--emulator-api",
                "--virtual-clock",
            ],
            free_port(),
            tmp_path,
        )
        for name in "ab"
    ]
    async with aiohttp.ClientSession() as http:
        try:
            for process in processes:
                await process.start(http)
            a, b = (process.url for process in processes)
            _, made = await api(
                http,
                "POST",
                f"{a}/_emulator/accounts",
                json={"name": "Clock", "admin": {"email": "a@clock.test", "password": "clock test pw"}},
            )
            account, token = made["account"]["id"], made["token"]
            _, sub = await api(
                http,
                "POST",
                f"{b}/_emulator/accounts/{account}/subscriptions",
                json={"duration": "annual", "credits": 10, "state": "active"},
            )
            system = await linked_offline_system(http, a, account, token)
            _, now = await api(http, "GET", f"{b}/_emulator/clock")
            ends = iso(parse_iso(now["now"]) + timedelta(hours=1))
            status, item = await api(
                http,
                "POST",
                f"{b}/api/v1/accounts/{account}/systems/{system}/assignments",
                token,
                {"subscription_id": sub["subscription"]["id"], "credits": 2, "auto_revoke_at": ends},
            )
            assert status == 201, item
            moves = [api(http, "POST", f"{url_}/_emulator/clock", json={"advance_seconds": 7200}) for url_ in (a, b)]
            await asyncio.gather(*moves)  # both at once: one runs the Auto Revoke, the other finds it done
            clocks = [(await api(http, "GET", f"{url_}/_emulator/clock"))[1]["now"] for url_ in (a, b)]
            assert clocks[0] == clocks[1] and parse_iso(clocks[0]) >= parse_iso(now["now"]) + timedelta(hours=2)
            _, detail = await api(http, "GET", f"{a}/api/v1/accounts/{account}/systems/{system}", token)
            assert [entry["state"] for entry in detail["assignments"]] == ["ended"]
            _, events = await api(http, "GET", f"{b}/_emulator/events?limit=1000")
            returned = [event for event in events["events"] if event["kind"] == "returned"]
            assert len(returned) == 1 and returned[0]["assignment_id"] == item["assignment"]["id"]
            for process in processes:
                await invariant(http, process)
        finally:
            for process in processes:
                process.stop()
            await postgres.drop(url)


async def linked_offline_system(http: aiohttp.ClientSession, cloud: str, account: str, token: str) -> str:
    """A system linked by a registration code signed here, whose HOME never connects."""
    code = sign_registration(Ed25519PrivateKey.generate(), "OB Van 3")
    status, system = await api(
        http, "POST", f"{cloud}/api/v1/accounts/{account}/systems", token, {"registration_code": code}
    )
    assert status == 201, system
    return str(system["system"]["id"])
