"""The cloud's SQLite database: the shared ``Database`` with the cloud's migrations and queries."""

from pathlib import Path

from flex_emulator.cloud.store.migrations import MIGRATIONS
from flex_emulator.cloud.store.queries import Queries
from flex_emulator.shared import database
from flex_emulator.shared.journal import Journal


class Database(database.Database[Queries]):
    def __init__(self, path: Path, journal: Journal | None = None) -> None:
        super().__init__(path, MIGRATIONS, Queries, journal)
