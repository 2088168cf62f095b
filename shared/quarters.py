"""Credit amounts: 0.25 granularity, kept as integer quarters, never floats."""

from decimal import Decimal, DecimalException

QUARTERS_PER_CREDIT = 4
MAX_CREDITS = 1_000_000_000


class CreditAmountError(ValueError):
    """An amount that is not a positive multiple of 0.25."""


def parse_quarters(value: object) -> int:
    """Turn a JSON number or decimal string into a positive count of quarter credits."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise CreditAmountError("Credits must be a number such as 1.25.")
    text = str(value).strip()
    # Decimal reads "1_0" as ten and "１" (full-width) as one; a person typing either meant something else
    if "_" in text or not text.isascii():
        raise CreditAmountError("Credits must be a number such as 1.25, written in the digits 0-9.")
    try:
        amount = Decimal(text)
    except DecimalException:
        raise CreditAmountError("Credits must be a number such as 1.25.") from None
    if not amount.is_finite():
        raise CreditAmountError("Credits must be a finite number.")
    if amount <= 0:
        raise CreditAmountError("Assign at least 0.25 credits.")
    if amount.adjusted() > 12:  # "1e1000000": refused before any arithmetic on it can overflow
        raise CreditAmountError(f"Credits can be at most {MAX_CREDITS:,}.")
    if amount.adjusted() < -12:
        raise CreditAmountError("Credits come in steps of 0.25.")
    quarters = amount * QUARTERS_PER_CREDIT
    if quarters != quarters.to_integral_value():
        raise CreditAmountError("Credits come in steps of 0.25.")
    if quarters <= 0:
        raise CreditAmountError("Assign at least 0.25 credits.")
    if amount > MAX_CREDITS:
        raise CreditAmountError(f"Credits can be at most {MAX_CREDITS:,}.")
    return int(quarters)


def to_credits(quarters: int) -> float | int:
    """Quarters as the JSON number users see: 5 -> 1.25, 8 -> 2."""
    whole, rest = divmod(quarters, QUARTERS_PER_CREDIT)
    return whole if rest == 0 else quarters / QUARTERS_PER_CREDIT


def format_credits(quarters: int) -> str:
    """Quarters as text for pages: 5 -> '1.25', 8 -> '2'."""
    return f"{to_credits(quarters):g}"
