"""SQL for the snapshots issued to each system (the signed copies of its credits)."""

from flex_emulator.cloud.domain.models import IssuedSnapshot
from flex_emulator.cloud.store.records import SNAPSHOT_COLUMNS, snapshot_row, ts
from flex_emulator.shared.sql import Sql
from flex_emulator.shared.timefmt import epoch


class SnapshotQueries:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def insert(self, snap: IssuedSnapshot) -> None:
        """Record the system's latest snapshot. Only the latest is ever read again (the ledger keeps what each
        one held), and a token is about 70 bytes per assignment: keeping them all, a system of 1,000
        assignments grew the database by 70 kB with every change."""
        await self._sql.run("DELETE FROM snapshots WHERE system_id = ? AND seq < ?", (snap.system_id, snap.seq))
        await self._sql.run(
            f"INSERT INTO snapshots ({SNAPSHOT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
            (snap.system_id, snap.seq, epoch(snap.issued_at), epoch(snap.expires_at), ts(snap.check_in_at), snap.token),
        )

    async def latest(self, system_id: str) -> IssuedSnapshot | None:
        row = await self._sql.one(
            f"SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE system_id = ? ORDER BY seq DESC LIMIT 1", (system_id,)
        )
        return None if row is None else snapshot_row(row)

    async def latest_many(self, system_ids: list[str]) -> dict[str, IssuedSnapshot]:
        rows = await self._sql.all(
            f"SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE (system_id, seq) IN "
            "(SELECT system_id, MAX(seq) FROM snapshots "
            f" WHERE system_id IN (SELECT value FROM {self._sql.each('j')}) GROUP BY system_id)",
            (self._sql.ids(system_ids),),
        )
        return {row["system_id"]: snapshot_row(row) for row in rows}
