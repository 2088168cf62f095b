"""HOME's SQLite database: the shared ``Database`` with HOME's migrations and queries."""

from pathlib import Path

from flex_emulator.home.store.migrations import MIGRATIONS
from flex_emulator.home.store.queries import Queries
from flex_emulator.shared import database
from flex_emulator.shared.journal import Journal


class Database(database.SqliteDatabase[Queries]):
    def __init__(self, path: Path, journal: Journal | None = None, *, durable: bool = True) -> None:
        super().__init__(path, MIGRATIONS, Queries, journal, durable=durable)
