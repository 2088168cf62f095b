"""Times on the wire: ISO 8601 UTC with a trailing Z, and epoch seconds inside tokens."""

from datetime import UTC, datetime


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)  # far enough from year 9999 that adding validity never overflows


class TimeOutOfRange(ValueError):
    """An ISO 8601 time this service does not handle (before 1970, or from year 9000 on)."""


def parse_iso(text: str) -> datetime:
    """Parse an ISO 8601 time; a time without a zone is taken as UTC. ValueError for any other text.

    Times before 1970 or from year 9000 on are refused: near year 1 or 9999 the conversion to
    UTC, or adding a validity period, would overflow.
    """
    if not text.isascii():
        raise ValueError("An ISO 8601 time is written in ASCII digits.")
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC)
    except OverflowError:
        raise TimeOutOfRange("The time is out of range.") from None
    if not EARLIEST <= moment < LATEST:
        raise TimeOutOfRange("The time is out of range.")
    return moment


def claim_time(value: object) -> datetime:
    """A time claim of a signed token: whole epoch seconds from 1970 to before the year 9000, else ValueError
    (a number beyond that cannot be a date, or one HOME could add a validity to, or store)."""
    if type(value) is not int or not epoch(EARLIEST) <= value < epoch(LATEST):
        raise ValueError("time claim")
    return from_epoch(value)


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())
