"""The cloud link's WebSocket messages: ``{id, type, ...}`` JSON envelopes.

HOME connects to ``GET /api/v1/link``; the exchange is:

    cloud -> home  {"type": "challenge", "nonce": str}
    home  -> cloud {"type": "auth", "system_id": str, "token": <link auth JWT>,
                    "seq": <last applied seq, 0 if none>, "receipt": <latest receipt JWT or null>,
                    "home_url"?: <where this HOME answers; only a HOME with --emulator-api says it>}
    cloud -> home  {"type": "welcome", "system_id": str}  (or "error" and close)
    cloud -> home  {"type": "snapshot", "token": <credits snapshot JWT>}   at any time after
    home  -> cloud {"type": "receipt", "token": <receipt JWT>}              after applying one
    either way     {"type": "error", "code": str, "message": str, "reply_to": id or null}
"""

import itertools
import json
from dataclasses import dataclass
from typing import Any

from flex_emulator.shared.bodies import BadJson, parse_json
from flex_emulator.shared.errors import ProtocolError
from flex_emulator.shared.snapshot_claims import MAX_RECEIPT_BYTES, MAX_SNAPSHOT_BYTES

CHALLENGE = "challenge"
AUTH = "auth"
WELCOME = "welcome"
SNAPSHOT = "snapshot"
RECEIPT = "receipt"
ERROR = "error"

# The largest message either side sends: the snapshot of a system holding the most assignments
# allowed (or HOME's receipt for it) in its envelope. Both ends set their WebSocket limit to this.
_ENVELOPE_BYTES = len(json.dumps({"id": 2**64, "type": SNAPSHOT, "token": ""}))
MAX_MESSAGE_BYTES = max(MAX_SNAPSHOT_BYTES, MAX_RECEIPT_BYTES) + _ENVELOPE_BYTES

_ids = itertools.count(1)


@dataclass(frozen=True)
class Message:
    id: int
    type: str
    body: dict[str, Any]

    def text(self, field: str) -> str:
        value = self.body.get(field)
        if not isinstance(value, str) or not value:
            raise ProtocolError("invalid_message", f"The {self.type} message needs a text field {field!r}.")
        return value

    def optional_text(self, field: str) -> str | None:
        value = self.body.get(field)
        if value is None:
            return None
        return self.text(field)

    def integer(self, field: str) -> int:
        value = self.body.get(field)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ProtocolError("invalid_message", f"The {self.type} message needs a whole number {field!r}.")
        return value


def encode(kind: str, **fields: Any) -> str:
    return encode_with_id(kind, **fields)[1]


def encode_with_id(kind: str, **fields: Any) -> tuple[int, str]:
    """The message and its id, for a sender that matches replies (``reply_to``) to what it sent."""
    ident = next(_ids)
    return ident, json.dumps({"id": ident, "type": kind, **fields})


def error(code: str, message: str, reply_to: int | None = None) -> str:
    return encode(ERROR, code=code, message=message, reply_to=reply_to)


def decode(raw: str) -> Message:
    if len(raw) > MAX_MESSAGE_BYTES:
        raise ProtocolError("too_large", "The message is larger than the link accepts.")
    try:
        data = parse_json(raw)
    except BadJson as exc:
        raise ProtocolError("bad_json", f"The message is not accepted: {exc}") from None
    if not isinstance(data, dict):
        raise ProtocolError("invalid_message", "A message must be a JSON object.")
    kind = data.get("type")
    ident = data.get("id")
    if not isinstance(kind, str) or not isinstance(ident, int) or isinstance(ident, bool):
        raise ProtocolError("invalid_message", "A message needs a text 'type' and a whole-number 'id'.")
    return Message(ident, kind, data)
