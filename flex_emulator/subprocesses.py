"""Services of a world as real subprocesses: forked from the session's fork server (or started with
``python -m``), each on ``--port 0`` with a ``--ready-file``, all on one clock file."""

import asyncio
import atexit
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

from aiohttp import web

from flex_emulator import answers
from flex_emulator.templates import Templates

READY_TIMEOUT_SECONDS = 30.0


class _ForkServer:
    """The session's one fork server (``flex_emulator.forkserver``), started on first use."""

    _instance: "_ForkServer | None" = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "flex_emulator.forkserver"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        assert self._process.stdout is not None
        if self._process.stdout.readline().strip() != "ready":
            raise RuntimeError("the service fork server did not start")

    @classmethod
    def spawn(cls, module: str, argv: list[str], log_path: Path) -> "_ForkedChild":
        with cls._lock:
            if cls._instance is None or cls._instance._process.poll() is not None:
                cls._instance = cls()
                atexit.register(cls._instance.close)
            server = cls._instance._process
            assert server.stdin is not None and server.stdout is not None
            server.stdin.write(json.dumps({"module": module, "argv": argv, "log": str(log_path)}) + "\n")
            server.stdin.flush()
            return _ForkedChild(int(server.stdout.readline()))

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(timeout=10)


class _ForkedChild:
    """A process forked by the fork server, seen through the few ``Popen`` methods used here.
    It is not this process's child, so its exit code is unknown: ``poll`` answers 1 once it is gone."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            self.returncode = 1 if self.returncode is None else self.returncode
            return self.returncode
        return None

    def terminate(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> int:
        deadline = time.monotonic() + (timeout if timeout is not None else 1e9)
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"service {self.pid}", timeout or 0)
            time.sleep(0.01)
        return self.returncode or 0


class Subprocesses:
    """The cloud and HOMEs as processes of their own (``python -m cloud`` / ``python -m home`` with
    ``--port 0 --ready-file``), on one clock file. Where ``os.fork`` exists they are forked from a fork
    server that imported both once (same ``main(argv)``, same options), so a world's processes start in
    milliseconds; ``fork=False`` runs ``python -m`` every time."""

    def __init__(
        self, root: Path, start: datetime, *, fork: bool = True, log_level: str = "info", database: str | None = None
    ) -> None:
        self.root = root
        self.database = database
        self.log_level = log_level
        self.clock_file = root / "clock"
        self.fork = fork and hasattr(os, "fork")
        root.mkdir(parents=True, exist_ok=True)
        self.clock_file.write_text(str(int(start.timestamp())))
        self._processes: dict[str, subprocess.Popen[bytes] | _ForkedChild] = {}

    def _launch(self, name: str, args: list[str]) -> subprocess.Popen[bytes] | _ForkedChild:
        log_path = self.root / f"{name}.log"
        if self.fork:
            return _ForkServer.spawn(args[1], args[2:], log_path)
        with log_path.open("ab") as log:
            env = os.environ | {"PYTHONUNBUFFERED": "1"}
            return subprocess.Popen([sys.executable, *args], stdout=log, stderr=subprocess.STDOUT, env=env)

    def _spawn(self, name: str, args: list[str], port: int = 0) -> str:
        ready = self.root / f"{name}.ready.json"
        ready.unlink(missing_ok=True)
        options = ["--port", str(port), "--ready-file", str(ready), "--log-level", self.log_level]
        process = self._launch(name, [*args, *options])
        self._processes[name] = process
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while not ready.exists():
            if process.poll() is not None:
                raise RuntimeError(
                    f"{name} stopped during start-up (exit {process.returncode}); see {self.root / f'{name}.log'}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{name} was not ready within {READY_TIMEOUT_SECONDS:.0f} s; see {self.root / f'{name}.log'}"
                )
            time.sleep(0.005)
        return str(json.loads(ready.read_text())["url"])

    def start_cloud(self, port: int = 0) -> str:
        """Start the cloud process on ``port`` (0: a free one); its URL once ready."""
        if self.database is None:  # a migrated SQLite file to start from; on PostgreSQL the cloud keeps none
            Templates.session().prepare_cloud(self.root / "cloud")
        self.cloud_url = self._spawn(
            "cloud",
            [
                "-m",
                "flex_emulator.cloud",
                "--data",
                str(self.root / "cloud"),
                "--emulator-api",
                "--virtual-clock",
                "--clock-file",
                str(self.clock_file),
                "--cheap-passwords",
                *(["--database", self.database] if self.database else []),
            ],
            port,
        )
        return self.cloud_url

    def app(self, name: str) -> web.Application:
        """Refused: a subprocess world has no application objects here."""
        raise RuntimeError("A subprocess world has no application objects in this process; use mode='inprocess'.")

    def system_read_ahead(self, url: str) -> answers.HomeSystem | None:
        """None: a subprocess world starts nothing ahead."""
        return None

    def kill(self, name: str) -> None:
        """Stop ``name`` with SIGKILL: no goodbye, nothing flushed (as a crash)."""
        process = self._processes.pop(name, None)
        if process is not None:
            process.kill()
            process.wait(timeout=10)

    def start_home(
        self, name: str, cloud_url: str, *, label: str | None = None, offline: bool = True, port: int = 0
    ) -> str:
        """Start a HOME process with its data in ``root/name``; its URL once ready."""
        Templates.session().prepare_home(self.root / name)
        args = [
            "-m",
            "flex_emulator.home",
            "--data",
            str(self.root / name),
            "--cloud-url",
            cloud_url,
            "--emulator-api",
            "--clock-file",
            str(self.clock_file),
            "--cloud-key",
            str(self.root / "cloud" / "jwks.json"),
        ]
        args += (["--label", label] if label else []) + (["--offline"] if offline else [])
        return self._spawn(name, args, port)

    def stop(self, name: str) -> None:
        """Stop ``name`` with SIGTERM (a clean shutdown), SIGKILL after 10 s."""
        process = self._processes.pop(name, None)
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def close(self) -> None:
        """Stop every process, HOMEs first."""
        for name in [name for name in self._processes if name != "cloud"]:
            self.stop(name)
        self.stop("cloud")


class AsyncSubprocesses:
    """``Subprocesses`` for async code: the blocking steps run on a worker thread."""

    def __init__(self, root: Path, start: datetime, *, log_level: str = "info", database: str | None = None) -> None:
        self._servers = Subprocesses(root, start, log_level=log_level, database=database)

    async def start_cloud(self, port: int = 0) -> str:
        """Start the cloud process; its URL once ready."""
        return await asyncio.to_thread(self._servers.start_cloud, port)

    def app(self, name: str) -> web.Application:
        """Refused: a subprocess world has no application objects here."""
        return self._servers.app(name)

    async def start_home(
        self, name: str, cloud_url: str, *, label: str | None = None, offline: bool = True, port: int = 0
    ) -> str:
        """Start a HOME process; its URL once ready."""
        return await asyncio.to_thread(
            self._servers.start_home, name, cloud_url, label=label, offline=offline, port=port
        )

    def system_read_ahead(self, url: str) -> answers.HomeSystem | None:
        """None: a subprocess world starts nothing ahead."""
        return None

    async def stop(self, name: str) -> None:
        """Stop a process with SIGTERM."""
        await asyncio.to_thread(self._servers.stop, name)

    async def kill(self, name: str) -> None:
        """Stop a process with SIGKILL."""
        await asyncio.to_thread(self._servers.kill, name)

    async def close(self) -> None:
        """Stop every process, HOMEs first."""
        await asyncio.to_thread(self._servers.close)
