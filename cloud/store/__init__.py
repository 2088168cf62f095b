"""The cloud's store: the connection and migrations, row records, and the queries grouped by concern."""

from flex_emulator.cloud.store.connection import Database, SqliteStore, open_store
from flex_emulator.cloud.store.queries import Queries

__all__ = ["Database", "Queries", "SqliteStore", "open_store"]
