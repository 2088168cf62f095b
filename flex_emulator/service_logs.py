"""Where the services of an in-process world log: one file per service in the world's folder, not the test's
output. (As subprocesses each service writes its own file already.)

The services log through structlog. A world marks the context its services start in (every task and
connection of a service inherits it), and one processor, put first in structlog's chain, writes the events
of a marked context to that service's file and drops them; every other event goes on through the chain as
configured, so a user's own structlog logging is untouched.
"""

import logging
import threading
import traceback
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import structlog

from flex_emulator.shared.logging import enum_values

LEVELS = {"debug": 10, "info": 20, "warning": 30, "warn": 30, "error": 40, "exception": 40, "critical": 50}
DEFAULT_LEVEL = "info"


class ServiceLog:
    """One service's log file, appended to line by line."""

    def __init__(self, path: Path, level: str = DEFAULT_LEVEL) -> None:
        self.path = path
        self.level = LEVELS.get(level.lower(), logging.INFO)
        self._lock = threading.Lock()
        self._file: TextIO | None = None  # opened at the first line, kept open (a line costs one write)
        self._closed = False

    def write(self, method: str, event: MutableMapping[str, Any]) -> None:
        """Append one event as a line (and its traceback), if it is at the file's level or above."""
        if LEVELS.get(method, logging.INFO) < self.level:
            return
        event = dict(enum_values(None, method, dict(event)))
        stamp = datetime.now(UTC).strftime("%H:%M:%S.%f")[:-3]
        text = str(event.pop("event", ""))
        failure = event.pop("exc_info", None)
        fields = " ".join(f"{key}={value!r}" for key, value in event.items())
        line = f"{stamp} {method:<7} {text} {fields}".rstrip() + "\n"
        if failure:
            line += "".join(traceback.format_exc() if failure is True else traceback.format_exception(failure))
        with self._lock:
            if self._closed:  # a line after the service stopped: written, nothing left open
                with self.path.open("a") as out:
                    out.write(line)
                return
            if self._file is None:
                self._file = self.path.open("a", buffering=1)
            self._file.write(line)

    def close(self) -> None:
        """Close the file; a later line is still written, opening and closing it."""
        with self._lock:
            self._closed = True
            if self._file is not None:
                self._file.close()
                self._file = None


_CURRENT: ContextVar[ServiceLog | None] = ContextVar("flex_emulator_service_log", default=None)
_installing = threading.Lock()


def _route(logger: Any, method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    target = _CURRENT.get()
    if target is None:
        return event
    target.write(method, event)
    raise structlog.DropEvent


def install() -> None:
    """Put the router first in structlog's chain (once per process)."""
    with _installing:
        processors = structlog.get_config()["processors"]
        if not processors or processors[0] is not _route:
            structlog.configure(processors=[_route, *(step for step in processors if step is not _route)])


@contextmanager
def logging_to(log: ServiceLog) -> Iterator[None]:
    """Everything started inside (tasks, a server's connections) logs to ``log``."""
    install()
    token = _CURRENT.set(log)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def tail(path: Path, lines: int) -> str:
    """The last ``lines`` lines of a log file ("" when there is none)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "".join(text.splitlines(keepends=True)[-lines:])
