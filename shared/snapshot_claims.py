"""The credits snapshot's claims in a compact table, and the sizes the link and uploads must allow.

A snapshot is a standard EdDSA JWT (see ``shared.tokens``). Its set of assignments is two arrays, so
that an entry costs about 80 bytes of token rather than 350 and 10,000 of them fit one link message:

    "fmt":  2
    "subs": [[subscription_id, order_id, duration, state], ...]          each subscription once
    "asg":  [[assignment_id, quarters, assigned_at, valid_until, renewable_until, sub], ...]

Times are epoch seconds (JWT NumericDate); ``renewable_until`` 0 means the copy renews for as long
as check-ins continue; ``sub`` is an index into ``subs``; ``quarters`` are quarter credits.
"""

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flex_emulator.shared.quarters import MAX_CREDITS, QUARTERS_PER_CREDIT
from flex_emulator.shared.timefmt import claim_time, epoch

FORMAT = 2

# The most active assignments one system may hold: one more is refused (``too_many_assignments``).
MAX_ACTIVE_ASSIGNMENTS = 10_000

# The widest values the bound below allows for: ids are ``asg_`` + 16 characters today, order ids
# are at most 64 characters, times stay below the year 5000.
_ID_CHARS = 32
_ORDER_ID_CHARS = 64
_TIME_DIGITS = 11
# Header, registered claims and signature of a snapshot without entries, with room to spare.
_TOKEN_OVERHEAD = 2048


@dataclass(frozen=True)
class SnapshotEntry:
    assignment_id: str
    credits: int  # quarters
    assigned_at: datetime
    valid_until: datetime
    renewable_until: datetime | None  # None: renews for as long as check-ins continue
    subscription_id: str
    order_id: str
    duration: str
    subscription_state: str


class ClaimsError(ValueError):
    """The snapshot's entry table is not in the expected shape."""


def encode_entries(entries: Iterable[SnapshotEntry]) -> dict[str, Any]:
    """The entry tables, to be merged into the snapshot's claims."""
    subs: list[list[str]] = []
    index: dict[tuple[str, str, str, str], int] = {}
    rows: list[list[object]] = []
    for entry in entries:
        sub = (entry.subscription_id, entry.order_id, entry.duration, entry.subscription_state)
        position = index.get(sub)
        if position is None:
            position = index[sub] = len(subs)
            subs.append(list(sub))
        renewable = 0 if entry.renewable_until is None else epoch(entry.renewable_until)
        rows.append(
            [
                entry.assignment_id,
                entry.credits,
                epoch(entry.assigned_at),
                epoch(entry.valid_until),
                renewable,
                position,
            ]
        )
    return {"fmt": FORMAT, "subs": subs, "asg": rows}


def decode_entries(claims: dict[str, Any]) -> tuple[SnapshotEntry, ...]:
    if claims.get("fmt") != FORMAT:
        raise ClaimsError("fmt")
    subs = claims["subs"]
    rows = claims["asg"]
    if not isinstance(subs, list) or not isinstance(rows, list):
        raise ClaimsError("tables")
    for sub in subs:
        if not isinstance(sub, list) or len(sub) != 4 or not all(isinstance(value, str) for value in sub):
            raise ClaimsError("subs")
    entries: list[SnapshotEntry] = []
    moments: dict[int, datetime] = {}  # most entries of one snapshot share their times

    def moment(seconds: int) -> datetime:
        found = moments.get(seconds)
        if found is None:
            found = moments[seconds] = claim_time(seconds)
        return found

    for row in rows:
        if not isinstance(row, list) or len(row) != 6:
            raise ClaimsError("asg")
        ident, quarters, assigned, until, renewable, position = row
        if not isinstance(ident, str) or not ident:
            raise ClaimsError("id")
        for number in (quarters, assigned, until, renewable, position):
            if type(number) is not int or number < 0:
                raise ClaimsError("number")
        if not 0 < quarters <= MAX_CREDITS * QUARTERS_PER_CREDIT or position >= len(subs):
            raise ClaimsError("range")
        sub_id, order_id, duration, state = subs[position]
        entries.append(
            SnapshotEntry(
                ident,
                quarters,
                moment(assigned),
                moment(until),
                moment(renewable) if renewable else None,
                sub_id,
                order_id,
                duration,
                state,
            )
        )
    return tuple(entries)


def _json_len(value: object) -> int:
    return len(json.dumps(value, separators=(",", ":")))


def _b64_len(raw: int) -> int:
    return math.ceil(raw * 4 / 3)


def snapshot_bytes_bound(count: int) -> int:
    """The longest a snapshot of ``count`` entries can be when every field has its widest value
    and every entry comes from a different subscription (ASCII order ids)."""
    big_time = 10**_TIME_DIGITS - 1
    row = [
        "a" * _ID_CHARS,
        MAX_CREDITS * QUARTERS_PER_CREDIT,
        big_time,
        big_time,
        big_time,
        max(count - 1, 0),
    ]
    sub = ["s" * _ID_CHARS, "o" * _ORDER_ID_CHARS, "monthly", "cancelled"]
    per_entry = _json_len(row) + 1 + _json_len(sub) + 1  # each with its comma
    return _TOKEN_OVERHEAD + _b64_len(per_entry * count)


def receipt_bytes_bound(count: int) -> int:
    """The longest a receipt (or revoke key) can be when HOME holds ``count`` assignments."""
    return _TOKEN_OVERHEAD + _b64_len((_json_len("a" * _ID_CHARS) + 1) * count)


# The largest snapshot the cloud will issue, and the largest receipt a HOME then sends back.
MAX_SNAPSHOT_BYTES = snapshot_bytes_bound(MAX_ACTIVE_ASSIGNMENTS)
MAX_RECEIPT_BYTES = receipt_bytes_bound(MAX_ACTIVE_ASSIGNMENTS)
