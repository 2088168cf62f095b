"""The inspector's timeline: each journal event of the cloud or of HOME as one item, said in a sentence.

Items are the events of ``GET /_emulator/events`` on both services, one lane each. A few events say
again what another one says (a download is also a ``snapshot_issued`` with ``via: "file"``; an
entered revoke key is also a ``receipt_accepted``): those fold into the other. What crossed between
the two carries its signed token: its own, or the one the other lane recorded for the same ``seq``.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

CLOUD, HOME = "cloud", "home"
TO_HOME, TO_CLOUD = "to_home", "to_cloud"
REMEMBERED_SEQS = 256

REASONS = {
    "revoked": "revoked",
    "auto_revoked": "Auto Revoke",
    "expired": "its copy expired",
    "subscription_ended": "its subscription ended",
}
RETURNED_VIA = {
    "link": "HOME's receipt proves it dropped them",
    "revoke_key": "HOME's revoke key proves it dropped them",
    "portal": "HOME never held them",
    "scheduler": "HOME never held them",
    "expiry": "every copy HOME could hold has ended (its validity plus 5 minutes of clock skew)",
}


@dataclass
class Item:
    id: str
    lane: str
    kind: str
    at: str
    noted_at: str | None
    title: str
    detail: str | None = None
    crossing: str | None = None
    by_hand: bool = False
    tone: str = "info"  # info | ok | refused | fault | time
    seq: int | None = None
    token: str | None = None
    token_bytes: int | None = None

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "lane": self.lane,
            "kind": self.kind,
            "at": self.at,
            "noted_at": self.noted_at,
            "title": self.title,
            "detail": self.detail,
            "crossing": self.crossing,
            "by_hand": self.by_hand,
            "tone": self.tone,
            "seq": self.seq,
            "token_bytes": self.token_bytes,
        }


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def entries_text(count: int) -> str:
    return "1 entry" if count == 1 else f"{count} entries"


def credits(value: Any) -> str:
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else 0
    return f"{number:g} credit" + ("" if number == 1 else "s")


def whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def readable(moment: str) -> str:
    """``2026-11-03T08:30:00Z`` as the page shows times: ``03 Nov 2026 08:30:00``."""
    try:
        return datetime.fromisoformat(moment.replace("Z", "+00:00")).strftime("%d %b %Y %H:%M:%S")
    except ValueError:
        return moment


def ids(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


class Timeline:
    """Turns one system's journal events into items, remembering what a later event of the other lane needs."""

    def __init__(self) -> None:
        self._entries: dict[int, int] = {}  # seq -> entries of the copy the cloud issued
        self._snapshots: dict[int, str] = {}  # seq -> the snapshot token that crossed
        self._receipts: dict[int, str] = {}  # seq -> HOME's receipt token

    def _keep(self, table: dict[int, Any], seq: int | None, value: Any) -> None:
        if seq is None or value is None:
            return
        table[seq] = value
        while len(table) > REMEMBERED_SEQS:
            del table[next(iter(table))]

    def item(self, lane: str, event: dict[str, Any]) -> Item | None:
        """The event as an item, or None for one the timeline does not show (or shows through another)."""
        kind = text(event.get("kind"))
        seq = whole(event.get("seq"))
        base = Item(
            id=("c" if lane == CLOUD else "h") + text(event.get("cursor")),
            lane=lane,
            kind=kind,
            at=text(event.get("at")),
            noted_at=event.get("noted_at") if isinstance(event.get("noted_at"), str) else None,
            title=kind,
            seq=seq,
            token=event.get("token") if isinstance(event.get("token"), str) else None,
            token_bytes=whole(event.get("token_bytes")),
        )
        said = self._cloud(base, event) if lane == CLOUD else self._home(base, event)
        return base if said else None

    # --- the cloud's lane --------------------------------------------------------------------------

    def _cloud(self, item: Item, event: dict[str, Any]) -> bool:
        kind, seq = item.kind, item.seq
        if kind == "assigned":
            item.title = f"Assigned {credits(event.get('credits'))}"
            auto = text(event.get("auto_revoke_at"))
            item.detail = f"{text(event.get('assignment_id'))} by {text(event.get('actor'))}" + (
                f", Auto Revoke at {auto}" if auto else ""
            )
            item.tone = "ok"
        elif kind == "revoke_requested":
            what = "Auto Revoke" if event.get("reason") == "auto_revoked" else "Revoke"
            item.title = f"{what} of {credits(event.get('credits'))} requested: they stay counted"
            item.tone = "time" if what == "Auto Revoke" else item.tone
            item.detail = (
                "Until HOME proves it dropped them (a receipt for a credits file after number "
                f"{whole(event.get('after_seq')) or 0}) or every copy it may hold has ended."
            )
        elif kind == "snapshot_issued":
            entries = len(ids(event.get("assignments")))
            self._keep(self._entries, seq, entries)
            if event.get("via") == "file":
                return False  # the file_downloaded that follows says it, with the file
            item.title = f"Signed credits file {seq} ({entries_text(entries)})"
            item.detail = "A renewal before its validity ends (check-in)." if event.get("via") == "check_in" else None
        elif kind == "snapshot_pushed":
            self._keep(self._snapshots, seq, item.token)
            item.token = item.token or self._snapshots.get(seq or -1)
            item.crossing = TO_HOME
            if event.get("resent"):
                item.title = f"Pushed credits file {seq} again: its receipt is overdue"
            else:
                item.title = f"Pushed credits file {seq} over the link"
        elif kind == "file_downloaded":
            self._keep(self._snapshots, seq, item.token)
            held = self._entries.get(seq or -1)
            counted = f" ({entries_text(held)})" if held is not None else ""
            item.title = f"Credits file {seq} downloaded{counted}"
            item.detail = "A person carries it to HOME and uploads it there."
            item.crossing, item.by_hand = TO_HOME, True
        elif kind == "receipt_accepted":
            self._keep(self._receipts, seq, item.token)
            returned = len(ids(event.get("returned")))
            gave = f"; {plural(returned, 'assignment')} returned" if returned else ""
            if event.get("via") == "revoke_key":
                item.title = f"Revoke key {seq} entered: HOME's signature verified{gave}"
                if not returned:
                    item.detail = "It returned nothing: each proof returns credits once."
                item.crossing, item.by_hand = TO_CLOUD, True
            else:
                item.title = f"Receipt {seq} accepted: HOME holds credits file {seq}{gave}"
                item.crossing = TO_CLOUD
            item.tone = "ok"
        elif kind == "revoke_key_entered":
            return False  # its receipt_accepted (via revoke_key) says it, with the key
        elif kind == "revoke_key_refused":
            item.title = f"Revoke key refused: {text(event.get('code'))}"
            item.crossing, item.by_hand, item.tone = TO_CLOUD, True, "refused"
        elif kind == "returned":
            reason = text(event.get("reason"))
            item.title = f"Returned {credits(event.get('credits'))} to the subscription ({REASONS.get(reason, reason)})"
            item.detail = RETURNED_VIA.get(text(event.get("via")))
            item.tone = "time" if reason in ("auto_revoked", "expired", "subscription_ended") else "ok"
        elif kind == "link_up":
            item.title = f"Link up: HOME connected, holding credits file {whole(event.get('home_seq')) or 0}"
            item.tone = "ok"
        elif kind == "link_down":
            item.title = "Link down: HOME is offline"
        elif kind == "link_refused":
            item.title = f"Link refused: {text(event.get('code'))}"
            item.tone = "fault" if event.get("code") == "link_cut" else "refused"
        elif kind == "home_refused":
            item.title = f"HOME refused credits file {seq}: {text(event.get('code'))}"
            item.tone = "refused"
        elif kind == "fault_set":
            item.title = f"Link fault set: {describe_faults(event.get('faults'))}"
            item.tone = "fault"
        elif kind in ("fault_dropped", "fault_duplicated"):
            what = f"{text(event.get('message'))} {seq}" if seq is not None else text(event.get("message"))
            verb = "lost in transit" if kind == "fault_dropped" else "delivered twice"
            item.title = f"Fault: the {what} was {verb}"
            item.tone = "fault"
        elif kind == "file_fault_served":
            item.title = f"Bad credits file served ({text(event.get('fault'))})"
            item.detail = f"HOME must refuse it with {text(event.get('expected_code'))}."
            item.crossing, item.by_hand, item.tone = TO_HOME, True, "fault"
        elif kind == "clock_advanced":
            item.title = f"Clock moved forward to {readable(text(event.get('to')))}"
            item.tone = "time"
        elif kind == "system_linked":
            item.title = f"System linked as {text(event.get('label'))}"
        elif kind == "system_unlinked":
            item.title = "System unlinked"
        else:
            return False
        return True

    # --- HOME's lane -------------------------------------------------------------------------------

    def _home(self, item: Item, event: dict[str, Any]) -> bool:
        kind, seq = item.kind, item.seq
        source = text(event.get("source"))
        if kind == "link_state":
            state = text(event.get("state"))
            if state == "connecting":
                return False
            item.title = {
                "online": "Link online",
                "offline": "Link offline",
                "disabled": "Link switched off: HOME is disconnected",
                "not_linked": "Not linked to an account yet",
            }.get(state, f"Link {state}")
            item.detail = (text(event.get("error")) or None) if state == "offline" else None
            item.tone = "ok" if state == "online" else "info"
        elif kind == "snapshot_applied":
            entries = whole(event.get("entries")) or 0
            item.title = f"Applied credits file {seq} ({entries_text(entries)})"
            item.detail = "Signature verified with the cloud's key; it replaces every credit HOME held."
            item.token = self._snapshots.get(seq or -1)
            item.tone = "ok"
        elif kind == "snapshot_unchanged":
            item.title = f"Credits file {seq} again: unchanged, HOME holds it already"
            item.token = self._snapshots.get(seq or -1)
        elif kind == "snapshot_refused":
            item.title = f"Refused pushed credits file{'' if seq is None else f' {seq}'}: {text(event.get('code'))}"
            item.tone = "refused"
        elif kind == "upload_refused":
            item.title = f"Refused uploaded file{'' if seq is None else f' {seq}'}: {text(event.get('code'))}"
            item.tone = "refused"
        elif kind == "upload_applied":
            if event.get("file") == "credits":
                return False  # snapshot_applied or snapshot_unchanged says it
            item.title = "Perpetual license file uploaded"
            item.tone = "ok"
        elif kind == "receipt_sent":
            self._keep(self._receipts, seq, item.token)
            item.title = f"Sent receipt {seq}: proof that HOME holds credits file {seq}"
            if source == "file":
                item.detail = "After an uploaded file, while the link is up."
            item.crossing = TO_CLOUD
        elif kind == "revoke_key_shown":
            self._keep(self._receipts, seq, item.token)
            item.title = f"Shows revoke key {seq} on Licenses → Credits"
            item.detail = "A person copies it into the portal: HOME's signed proof of what it holds now."
            item.crossing, item.by_hand = TO_CLOUD, True
        elif kind == "credits_expired":
            item.title = f"{credits(event.get('credits')).capitalize()} ended by HOME's clock"
            item.detail = (
                "Their Auto Revoke or their subscription's end: no newer copy could renew them."
                if event.get("final")
                else "Copy's validity ran out and no newer copy came; HOME stops counting them."
            )
            item.tone = "time"
        elif kind == "reset":
            item.title = "HOME reset" + (" with a new identity" if event.get("identity") else "")
        else:
            return False
        return True


def describe_faults(faults: Any) -> str:
    if not isinstance(faults, dict) or not faults.get("active"):
        return "none (cleared)"
    said = []
    if faults.get("cut"):
        said.append("link cut")
    if whole(faults.get("latency_ms")):
        said.append(f"{faults['latency_ms']} ms latency")
    for name, label in (("drop_next", "drop next"), ("duplicate_next", "duplicate next")):
        for message in ids(faults.get(name)):
            said.append(f"{label} {message}")
    return ", ".join(said) or "none"
