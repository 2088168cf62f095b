"""Real service processes for tests: a free loopback port, a service run as ``python -m`` and killed or stopped,
and the JSON API called on it."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Service:
    def __init__(self, name: str, args: list[str], port: int, log_dir: Path) -> None:
        self.name, self.args, self.port, self.log_dir = name, args, port, log_dir
        self.process: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{port}"

    async def start(self, http: aiohttp.ClientSession) -> None:
        log = open(self.log_dir / f"{self.name}.log", "ab")  # noqa: SIM115 (closed with the process)
        self.process = subprocess.Popen(
            [sys.executable, "-m", *self.args, "--port", str(self.port)], cwd=ROOT, stdout=log, stderr=log
        )
        log.close()
        for _ in range(300):
            try:
                async with http.get(f"{self.url}/healthz") as answer:
                    if answer.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
        raise AssertionError(f"{self.name} did not start; see {self.log_dir / (self.name + '.log')}")

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError(f"{self.name} did not stop within 15 s of SIGTERM") from None


async def api(
    http: aiohttp.ClientSession, method: str, url: str, token: str | None = None, json: Any = None
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with http.request(method, url, json=json, headers=headers) as answer:
        return answer.status, await answer.json()


async def invariant(http: aiohttp.ClientSession, cloud: Service) -> None:
    _, answer = await api(http, "GET", f"{cloud.url}/_emulator/invariant")
    assert answer == {"ok": True, "violations": []}, answer


def converged_view(detail: dict[str, Any], view: dict[str, Any]) -> bool:
    """Whether HOME (its credits ``view``) holds exactly the cloud's open assignments (the system's ``detail``), no
    revoke awaits proof, and the system is online."""
    open_ids = {item["id"] for item in detail["assignments"] if item["state"] == "active"}
    pending = [item for item in detail["assignments"] if item["state"] == "revoke_pending"]
    held = {entry["assignment_id"] for entry in view["entries"]}
    return not pending and held == open_ids and bool(detail["system"]["online"])
