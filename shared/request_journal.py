"""The request journal (``GET /_emulator/requests``): every request a service answered, with what the client
sent (secrets masked), so a test can assert what its own client did.

Kept in the service's memory, oldest first, the newest ``MAX_KEPT`` of them (a restart starts a new one;
the harness's ``World`` keeps what a service it stops had recorded). ``/_emulator/*``, ``/healthz`` and the
cloud link are not recorded: the event journal tells what crossed the link.
"""

import itertools
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flex_emulator.shared.bodies import BadJson, parse_json
from flex_emulator.shared.errors import BadRequest
from flex_emulator.shared.timefmt import iso

MAX_KEPT = 50_000
MAX_JSON_BYTES = 64 * 1024
MASK = "***"
MASKED_HEADERS = ("authorization", "cookie", "proxy-authorization")
# Body fields whose values are secrets wherever they appear (a sign-in's password, an invitation's ...).
SECRET_WORDS = ("password", "secret")
MAX_PATH_FILTER = 2_000


@dataclass(frozen=True)
class Body:
    """What the journal keeps of a request body: its parsed JSON, or that it was too large to keep."""

    json: Any = None
    has_json: bool = False
    truncated: bool = False


def mask_header(name: str, value: str) -> str:
    if name.lower() not in MASKED_HEADERS:
        return value
    scheme, _, secret = value.partition(" ")
    return f"{scheme} {MASK}" if secret and name.lower() != "cookie" else MASK


def mask_json(value: Any) -> Any:
    """``value`` with every field named like a secret (``password``, ``client_secret`` ...) replaced by ``***``."""
    if isinstance(value, dict):
        return {
            key: MASK if any(word in key.lower() for word in SECRET_WORDS) else mask_json(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [mask_json(item) for item in value]
    return value


def read_json_body(raw: bytes) -> Body:
    if len(raw) > MAX_JSON_BYTES:
        return Body(truncated=True)
    if not raw:
        return Body()
    try:
        return Body(json=mask_json(parse_json(raw)), has_json=True)
    except BadJson:
        return Body()


class RequestJournal:
    def __init__(self) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=MAX_KEPT)
        self._last = 0

    def record(
        self,
        *,
        at: datetime,
        method: str,
        path: str,
        query: dict[str, Any],
        status: int | None,
        duration_ms: float,
        headers: dict[str, str],
        body: Body,
        fault: dict[str, Any] | None,
    ) -> None:
        self._last += 1
        entry: dict[str, Any] = {
            "cursor": str(self._last),
            "at": iso(at),
            "method": method,
            "path": path,
            "query": query,
            "status": status,
            "duration_ms": round(duration_ms, 3),
            "headers": {name: mask_header(name, value) for name, value in headers.items()},
        }
        if body.has_json:
            entry["json"] = body.json
        if body.truncated:
            entry["truncated"] = True
        if fault is not None:
            entry["fault"] = fault
        self._entries.append(entry)

    def page(self, after: int, limit: int, path: str | None, method: str | None) -> dict[str, Any]:
        """Up to ``limit`` entries after the cursor ``after`` that match the filters; ``next`` continues the scan
        (past entries the filters skipped too)."""
        found: list[dict[str, Any]] = []
        scanned = after
        first = int(self._entries[0]["cursor"]) if self._entries else self._last + 1
        start = max(0, after + 1 - first)
        for entry in itertools.islice(self._entries, start, None):
            scanned = int(entry["cursor"])
            if (path is None or entry["path"].startswith(path)) and (method is None or entry["method"] == method):
                found.append(entry)
                if len(found) >= limit:
                    break
        return {"requests": found, "next": str(scanned)}


def parse_filters(query: Any) -> tuple[str | None, str | None]:
    """``path`` (a prefix) and ``method`` of ``GET /_emulator/requests``."""
    path = query.get("path") or None
    if path is not None and (not path.startswith("/") or len(path) > MAX_PATH_FILTER):
        raise BadRequest("'path' must be a path prefix starting with /.", code="invalid_value")
    method = query.get("method") or None
    if method is not None and (not method.isascii() or not method.isalpha() or len(method) > 16):
        raise BadRequest("'method' must be an HTTP method such as GET or POST.", code="invalid_value")
    return path, method.upper() if method is not None else None
