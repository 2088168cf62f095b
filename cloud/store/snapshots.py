"""SQL for the snapshots issued to each system (the signed copies of its credits)."""

from cloud.models import IssuedSnapshot
from cloud.store.records import SNAPSHOT_COLUMNS, snapshot_row, ts
from shared.sqlite import Sql
from shared.timefmt import epoch


class SnapshotQueries:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def insert(self, snap: IssuedSnapshot) -> None:
        await self._sql.run(
            f"INSERT INTO snapshots ({SNAPSHOT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
            (snap.system_id, snap.seq, epoch(snap.issued_at), epoch(snap.expires_at), ts(snap.check_in_at), snap.token),
        )

    async def latest(self, system_id: str) -> IssuedSnapshot | None:
        row = await self._sql.one(
            f"SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE system_id = ? ORDER BY seq DESC LIMIT 1", (system_id,)
        )
        return None if row is None else snapshot_row(row)
