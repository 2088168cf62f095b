"""Faults on a service's own HTTP API, armed through ``/_emulator/http-faults``: answer a 5xx, delay, reset
the connection or hang, for requests of one method and path (exact, or a prefix ending in ``*``).

The table is the service's, in memory (a restart clears it, as it would a flaky network). A fault fires
``times`` times or until cleared; the first armed fault that matches a request is the one applied.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from flex_emulator.shared.errors import BadRequest

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# Never faulted: the emulator's own controls, the health check and the cloud link (link faults act on that).
EXEMPT_PREFIXES = ("/_emulator/", "/healthz", "/api/v1/link")
MAX_LATENCY_MS = 60_000
MAX_RETRY_AFTER = 86_400
MAX_TIMES = 1_000_000
MAX_FAULTS = 100
MAX_PATH = 2_000
FIELDS = ("method", "path", "action", "status", "retry_after", "latency_ms", "times")


class Action(StrEnum):
    STATUS = "status"  # answer ``status`` in the contract's error shape, code injected_fault; the handler never runs
    LATENCY = "latency"  # wait ``latency_ms`` (real time), then run the handler
    RESET = "reset"  # close the connection without an answer
    HANG = "hang"  # answer nothing until the client gives up


@dataclass
class HttpFault:
    id: int
    method: str | None
    path: str
    action: Action
    status: int | None
    retry_after: int | None
    latency_ms: int | None
    times: int | None
    remaining: int | None

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return path.startswith(self.path[:-1]) if self.path.endswith("*") else path == self.path

    def json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "method": self.method,
            "path": self.path,
            "action": self.action.value,
            "status": self.status,
            "retry_after": self.retry_after,
            "latency_ms": self.latency_ms,
            "times": self.times,
            "remaining": self.remaining,
        }


def is_exempt(path: str) -> bool:
    return path.startswith(EXEMPT_PREFIXES)


def _whole(spec: dict[str, Any], name: str, low: int, high: int) -> int | None:
    value = spec.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise BadRequest(f"'{name}' must be a whole number from {low} to {high}.", code="invalid_value")
    return value


def _method(spec: dict[str, Any]) -> str | None:
    method = spec.get("method")
    if method is None:
        return None
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise BadRequest(f"'method' must be one of {', '.join(METHODS)} (or left out for any).", code="invalid_value")
    return method.upper()


def _path(spec: dict[str, Any]) -> str:
    path = spec.get("path")
    if path is None:
        raise BadRequest('The field \'path\' is missing (e.g. "/api/v1/system" or "/api/*").', code="missing_field")
    if not isinstance(path, str) or not path.startswith("/") or len(path) > MAX_PATH or "*" in path[:-1]:
        raise BadRequest(
            "'path' must start with / and may end in * (a prefix); * anywhere else is not allowed.",
            code="invalid_value",
        )
    if is_exempt(path.rstrip("*")):
        raise BadRequest(
            "/_emulator/*, /healthz and the cloud link are never faulted: name a path of the service's API or pages.",
            code="invalid_value",
        )
    return path


def _action(spec: dict[str, Any]) -> Action:
    action = spec.get("action")
    if action is None:
        raise BadRequest("The field 'action' is missing: status, latency, reset or hang.", code="missing_field")
    try:
        return Action(action)
    except ValueError:
        raise BadRequest("'action' must be status, latency, reset or hang.", code="invalid_value") from None


def parse_fault(spec: Any, fault_id: int) -> HttpFault:
    """One fault from the ``add`` object of ``POST /_emulator/http-faults``; anything unclear is a 400."""
    if not isinstance(spec, dict):
        raise BadRequest('\'add\' must be an object such as {"path": "/api/*", "action": "reset"}.')
    unknown = set(spec) - set(FIELDS)
    if unknown:
        raise BadRequest(f"Unknown field {min(unknown)!r}: use {', '.join(FIELDS)}.", code="unknown_field")
    action = _action(spec)
    status = _whole(spec, "status", 500, 599)
    retry_after = _whole(spec, "retry_after", 0, MAX_RETRY_AFTER)
    latency = _whole(spec, "latency_ms", 1, MAX_LATENCY_MS)
    if action != Action.STATUS and (status is not None or retry_after is not None):
        raise BadRequest("'status' and 'retry_after' go with the action status only.", code="invalid_value")
    if action == Action.LATENCY and latency is None:
        raise BadRequest("The action latency needs 'latency_ms'.", code="missing_field")
    if action != Action.LATENCY and latency is not None:
        raise BadRequest("'latency_ms' goes with the action latency only.", code="invalid_value")
    times = _whole(spec, "times", 1, MAX_TIMES)
    return HttpFault(
        id=fault_id,
        method=_method(spec),
        path=_path(spec),
        action=action,
        status=(status or 503) if action == Action.STATUS else None,
        retry_after=retry_after,
        latency_ms=latency,
        times=times,
        remaining=times,
    )


class HttpFaults:
    """The armed faults of one service, oldest first."""

    def __init__(self) -> None:
        self._faults: list[HttpFault] = []
        self._last_id = 0

    def json(self) -> dict[str, Any]:
        return {"faults": [fault.json() for fault in self._faults]}

    def change(self, body: dict[str, Any]) -> None:
        """``{add: {...}}`` or ``{clear: true}`` (both: clear first)."""
        unknown = set(body) - {"add", "clear"}
        if unknown or not body:
            raise BadRequest('Send {"add": {...}} or {"clear": true}.', code="invalid_request")
        clear = body.get("clear")
        if clear is not None and not isinstance(clear, bool):
            raise BadRequest("'clear' must be true or false.", code="invalid_value")
        fault = parse_fault(body["add"], self._last_id + 1) if "add" in body else None
        if fault is not None and len(self._faults) >= MAX_FAULTS and not clear:
            raise BadRequest(f"At most {MAX_FAULTS} faults may be armed at once: clear some.", code="too_many_faults")
        if clear:
            self._faults.clear()
        if fault is not None:
            self._last_id = fault.id
            self._faults.append(fault)

    def take(self, method: str, path: str) -> HttpFault | None:
        """The fault that applies to this request, counted as fired (an exhausted one is dropped)."""
        if not self._faults or is_exempt(path):
            return None
        for fault in self._faults:
            if fault.matches(method, path):
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                return fault
        return None
