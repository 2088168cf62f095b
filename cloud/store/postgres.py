"""The cloud on PostgreSQL: the shared ``PostgresDatabase`` with the cloud's PostgreSQL migrations and queries.
Imported only when ``--database`` names one (asyncpg is the optional ``postgres`` extra)."""

from flex_emulator.cloud.store.migrations_postgres import MIGRATIONS
from flex_emulator.cloud.store.queries import Queries
from flex_emulator.shared.journal import Journal
from flex_emulator.shared.postgres import PostgresDatabase


class PostgresStore(PostgresDatabase[Queries]):
    def __init__(self, url: str, journal: Journal | None = None) -> None:
        super().__init__(url, MIGRATIONS, Queries, journal)

    async def write_journal(self) -> None:
        """Write pending facts and give every committed row its place in the journal's order (``seq``), once this
        process's transactions carrying earlier facts have committed (see ``Journal.carried``)."""
        await self.journal.carried()
        async with self.transaction() as tx:
            await tx.journal.sequence()
