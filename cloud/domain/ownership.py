"""The one rule of tenancy: an account sees only its own things, and anything else does not exist for it."""

from typing import Protocol, TypeVar

from flex_emulator.shared.errors import NotFound


class Owned(Protocol):
    @property
    def account_id(self) -> str: ...


T = TypeVar("T", bound=Owned)


def owned_by(account_id: str, item: T | None, noun: str, ref: str) -> T:
    """``item`` when it belongs to the account; otherwise 404, the same answer as for a thing that does not
    exist, so nobody learns what another account holds."""
    if item is None or item.account_id != account_id:
        raise NotFound(f"There is no {noun} {ref} in this account.")
    return item
