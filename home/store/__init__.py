"""HOME's store: the connection and migrations, row records, and its queries (the same shape as the cloud's)."""

from flex_emulator.home.store.connection import Database
from flex_emulator.home.store.queries import Queries

__all__ = ["Database", "Queries"]
