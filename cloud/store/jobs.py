"""SQL for scheduled work: one row per pending item, keyed by (kind, ref), ordered by its due time."""

from datetime import datetime

from flex_emulator.cloud.domain.models import Job, JobKind
from flex_emulator.cloud.store.records import job_row
from flex_emulator.shared.sql import Dialect, Sql
from flex_emulator.shared.timefmt import epoch, from_epoch


class JobQueries:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def schedule(self, kind: str, ref: str, due_at: datetime) -> None:
        await self._sql.run(
            "INSERT INTO jobs (kind, ref, due_at) VALUES (?, ?, ?) "
            "ON CONFLICT(kind, ref) DO UPDATE SET due_at = excluded.due_at",
            (kind, ref, epoch(due_at)),
        )

    async def schedule_many(self, items: list[tuple[str, str, datetime]], replace: bool = True) -> None:
        """(kind, ref, due_at) for each; with ``replace=False`` an item already scheduled keeps its time."""
        if items:
            keep = "DO UPDATE SET due_at = excluded.due_at WHERE jobs.due_at != excluded.due_at"
            on_conflict = keep if replace else "DO NOTHING"
            await self._sql.many(
                f"INSERT INTO jobs (kind, ref, due_at) VALUES (?, ?, ?) ON CONFLICT(kind, ref) {on_conflict}",
                [(kind, ref, epoch(due_at)) for kind, ref, due_at in items],
            )

    async def bring_forward_many(self, items: list[tuple[str, str, datetime]]) -> None:
        """(kind, ref, due_at) for each: scheduled at ``due_at`` unless already due earlier. For work whose
        handler looks again when it runs and reschedules itself if it is not yet due: an item renewed again
        and again (each snapshot renews every copy's validity) then costs no write until it is moved earlier."""
        if items:
            await self._sql.many(
                "INSERT INTO jobs (kind, ref, due_at) VALUES (?, ?, ?) "
                "ON CONFLICT(kind, ref) DO UPDATE SET due_at = excluded.due_at WHERE excluded.due_at < jobs.due_at",
                [(kind, ref, epoch(due_at)) for kind, ref, due_at in items],
            )

    async def unschedule(self, kind: str, ref: str) -> None:
        await self._sql.run("DELETE FROM jobs WHERE kind = ? AND ref = ?", (kind, ref))

    async def unschedule_many(self, items: list[tuple[str, str]]) -> None:
        """(kind, ref) for each: one statement per kind, whatever the number of items."""
        refs: dict[str, list[str]] = {}
        for kind, ref in items:
            refs.setdefault(kind, []).append(ref)
        for kind, kind_refs in refs.items():
            await self._sql.run(
                f"DELETE FROM jobs WHERE kind = ? AND ref IN (SELECT value FROM {self._sql.each('j')})",
                (kind, self._sql.ids(kind_refs)),
            )

    async def lock_systems_of(self, jobs: list[Job]) -> None:
        """Lock, in id order, every system the handlers of ``jobs`` may change (PostgreSQL; SQLite has one writer):
        a batch takes its locks in the order every transaction does, systems first (see SystemQueries.lock)."""
        if not jobs or self._sql.dialect != Dialect.POSTGRES:
            return
        by_system = [job.ref for job in jobs if job.kind == JobKind.CHECK_IN]
        by_assignment = [job.ref for job in jobs if job.kind in (JobKind.AUTO_REVOKE, JobKind.VALIDITY_END)]
        by_subscription = [job.ref for job in jobs if job.kind in (JobKind.TERM_END, JobKind.AUTO_ACTIVATE)]
        await self._sql.all(
            "SELECT id FROM systems WHERE id = ANY(?::text[]) "
            "OR id IN (SELECT system_id FROM assignments WHERE id = ANY(?::text[])) "
            "OR id IN (SELECT system_id FROM assignments WHERE subscription_id = ANY(?::text[]) AND state != 'ended') "
            "ORDER BY id FOR UPDATE",
            (by_system, by_assignment, by_subscription),
        )

    async def due(self, now: datetime, limit: int) -> list[Job]:
        rows = await self._sql.all(
            "SELECT kind, ref, due_at FROM jobs WHERE due_at <= ? ORDER BY due_at, kind, ref LIMIT ?",
            (epoch(now), limit),
        )
        return [job_row(row) for row in rows]

    async def next_due(self) -> datetime | None:
        row = await self._sql.one("SELECT MIN(due_at) AS due_at FROM jobs")
        return None if row is None or row["due_at"] is None else from_epoch(row["due_at"])

    async def count(self) -> int:
        row = await self._sql.one("SELECT COUNT(*) AS n FROM jobs")
        return int(row["n"]) if row else 0
