"""What HOME's credits amount to at a moment: plain functions over the entries it holds."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from flex_emulator.home.domain.models import Renewal
from flex_emulator.shared.snapshot_claims import SnapshotEntry

RENEW_SOON = timedelta(days=3)
CHECK_IN_BEFORE = timedelta(hours=24)
TIMELINE_DAYS = 35


@dataclass(frozen=True)
class Totals:
    total: int  # quarters valid now
    in_use: int  # quarters held by running resources
    remaining: int

    @property
    def shortfall(self) -> int:
        """Quarters running resources use beyond what HOME holds (after a revoke or an expiry while they ran)."""
        return max(0, self.in_use - self.total)


class ValidityState(StrEnum):
    NONE = "none"
    VALID = "valid"
    RENEW_SOON = "renew_soon"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Status:
    state: ValidityState
    valid_until: datetime | None
    message: str


@dataclass(frozen=True)
class Day:
    date: date
    valid: int  # quarters valid that day
    renewable: int  # quarters not valid that day that continue after the next renewal


def is_valid(entry: SnapshotEntry, now: datetime) -> bool:
    return entry.valid_until > now


def is_renewable(entry: SnapshotEntry) -> bool:
    """Its subscription allows another cycle after this validity ends."""
    return entry.renewable_until is None or entry.renewable_until > entry.valid_until


def renewal(entry: SnapshotEntry, link_on: bool) -> Renewal:
    """Whether, and how, ``entry`` gets a new validity after this one: by itself only while the link is on."""
    if not is_renewable(entry):
        return Renewal.NONE
    return Renewal.AUTOMATIC if link_on else Renewal.BY_FILE


def valid_entries(entries: Sequence[SnapshotEntry], now: datetime) -> list[SnapshotEntry]:
    return [entry for entry in entries if is_valid(entry, now)]


def totals(entries: Sequence[SnapshotEntry], in_use: int, now: datetime) -> Totals:
    total = sum(entry.credits for entry in valid_entries(entries, now))
    return Totals(total=total, in_use=in_use, remaining=max(0, total - in_use))


def status(entries: Sequence[SnapshotEntry], now: datetime, online: bool, seq: int = 0) -> Status:
    """The validity of what HOME holds and how to refresh it; ``seq`` is the credits file applied last (0: none yet)."""
    if not entries and seq:
        return Status(
            ValidityState.NONE,
            None,
            f"This HOME holds no credits now: the latest credits (file number {seq}) have none, "
            "because they were revoked or returned. " + _how_to_get(online),
        )
    if not entries:
        return Status(ValidityState.NONE, None, "This HOME holds no credits yet. " + _how_to_get(online))
    valid = valid_entries(entries, now)
    if not valid:
        return Status(
            ValidityState.EXPIRED,
            max(entry.valid_until for entry in entries),
            "The credits on this HOME have expired. " + _how_to_renew_expired(online),
        )
    until = min(entry.valid_until for entry in valid)
    when = until.astimezone(UTC).strftime("%d %b %Y %H:%M UTC")
    if until - now <= RENEW_SOON:
        return Status(
            ValidityState.RENEW_SOON, until, f"Some credits stop being valid on {when}. " + _how_to_refresh(online)
        )
    return Status(
        ValidityState.VALID, until, f"Credits are valid; the first validity ends on {when}. " + _how_to_refresh(online)
    )


def renewal_words(online: bool) -> str:
    """How credits that may continue do continue: by themselves at check-in only while HOME is online."""
    return "Continues after the next renewal" if online else "Continues with a newer credits file"


def after_validity(entry: SnapshotEntry, now: datetime, online: bool) -> str:
    """What happens to an entry when its validity ends, or, once it has, how to get credits again."""
    if is_valid(entry, now):
        if not is_renewable(entry):
            return "Ends"
        return "Renews at check-in" if online else renewal_words(online)
    if online:
        return "Expired; renewed at check-in if still assigned in the portal"
    return "Expired; upload a new credits file from the portal"


def _how_to_get(online: bool) -> str:
    if online:
        return "Credits assigned to this system in the portal arrive here by themselves while HOME is online."
    return (
        "This HOME is not connected to the licensing cloud: assign credits to this system in the portal, download "
        "its credits file there and upload it on FileLicenses."
    )


def _how_to_refresh(online: bool) -> str:
    if online:
        return "While this HOME is online it renews its credits by itself 24 hours before validity ends."
    return (
        "This HOME is not connected to the licensing cloud, so it cannot renew by itself: download the latest "
        "credits file for this system from the portal and upload it on FileLicenses before validity ends."
    )


def _how_to_renew_expired(online: bool) -> str:
    if online:
        return (
            "While HOME is online the cloud sends a renewed copy at check-in for credits still assigned to this "
            "system; credits that went back to their subscription must be assigned again in the portal."
        )
    return (
        "This HOME is not connected to the licensing cloud: download a new credits file for this system from the "
        "portal and upload it on FileLicenses. Credits that went back to their subscription must be assigned to "
        "this system again first."
    )


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def timeline(entries: Sequence[SnapshotEntry], now: datetime, days: int = TIMELINE_DAYS) -> list[Day]:
    """Credits per coming day: valid that day, or not valid but continuing after the next renewal."""
    current = valid_entries(entries, now)
    today = now.astimezone(UTC).date()
    result = []
    for offset in range(days):
        day = today + timedelta(days=offset)
        start = max(day_start(day), now)
        valid = sum(e.credits for e in current if e.valid_until > start)
        renewable = sum(
            e.credits
            for e in current
            if e.valid_until <= start and (e.renewable_until is None or e.renewable_until > start)
        )
        result.append(Day(day, valid, renewable))
    return result
