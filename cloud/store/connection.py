"""The cloud's database: SQLite (the embedded default, one process) or PostgreSQL (``--database``, shared by
any number of cloud processes), with the cloud's migrations and queries. The rest of the cloud holds a
``Database`` and does not know which."""

from pathlib import Path

from flex_emulator.cloud.store.migrations import MIGRATIONS
from flex_emulator.cloud.store.queries import Queries
from flex_emulator.shared import database
from flex_emulator.shared.journal import Journal

Database = database.Database[Queries]


class SqliteStore(database.SqliteDatabase[Queries]):
    def __init__(self, path: Path, journal: Journal | None = None, *, durable: bool = True) -> None:
        super().__init__(path, MIGRATIONS, Queries, journal, durable=durable)


def open_store(data_dir: Path, url: str | None, journal: Journal, *, durable: bool = True) -> Database:
    """``cloud.sqlite3`` in ``data_dir``, or the PostgreSQL database at ``url`` (not yet opened); ``durable=False``
    (a test world's throw-away data): SQLite never waits for the disk."""
    if url is None:
        return SqliteStore(data_dir / "cloud.sqlite3", journal, durable=durable)
    from flex_emulator.cloud.store.postgres import PostgresStore  # the optional driver, only when asked for

    return PostgresStore(url, journal)
