"""The test session's PostgreSQL: one real throw-away server (flex_emulator.postgres), a template database
migrated once, and a fresh copy of it for each test that asks."""

from flex_emulator.cloud.store.postgres import PostgresStore
from flex_emulator.postgres import TemporaryPostgres, database_name


class SessionPostgres:
    def __init__(self) -> None:
        self.server = TemporaryPostgres().start()
        self._template: str | None = None

    async def fresh(self) -> str:
        """A new database of the cloud's schema, empty; its URL."""
        if self._template is None:
            url = await self.server.create_database()
            store = PostgresStore(url)
            await store.open()  # migrates
            await store.close()
            self._template = database_name(url)
        return await self.server.create_database(template=self._template)

    async def drop(self, url: str) -> None:
        await self.server.drop_database(url)

    def stop(self) -> None:
        self.server.stop()
