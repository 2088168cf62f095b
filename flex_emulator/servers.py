"""Starting a cloud and HOME nodes for a world: in this process (default, ``inprocess``) or as real
subprocesses (``subprocesses``).

Both ways give each service a free loopback port, a data folder of its own, a log file of its own
(``<name>.log`` in the world's folder) and one virtual clock for all of them: in-process one
``VirtualClock`` object, as subprocesses one clock file. A service stopped and started again keeps
its port and data.
"""

from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol

from aiohttp import web

from flex_emulator import answers
from flex_emulator.inprocess import AsyncOnThread, InProcess, PreparedWorld
from flex_emulator.service_logs import DEFAULT_LEVEL
from flex_emulator.subprocesses import AsyncSubprocesses, Subprocesses

Mode = Literal["inprocess", "subprocess"]


class AsyncServers(Protocol):
    """How an ``AsyncWorld`` starts and stops its services."""

    async def start_cloud(self, port: int = 0) -> str:
        """Start the cloud (``port`` 0: a free one); its base URL."""
        ...

    async def start_home(
        self, name: str, cloud_url: str, *, label: str | None = None, offline: bool = True, port: int = 0
    ) -> str:
        """Start a HOME called ``name`` (its data folder and log file); its base URL."""
        ...

    def system_read_ahead(self, url: str) -> answers.HomeSystem | None:
        """The ``GET /api/v1/system`` answer of the HOME at ``url`` when it was started ahead of time and read
        then (once; None otherwise: ask it)."""
        ...

    async def stop(self, name: str) -> None:
        """Stop a service cleanly; its data stays."""
        ...

    async def kill(self, name: str) -> None:
        """Stop a service with SIGKILL (subprocesses only)."""
        ...

    def app(self, name: str) -> web.Application:
        """The running aiohttp application of a service (in-process only)."""
        ...

    async def close(self) -> None:
        """Stop every service, HOMEs first."""
        ...


class Servers(Protocol):
    """How a blocking ``World`` starts and stops its services."""

    def start_cloud(self, port: int = 0) -> str:
        """Start the cloud (``port`` 0: a free one); its base URL."""
        ...

    def start_home(
        self, name: str, cloud_url: str, *, label: str | None = None, offline: bool = True, port: int = 0
    ) -> str:
        """Start a HOME called ``name`` (its data folder and log file); its base URL."""
        ...

    def system_read_ahead(self, url: str) -> answers.HomeSystem | None:
        """The ``GET /api/v1/system`` answer of the HOME at ``url`` when it was started ahead of time and read
        then (once; None otherwise: ask it)."""
        ...

    def stop(self, name: str) -> None:
        """Stop a service cleanly; its data stays."""
        ...

    def kill(self, name: str) -> None:
        """Stop a service with SIGKILL (subprocesses only)."""
        ...

    def app(self, name: str) -> web.Application:
        """The running aiohttp application of a service (in-process only)."""
        ...

    def close(self) -> None:
        """Stop every service, HOMEs first."""
        ...


# --- in this process --------------------------------------------------------------------------


def _takes(
    prepared: PreparedWorld | None, mode: Mode, root: Path, start: datetime, log_level: str, database: str | None
) -> PreparedWorld | None:
    """``prepared`` if a world of these settings can take it; otherwise it is discarded, and None."""
    if prepared is None:
        return None
    if mode == "inprocess" and database is None and prepared.fits(root, start, log_level):
        return prepared
    prepared.discard()
    return None


def make_async_servers(
    mode: Mode,
    root: Path,
    start: datetime,
    log_level: str = DEFAULT_LEVEL,
    database: str | None = None,
    prepared: PreparedWorld | None = None,
) -> AsyncServers:
    """The services of an ``AsyncWorld`` in ``mode``; ``database``: the cloud on that PostgreSQL database;
    ``prepared``: a world started ahead, taken if it fits (else discarded)."""
    taken = _takes(prepared, mode, root, start, log_level, database)
    if mode == "inprocess":
        return AsyncOnThread(root, start, log_level, database, prepared=taken)
    return AsyncSubprocesses(root, start, log_level=log_level, database=database)


def make_servers(
    mode: Mode,
    root: Path,
    start: datetime,
    log_level: str = DEFAULT_LEVEL,
    database: str | None = None,
    prepared: PreparedWorld | None = None,
) -> Servers:
    """The services of a ``World`` in ``mode``; ``database``: the cloud on that PostgreSQL database;
    ``prepared``: a world started ahead, taken if it fits (else discarded)."""
    taken = _takes(prepared, mode, root, start, log_level, database)
    if mode == "inprocess":
        return InProcess(root, start, log_level, database, prepared=taken)
    return Subprocesses(root, start, log_level=log_level, database=database)
