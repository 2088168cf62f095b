"""A throw-away PostgreSQL server for tests and benchmarks: ``initdb`` in a temporary folder, the server on a
unix socket there, a fresh database per test made from a migrated template, everything removed on ``stop``.

It needs PostgreSQL's programs (Debian: ``apt-get install postgresql``; found through ``FLEX_PG_BIN``, the
``pg_config`` on PATH, or /usr/lib/postgresql/*/bin). PostgreSQL refuses to run as root, so as root the
server runs as ``nobody``. For speed it does not wait for the disk (``fsync=off``): a crash of the machine
loses it, which for a server that lives as long as a test session is no loss."""

import contextlib
import itertools
import os
import shutil
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path

import asyncpg

START_TIMEOUT_SECONDS = 30.0
TEMPLATE = "flex_template"


def find_bin() -> Path | None:
    """The folder of PostgreSQL's server programs, or None when it is not installed."""
    named = os.environ.get("FLEX_PG_BIN")
    if named:
        return Path(named)
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False).stdout.strip()
        if found and (Path(found) / "initdb").exists():
            return Path(found)
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda path: int(path.parts[-3]))
    return versions[-1].parent if versions else None


def database_name(url: str) -> str:
    return urllib.parse.urlsplit(url).path.lstrip("/")


class TemporaryPostgres:
    """One server for a session of tests (``start`` ... ``stop``); ``url(name)`` for each database in it."""

    def __init__(self, *, durable: bool = False) -> None:
        """``durable``: the server's default, every commit waits for the disk (what a benchmark should see)."""
        self.durable = durable
        self.root: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._names = itertools.count(1)
        self._user: str | None = "nobody" if os.geteuid() == 0 else None

    def _run_as(self) -> dict[str, object]:
        return {"user": self._user, "group": "nogroup", "extra_groups": []} if self._user else {}

    def start(self) -> "TemporaryPostgres":
        bindir = find_bin()
        if bindir is None:
            raise RuntimeError("PostgreSQL is not installed (Debian: apt-get install postgresql)")
        self.root = Path(tempfile.mkdtemp(prefix="flexpg-"))  # short: a unix socket path has ~100 characters
        data = self.root / "data"
        data.mkdir()
        if self._user:
            os.chmod(self.root, 0o755)
            for owned in (self.root, data):
                shutil.chown(owned, self._user, "nogroup")
        subprocess.run(
            [bindir / "initdb", "-D", data, "-U", "flex", "--auth=trust", "--no-sync", "--locale=C", "-E", "UTF8"],
            check=True,
            capture_output=True,
            **self._run_as(),  # type: ignore[call-overload]
        )
        settings = ["-c", "listen_addresses=", "-c", f"unix_socket_directories={self.root}"]
        settings += ["-c", "max_connections=400"]
        if not self.durable:
            settings += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        with (self.root / "server.log").open("wb") as log:
            if self._user:
                shutil.chown(self.root / "server.log", self._user, "nogroup")
            self._process = subprocess.Popen(
                [bindir / "postgres", "-D", data, *settings],
                stdout=log,
                stderr=subprocess.STDOUT,
                **self._run_as(),  # type: ignore[call-overload]
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        ready = [str(bindir / "pg_isready"), "-q", "-h", str(self.root), "-U", "flex"]
        while subprocess.run(ready, check=False).returncode != 0:
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not start: {(self.root / 'server.log').read_text()[-2000:]}")
            time.sleep(0.02)
        return self

    def url(self, database: str = "postgres") -> str:
        assert self.root is not None, "start the server first"
        return f"postgresql://flex@/{database}?host={self.root}"

    async def create_database(self, template: str | None = None) -> str:
        """A new empty database (or a copy of ``template``); returns its URL."""
        name = f"flex_{os.getpid()}_{next(self._names)}"
        conn = await asyncpg.connect(self.url())
        try:
            copy = f" TEMPLATE {template}" if template else ""
            await conn.execute(f"CREATE DATABASE {name}{copy}")
        finally:
            await conn.close()
        return self.url(name)

    async def drop_database(self, url: str) -> None:
        name = database_name(url)
        conn = await asyncpg.connect(self.url())
        try:
            await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            await conn.close()

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()  # smart shutdown would wait for clients; terminate is "fast" shutdown
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self.root is not None:
            with contextlib.suppress(OSError):
                shutil.rmtree(self.root)
            self.root = None
