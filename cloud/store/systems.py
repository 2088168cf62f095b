"""SQL for linked systems: identity, the snapshot sequence, and what HOME last acknowledged."""

from datetime import datetime

from flex_emulator.cloud.domain.models import System
from flex_emulator.cloud.store.records import SYSTEM_COLUMNS, id_list, prefixed, system_row
from flex_emulator.shared.sqlite import Sql
from flex_emulator.shared.timefmt import epoch


class SystemQueries:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def insert(self, system_id: str, account_id: str, label: str, public_key: bytes, now: datetime) -> None:
        await self._sql.run(
            "INSERT INTO systems (id, account_id, label, public_key, linked_at, seq) VALUES (?, ?, ?, ?, ?, "
            "COALESCE((SELECT seq FROM system_seq_floors WHERE system_id = ?), 0))",
            (system_id, account_id, label, public_key, epoch(now), system_id),
        )

    async def get(self, system_id: str) -> System | None:
        row = await self._sql.one(f"SELECT {SYSTEM_COLUMNS} FROM systems WHERE id = ?", (system_id,))
        return None if row is None else system_row(row)

    async def get_many(self, ids: list[str]) -> dict[str, System]:
        rows = await self._sql.all(
            f"SELECT {prefixed(SYSTEM_COLUMNS, 't')} FROM json_each(?) j JOIN systems t ON t.id = j.value",
            (id_list(ids),),
        )
        return {row["id"]: system_row(row) for row in rows}

    async def of_account(self, account_id: str) -> list[System]:
        rows = await self._sql.all(
            f"SELECT {SYSTEM_COLUMNS} FROM systems WHERE account_id = ? ORDER BY label, id", (account_id,)
        )
        return [system_row(row) for row in rows]

    async def listing(self, limit: int) -> list[System]:
        """Every linked system of every account (the inspector's chooser), by account and label."""
        rows = await self._sql.all(
            f"SELECT {SYSTEM_COLUMNS} FROM systems ORDER BY account_id, label, id LIMIT ?", (limit,)
        )
        return [system_row(row) for row in rows]

    async def delete(self, system_id: str) -> None:
        """Unlink: its assignments, snapshots and check-in go; the highest seq it had is kept as a floor."""
        await self._sql.run(
            "INSERT INTO system_seq_floors (system_id, seq) SELECT id, MAX(seq, acked_seq) FROM systems WHERE id = ? "
            "ON CONFLICT(system_id) DO UPDATE SET seq = MAX(seq, excluded.seq)",
            (system_id,),
        )
        for table in ("snapshots", "assignments"):
            await self._sql.run(f"DELETE FROM {table} WHERE system_id = ?", (system_id,))
        await self._sql.run("DELETE FROM jobs WHERE kind = 'check_in' AND ref = ?", (system_id,))
        await self._sql.run("DELETE FROM systems WHERE id = ?", (system_id,))

    async def touch(self, system_id: str, now: datetime) -> None:
        await self._sql.run(
            "UPDATE systems SET last_seen = MAX(COALESCE(last_seen, 0), ?) WHERE id = ?", (epoch(now), system_id)
        )

    async def set_seq(self, system_id: str, seq: int) -> None:
        await self._sql.run("UPDATE systems SET seq = ?, dirty = 0 WHERE id = ?", (seq, system_id))

    async def record_ack(self, system_id: str, seq: int) -> None:
        await self._sql.run("UPDATE systems SET acked_seq = MAX(acked_seq, ?) WHERE id = ?", (seq, system_id))

    async def mark_dirty(self, system_ids: list[str]) -> None:
        """These systems' credits changed while no snapshot was issued: the next contact issues one."""
        await self._sql.run(
            "UPDATE systems SET dirty = 1 WHERE id IN (SELECT value FROM json_each(?))", (id_list(system_ids),)
        )

    async def quarters_held(self, account_id: str) -> dict[str, int]:
        """Credits (in quarters) not yet returned, per system of the account."""
        rows = await self._sql.all(
            "SELECT system_id, SUM(quarters) AS quarters FROM assignments WHERE account_id = ? AND state != 'ended' "
            "GROUP BY system_id",
            (account_id,),
        )
        return {row["system_id"]: int(row["quarters"]) for row in rows}
