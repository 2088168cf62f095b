"""Link faults injected per system through the emulator API: cut, latency, drop or duplicate the next
snapshot or receipt. They act at the cloud's end of the real link (``hub.py`` sends, ``link.py``
receives), on real messages, and each one that fires is noted in the journal."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flex_emulator.shared import protocol
from flex_emulator.shared.errors import BadRequest, ProtocolError, TokenError
from flex_emulator.shared.journal import Journal
from flex_emulator.shared.jws import unverified_claims

MESSAGES = ("snapshot", "receipt")
MAX_LATENCY_MS = 60_000


@dataclass
class SystemFaults:
    cut: bool = False
    latency_ms: int = 0
    drop_next: list[str] = field(default_factory=list)
    duplicate_next: list[str] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.cut or self.latency_ms > 0 or bool(self.drop_next) or bool(self.duplicate_next)

    def json(self) -> dict[str, Any]:
        return {
            "cut": self.cut,
            "latency_ms": self.latency_ms,
            "drop_next": list(self.drop_next),
            "duplicate_next": list(self.duplicate_next),
            "active": self.active,
        }

    def labels(self) -> list[str]:
        """Short words for the portal's badge."""
        words = ["link cut"] if self.cut else []
        words += [f"latency {self.latency_ms} ms"] if self.latency_ms else []
        words += [f"drop next {message}" for message in self.drop_next]
        words += [f"duplicate next {message}" for message in self.duplicate_next]
        return words


@dataclass(frozen=True)
class FaultRequest:
    """A parsed ``POST .../link-faults`` body; None leaves that fault as it is."""

    clear: bool = False
    cut: bool | None = None
    latency_ms: int | None = None
    drop_next: str | None = None
    duplicate_next: str | None = None


def parse_request(body: dict[str, Any]) -> FaultRequest:
    unknown = set(body) - {"clear", "cut", "latency_ms", "drop_next", "duplicate_next"}
    if unknown:
        raise BadRequest(
            f"Unknown link fault {min(unknown)!r}: use cut, latency_ms, drop_next, duplicate_next or clear.",
            code="unknown_fault",
        )
    for name in ("clear", "cut"):
        if body.get(name) is not None and not isinstance(body[name], bool):
            raise BadRequest(f"'{name}' must be true or false.", code="invalid_value")
    latency = body.get("latency_ms")
    if latency is not None and (
        not isinstance(latency, int) or isinstance(latency, bool) or not 0 <= latency <= MAX_LATENCY_MS
    ):
        raise BadRequest(
            f"'latency_ms' must be a whole number of milliseconds from 0 to {MAX_LATENCY_MS}.", code="invalid_value"
        )
    for name in ("drop_next", "duplicate_next"):
        if body.get(name) is not None and body[name] not in MESSAGES:
            raise BadRequest(f'\'{name}\' must be "snapshot" or "receipt".', code="invalid_value")
    return FaultRequest(
        body.get("clear") is True, body.get("cut"), latency, body.get("drop_next"), body.get("duplicate_next")
    )


def receipt_seq(data: str) -> int | None:
    """The ``seq`` a receipt message claims (unverified), or None for anything else."""
    try:
        message = protocol.decode(data)
        if message.type != protocol.RECEIPT:
            return None
        seq = unverified_claims(message.text("token")).get("seq")
    except (ProtocolError, TokenError):
        return None
    return seq if isinstance(seq, int) and not isinstance(seq, bool) else None


def faults_from_json(data: dict[str, Any]) -> SystemFaults:
    """A ``SystemFaults.json()`` back (as another process of the cloud tells it)."""
    return SystemFaults(
        cut=bool(data.get("cut")),
        latency_ms=int(data.get("latency_ms") or 0),
        drop_next=[str(item) for item in data.get("drop_next") or []],
        duplicate_next=[str(item) for item in data.get("duplicate_next") or []],
    )


class LinkFaults:
    """The faults armed for each system; in memory (a restart of a lone process clears them, as it would a
    network). On a shared database the hub keeps every process's copy the same (``LinkHub.share_faults``)."""

    def __init__(self, journal: Journal) -> None:
        self._journal = journal
        self._systems: dict[str, SystemFaults] = {}
        self.fired: Callable[[str], None] | None = None  # a one-shot fault fired: the others must know

    def armed(self, system_id: str) -> SystemFaults | None:
        return self._systems.get(system_id)

    def replace(self, system_id: str, data: dict[str, Any] | None) -> bool:
        """Take the faults another process armed (None: none); returns whether the link must be cut now."""
        was_cut = self.is_cut(system_id)
        if data is None:
            self._systems.pop(system_id, None)
            return False
        faults = faults_from_json(data)
        if faults.active:
            self._systems[system_id] = faults
        else:
            self._systems.pop(system_id, None)
        return faults.cut and not was_cut

    def of(self, system_id: str) -> SystemFaults:
        return self._systems.get(system_id) or SystemFaults()

    def apply(self, system_id: str, request: FaultRequest) -> tuple[SystemFaults, bool]:
        """Arm or lift faults; returns the new state and whether the link must be cut now."""
        current = self._systems.setdefault(system_id, SystemFaults())
        was_cut = current.cut
        if request.clear:
            current = self._systems[system_id] = SystemFaults()
        if request.cut is not None:
            current.cut = request.cut
        if request.latency_ms is not None:
            current.latency_ms = request.latency_ms
        if request.drop_next is not None:
            current.drop_next.append(request.drop_next)
        if request.duplicate_next is not None:
            current.duplicate_next.append(request.duplicate_next)
        self._journal.note("fault_set", system_id, faults=current.json())
        if not current.active:
            del self._systems[system_id]
        return current, current.cut and not was_cut

    def clear_all(self) -> None:
        self._systems.clear()

    def is_cut(self, system_id: str) -> bool:
        return self.of(system_id).cut

    def latency_seconds(self, system_id: str) -> float:
        return self.of(system_id).latency_ms / 1000

    def incoming_copies(self, system_id: str, data: str) -> int:
        """How many times a message from HOME arrives: only receipts are ever dropped or duplicated."""
        if system_id not in self._systems:
            return 1
        try:
            if protocol.decode(data).type != protocol.RECEIPT:
                return 1
        except ProtocolError:
            return 1  # not a receipt anyone could use: the link answers it as usual
        return self.copies(system_id, "receipt", receipt_seq(data))

    def copies(self, system_id: str, message: str, seq: int | None = None) -> int:
        """How many times the next ``message`` arrives: 0 (dropped), 1, or 2 (duplicated); a fault fires once."""
        faults = self._systems.get(system_id)
        if faults is None:
            return 1
        for armed, copies, kind in (
            (faults.drop_next, 0, "fault_dropped"),
            (faults.duplicate_next, 2, "fault_duplicated"),
        ):
            if message in armed:
                armed.remove(message)
                self._journal.note(kind, system_id, message=message, seq=seq)
                if not faults.active:
                    del self._systems[system_id]
                if self.fired is not None:
                    self.fired(system_id)
                return copies
        return 1
