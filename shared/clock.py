"""The one injectable clock: wall time in normal runs, a settable virtual time in emulator mode."""

import os
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

ClockDriver = Callable[[datetime], Awaitable[object]]


class Clock(Protocol):
    virtual: bool

    def now(self) -> datetime: ...


class WallClock:
    virtual = False

    def now(self) -> datetime:
        return datetime.now(UTC).replace(microsecond=0)


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
        self._now = (start or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        if path is not None:
            if path.exists():
                self._now = self._read()
            else:
                self._write(self._now)

    def now(self) -> datetime:
        if self._path is not None:
            self._now = self._read()
        return self._now

    def set(self, moment: datetime) -> datetime:
        """Move forward to ``moment``; the emulator API never moves time backwards."""
        moment = moment.astimezone(UTC).replace(microsecond=0)
        if moment < self.now():
            raise ClockError("The virtual clock only moves forward.")
        return self._store(moment)

    def advance(self, seconds: float) -> datetime:
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
