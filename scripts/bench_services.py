"""Starting the real services as subprocesses for the bench (``--port 0`` and ``--ready-file``), and
the few cloud API calls the bench makes to set them up."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent


class Process:
    """A service started with ``--port 0 --ready-file``; ``url`` once it is ready."""

    def __init__(self, name: str, command: list[str], folder: Path) -> None:
        self.name = name
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.ready_file = folder / f"{name}.ready"
        self.ready_file.unlink(missing_ok=True)
        with (folder / f"{name}.log").open("ab") as log:
            self.process = subprocess.Popen(
                [*command, "--port", "0", "--ready-file", str(self.ready_file)], cwd=ROOT, stdout=log, stderr=log
            )
        self.url = ""

    @property
    def pid(self) -> int:
        return self.process.pid

    async def ready(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while not self.ready_file.exists():
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} stopped while starting (exit {self.process.returncode}); "
                    f"see {self.folder / self.name}.log"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{self.name} was not ready within {timeout:.0f} s; see {self.folder / self.name}.log"
                )
            await asyncio.sleep(0.01)
        self.url = json.loads(self.ready_file.read_text())["url"]
        return self.url

    def stop(self, timeout: float = 60) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def python(*module_args: str) -> list[str]:
    return [sys.executable, "-m", *module_args]


def cloud_process(folder: Path, database: str | None = None, workers: int = 1) -> Process:
    """A cloud process on SQLite in ``folder``, or on PostgreSQL at ``database`` (``workers`` processes on one port)."""
    command = python(
        "flex_emulator.cloud",
        "--data",
        str(folder / "data"),
        "--emulator-api",
        "--cheap-passwords",
        "--log-level",
        "warning",
        *(["--database", database] if database else []),
        *(["--workers", str(workers)] if workers > 1 else []),
    )
    return Process("cloud", command, folder)


def home_process(folder: Path, cloud_url: str) -> Process:
    return Process(
        "home",
        python(
            "flex_emulator.home", "--data", str(folder / "data"), "--cloud-url", cloud_url, "--log-level", "warning"
        ),
        folder,
    )


def fleet_process(folder: Path, cloud_url: str, count: int, token: str, *extra: str) -> Process:
    command = python(
        "flex_emulator.home.fleet",
        "--count",
        str(count),
        "--data",
        str(folder / "data"),
        "--cloud-url",
        cloud_url,
        "--link-token",
        token,
        *extra,
    )
    return Process("fleet", command, folder)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


async def api(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    token: str | None = None,
    body: Any = None,
    expect: int = 200,
    timeout: float = 300,
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with session.request(
        method, url, json=body, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)
    ) as answer:
        data = await answer.json(content_type=None)
        if answer.status != expect:
            raise RuntimeError(f"{method} {url} answered {answer.status}: {data}")
        return data


async def new_account(session: aiohttp.ClientSession, cloud: str, credits: int) -> tuple[str, str, str]:
    """An account, its admin's token and an active annual subscription with ``credits``."""
    made = await api(
        session,
        "POST",
        f"{cloud}/_emulator/accounts",
        body={"name": "Bench", "admin": {"email": "bench@example.com", "password": "bench bench"}},
        expect=201,
    )
    account, token = made["account"]["id"], made["token"]
    sub = await api(
        session,
        "POST",
        f"{cloud}/_emulator/accounts/{account}/subscriptions",
        body={"duration": "annual", "credits": credits, "state": "active"},
        expect=201,
    )
    return account, token, sub["subscription"]["id"]


def machine() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown",
    )
    return {"cpu": model, "cores": os.cpu_count(), "python": sys.version.split()[0]}
