"""Counts in sentences, in the singular or the plural as the number asks."""

from flex_emulator.shared.quarters import QUARTERS_PER_CREDIT, format_credits


def count_of(count: int, singular: str, plural: str | None = None) -> str:
    """``1 perpetual license``, ``2 perpetual licenses``."""
    return f"{count} {singular if count == 1 else plural or singular + 's'}"


def credit_noun(quarters: int) -> str:
    return "credit" if quarters == QUARTERS_PER_CREDIT else "credits"


def credits_of(quarters: int) -> str:
    """``1 credit``, ``0.25 credits``, ``2 credits``."""
    return f"{format_credits(quarters)} {credit_noun(quarters)}"


def size_of(limit: int) -> str:
    """A size limit as a person reads it, never more than it is: ``2.7 MiB`` (to a tenth below), ``20 KiB``."""
    mib = 1024 * 1024
    if limit >= mib:
        tenths = limit * 10 // mib
        return f"{tenths // 10}.{tenths % 10} MiB" if tenths % 10 else f"{tenths // 10} MiB"
    return f"{limit // 1024} KiB"


def agree(count: int, singular: str, plural: str) -> str:
    """The verb form for ``count`` things: ``agree(1, "is", "are")``."""
    return singular if count == 1 else plural


def credits_agree(quarters: int, singular: str, plural: str) -> str:
    """``credits_of`` followed by the matching verb: ``1 credit is``, ``0.5 credits are``."""
    return f"{credits_of(quarters)} {singular if quarters == QUARTERS_PER_CREDIT else plural}"
