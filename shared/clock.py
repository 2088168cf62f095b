"""The one injectable clock: wall time in normal runs, a settable virtual time in emulator mode."""

import asyncio
import heapq
import itertools
import os
import threading
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

ClockDriver = Callable[[datetime], Awaitable[object]]
# How often a clock kept in a file (shared by processes) is read while a timer waits on it.
FILE_POLL_SECONDS = 0.02


class Clock(Protocol):
    """What a service reads time from: the machine's (``WallClock``) or a virtual one (``VirtualClock``)."""

    virtual: bool

    def now(self) -> datetime:
        """The time, to the second."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait until this clock has moved ``seconds`` on: every timer of a service waits through this."""
        ...


class WallClock:
    """The machine's clock: what a real run uses."""

    virtual = False

    def now(self) -> datetime:
        """The machine's time, to the second."""
        return datetime.now(UTC).replace(microsecond=0)

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of real time."""
        await asyncio.sleep(seconds)


def _resolve(future: "asyncio.Future[None]") -> None:
    if not future.done():
        future.set_result(None)


class ClockError(ValueError):
    """A virtual clock was asked to go somewhere it may not."""


class VirtualClock:
    """Time that only moves when told to.

    With a ``path`` the time lives in that file, so several processes (the cloud and its
    HOME nodes in ``scripts/run``) read one clock; otherwise it lives in memory.
    """

    virtual = True

    def __init__(self, start: datetime | None = None, path: Path | None = None) -> None:
        # The service that must run its due work whenever this clock moves (the cloud's scheduler, when a
        # cloud runs on it): another service sharing the clock in the same process moves time through it.
        self.driver: ClockDriver | None = None
        self._path = path
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []  # a heap by deadline
        self._order = itertools.count()
        self._lock = threading.Lock()
        self._pollers: dict[asyncio.AbstractEventLoop, asyncio.Task[None]] = {}
        self._now = (start or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        if path is not None:
            if path.exists():
                self._now = self._read()
            else:
                self._write(self._now)

    def now(self) -> datetime:
        """The virtual time (read from the clock file, when there is one)."""
        if self._path is not None:
            moment = self._read()
            if moment != self._now:
                self._now = moment
                self._wake()
        return self._now

    async def sleep(self, seconds: float) -> None:
        """Wait until this virtual clock has moved ``seconds`` on (real time does not count): the services'
        timers (a re-push, a reconnect backoff) then run when a test moves the clock, at once."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            heapq.heappush(self._sleepers, (self.now().timestamp() + max(0.0, seconds), next(self._order), future))
        self._wake()
        if self._path is not None:
            poller = self._pollers.get(loop)
            if poller is None or poller.done():
                self._pollers[loop] = loop.create_task(self._poll(), name="virtual-clock-file")
        await future

    def pending_timers(self) -> int:
        """How many timers wait on this clock (cancelled ones not counted)."""
        with self._lock:
            return sum(1 for _, _, future in self._sleepers if not future.done())

    def _wake(self) -> None:
        """Resolve every timer whose moment has come (from any thread: each resolves on its own loop)."""
        now = self._now.timestamp()
        due: list[asyncio.Future[None]] = []
        with self._lock:
            while self._sleepers and self._sleepers[0][0] <= now:
                due.append(heapq.heappop(self._sleepers)[2])
        for future in due:
            if not future.done():
                future.get_loop().call_soon_threadsafe(_resolve, future)

    async def _poll(self) -> None:
        """A clock file is moved by another process: read it while timers wait on it."""
        while self.pending_timers():
            await asyncio.sleep(FILE_POLL_SECONDS)
            self.now()

    def set(self, moment: datetime) -> datetime:
        """Move forward to ``moment``; the emulator API never moves time backwards."""
        moment = moment.astimezone(UTC).replace(microsecond=0)
        if moment < self.now():
            raise ClockError("The virtual clock only moves forward.")
        return self._store(moment)

    def advance(self, seconds: float) -> datetime:
        """Move forward by ``seconds``."""
        if seconds < 0:
            raise ClockError("The virtual clock only moves forward.")
        return self.set(self.now() + timedelta(seconds=seconds))

    def rewind(self, moment: datetime) -> datetime:
        """Set the time backwards, as a person fiddling with a server's clock would (tests only)."""
        return self._store(moment.astimezone(UTC).replace(microsecond=0))

    def _store(self, moment: datetime) -> datetime:
        self._now = moment
        if self._path is not None:
            self._write(moment)
        self._wake()
        return moment

    def _read(self) -> datetime:
        assert self._path is not None
        try:
            return datetime.fromtimestamp(float(self._path.read_text().strip()), UTC)
        except (OSError, ValueError):
            return self._now

    def _write(self, moment: datetime) -> None:
        assert self._path is not None
        scratch = self._path.with_suffix(f".{os.getpid()}.tmp")
        scratch.write_text(str(int(moment.timestamp())))
        os.replace(scratch, self._path)
