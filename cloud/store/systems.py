"""SQL for linked systems: identity, the snapshot sequence, and what HOME last acknowledged."""

from datetime import datetime

from flex_emulator.cloud.domain.models import System
from flex_emulator.cloud.store.records import SYSTEM_COLUMNS, prefixed, system_row
from flex_emulator.shared.sql import Dialect, Sql
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
            f"SELECT {prefixed(SYSTEM_COLUMNS, 't')} FROM {self._sql.each('j')} JOIN systems t ON t.id = j.value",
            (self._sql.ids(ids),),
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
            f"INSERT INTO system_seq_floors (system_id, seq) SELECT id, {self._sql.greatest}(seq, acked_seq) "
            "FROM systems WHERE id = ? "
            f"ON CONFLICT(system_id) DO UPDATE SET seq = {self._sql.greatest}(system_seq_floors.seq, excluded.seq)",
            (system_id,),
        )
        for table in ("snapshots", "assignments"):
            await self._sql.run(f"DELETE FROM {table} WHERE system_id = ?", (system_id,))
        await self._sql.run("DELETE FROM jobs WHERE kind = 'check_in' AND ref = ?", (system_id,))
        await self._sql.run("DELETE FROM systems WHERE id = ?", (system_id,))

    async def lock(self, system_id: str) -> System | None:
        """The system, its row locked until the transaction ends (PostgreSQL; SQLite's one writer holds every row):
        whatever decides from its seq, its credits or whether it is online takes this first."""
        lock = " FOR UPDATE" if self._sql.dialect == Dialect.POSTGRES else ""
        row = await self._sql.one(f"SELECT {SYSTEM_COLUMNS} FROM systems WHERE id = ?{lock}", (system_id,))
        return None if row is None else system_row(row)

    async def lock_many(self, ids: list[str]) -> None:
        """Lock these systems' rows, in id order (the one order every transaction takes them in: no deadlock)."""
        if ids and self._sql.dialect == Dialect.POSTGRES:
            await self._sql.all(
                f"SELECT id FROM systems WHERE id IN (SELECT value FROM {self._sql.each('j')}) ORDER BY id FOR UPDATE",
                (self._sql.ids(ids),),
            )

    async def connected(self, system_id: str, via: str, now: datetime) -> None:
        """Its link is up, held by process ``via``."""
        await self._sql.run(
            f"UPDATE systems SET last_seen = {self._sql.greatest}(COALESCE(last_seen, 0), ?), online_via = ? "
            "WHERE id = ?",
            (epoch(now), via, system_id),
        )

    async def disconnected(self, system_id: str, via: str, now: datetime) -> None:
        """The link held by ``via`` is down (seen until now); a newer link through another process stays."""
        await self._sql.run(
            f"UPDATE systems SET last_seen = {self._sql.greatest}(COALESCE(last_seen, 0), ?), "
            "online_via = CASE WHEN online_via = ? THEN NULL ELSE online_via END WHERE id = ?",
            (epoch(now), via, system_id),
        )

    async def unacknowledged_via(self, via: str) -> list[tuple[str, int]]:
        """(id, seq) of each system whose link process ``via`` holds and whose latest copy HOME has not
        acknowledged."""
        rows = await self._sql.all("SELECT id, seq FROM systems WHERE online_via = ? AND seq > acked_seq", (via,))
        return [(row["id"], int(row["seq"])) for row in rows]

    async def release_links(self, live: list[str]) -> list[str]:
        """Links held by processes not in ``live`` are gone (the process stopped or died): returns those systems."""
        rows = await self._sql.all(
            f"UPDATE systems SET online_via = NULL WHERE online_via IS NOT NULL "
            f"AND online_via NOT IN (SELECT value FROM {self._sql.each('j')}) RETURNING id",
            (self._sql.ids(live),),
        )
        return [str(row["id"]) for row in rows]

    async def touch(self, system_id: str, now: datetime) -> None:
        await self._sql.run(
            f"UPDATE systems SET last_seen = {self._sql.greatest}(COALESCE(last_seen, 0), ?) WHERE id = ?",
            (epoch(now), system_id),
        )

    async def set_seq(self, system_id: str, seq: int) -> None:
        await self._sql.run("UPDATE systems SET seq = ?, dirty = 0 WHERE id = ?", (seq, system_id))

    async def record_ack(self, system_id: str, seq: int) -> None:
        await self._sql.run(
            f"UPDATE systems SET acked_seq = {self._sql.greatest}(acked_seq, ?) WHERE id = ?", (seq, system_id)
        )

    async def record_home_usage(self, system_id: str, quarters: int, signed_at: datetime) -> None:
        """What HOME's running resources used, from a receipt: kept unless a later-signed one said otherwise."""
        await self._sql.run(
            "UPDATE systems SET home_in_use = ?, home_in_use_at = ? "
            "WHERE id = ? AND (home_in_use_at IS NULL OR home_in_use_at <= ?)",
            (quarters, epoch(signed_at), system_id, epoch(signed_at)),
        )

    async def mark_dirty(self, system_ids: list[str]) -> None:
        """These systems' credits changed while no snapshot was issued: the next contact issues one."""
        await self._sql.run(
            f"UPDATE systems SET dirty = 1 WHERE id IN (SELECT value FROM {self._sql.each('j')})",
            (self._sql.ids(system_ids),),
        )

    async def quarters_held(self, account_id: str) -> dict[str, int]:
        """Credits (in quarters) not yet returned, per system of the account."""
        rows = await self._sql.all(
            "SELECT system_id, SUM(quarters) AS quarters FROM assignments WHERE account_id = ? AND state != 'ended' "
            "GROUP BY system_id",
            (account_id,),
        )
        return {row["system_id"]: int(row["quarters"]) for row in rows}  # int(): PostgreSQL sums as numeric
