"""Everything the cloud asks of its database, grouped by what it is about: ``tx.systems.get(...)``.
Bound to the read-only reader (``db.read``) or to the one writer inside ``db.transaction()``."""

from contextlib import AbstractAsyncContextManager

from flex_emulator.cloud.store.accounts import AccountQueries, UserQueries
from flex_emulator.cloud.store.assignments import AssignmentQueries
from flex_emulator.cloud.store.cluster import ClusterQueries
from flex_emulator.cloud.store.jobs import JobQueries
from flex_emulator.cloud.store.journal import JournalQueries
from flex_emulator.cloud.store.ledger import LedgerQueries
from flex_emulator.cloud.store.snapshots import SnapshotQueries
from flex_emulator.cloud.store.state import PostgresStateQueries, StateQueries
from flex_emulator.cloud.store.subscriptions import SubscriptionQueries
from flex_emulator.cloud.store.systems import SystemQueries
from flex_emulator.cloud.store.transfers import TransferQueries
from flex_emulator.shared.sql import Dialect, Sql


class MetaQueries:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def get(self, key: str) -> str | None:
        row = await self._sql.one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else str(row["value"])

    async def set(self, key: str, value: str) -> None:
        await self._sql.run(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )


class Queries:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql
        self.meta = MetaQueries(sql)
        self.accounts = AccountQueries(sql)
        self.users = UserQueries(sql)
        self.subscriptions = SubscriptionQueries(sql)
        self.systems = SystemQueries(sql)
        self.assignments = AssignmentQueries(sql)
        self.snapshots = SnapshotQueries(sql)
        self.ledger = LedgerQueries(sql)
        self.jobs = JobQueries(sql)
        # what an issued snapshot and an assign write, at once
        self.transfers = TransferQueries(
            sql,
            assignments=self.assignments,
            jobs=self.jobs,
            ledger=self.ledger,
            snapshots=self.snapshots,
            subscriptions=self.subscriptions,
            systems=self.systems,
        )
        self.journal = JournalQueries(sql)  # the emulator's event journal
        self.cluster = ClusterQueries(sql)  # what the processes of a cloud on PostgreSQL share
        # the emulator's whole-state routes
        self.state = StateQueries(sql) if sql.dialect == Dialect.SQLITE else PostgresStateQueries(sql)

    def savepoint(self) -> AbstractAsyncContextManager[None]:
        """A nested step inside a transaction that can fail alone (one scheduled item of a batch)."""
        return self._sql.savepoint()
