"""SQL for what the processes of one cloud on PostgreSQL share besides its state (``migrations_postgres.py``):
who is up, the signing key and the pages' secret, the link faults armed. A lone SQLite process keeps these in
its data folder and its memory instead, so these queries are PostgreSQL's only."""

from flex_emulator.shared.sql import Sql


class ClusterQueries:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def register_process(self, process_id: str, backend_pid: int) -> None:
        """This process is up; it lives as long as its server connection ``backend_pid`` (its bus listener)."""
        await self._sql.run(
            "INSERT INTO cloud_processes (id, backend_pid, backend_start) "
            "SELECT ?, pid, backend_start FROM pg_stat_activity WHERE pid = ?",
            (process_id, backend_pid),
        )

    async def live_processes(self) -> list[str]:
        """Forget the processes whose server connection is gone (stopped, or killed: the server closes a dead
        client's connection), and return those still up."""
        await self._sql.run(
            "DELETE FROM cloud_processes p WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity a "
            "WHERE a.pid = p.backend_pid AND a.backend_start = p.backend_start)"
        )
        return [str(row["id"]) for row in await self._sql.all("SELECT id FROM cloud_processes ORDER BY id")]

    async def processes(self) -> list[str]:
        """The processes registered (some may be gone: ``live_processes`` sweeps)."""
        return [str(row["id"]) for row in await self._sql.all("SELECT id FROM cloud_processes ORDER BY id")]

    async def leave(self, process_id: str) -> None:
        await self._sql.run("DELETE FROM cloud_processes WHERE id = ?", (process_id,))

    async def secret(self, name: str, made: str) -> str:
        """The shared secret ``name``; the first process to ask stores ``made`` (any later one gets that)."""
        await self._sql.run(
            "INSERT INTO cloud_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", (name, made)
        )
        row = await self._sql.one("SELECT value FROM cloud_secrets WHERE name = ?", (name,))
        assert row is not None
        return str(row["value"])

    async def get_secret(self, name: str) -> str | None:
        row = await self._sql.one("SELECT value FROM cloud_secrets WHERE name = ?", (name,))
        return None if row is None else str(row["value"])

    async def replace_secret(self, name: str, value: str) -> None:
        await self._sql.run(
            "INSERT INTO cloud_secrets (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )

    async def link_faults(self) -> dict[str, str]:
        """Every system's armed faults as JSON text."""
        rows = await self._sql.all("SELECT system_id, faults FROM link_faults")
        return {str(row["system_id"]): str(row["faults"]) for row in rows}

    async def set_link_faults(self, system_id: str, faults: str | None) -> None:
        if faults is None:
            await self._sql.run("DELETE FROM link_faults WHERE system_id = ?", (system_id,))
        else:
            await self._sql.run(
                "INSERT INTO link_faults (system_id, faults) VALUES (?, ?) "
                "ON CONFLICT (system_id) DO UPDATE SET faults = excluded.faults",
                (system_id, faults),
            )

    async def clear_link_faults(self) -> None:
        await self._sql.run("DELETE FROM link_faults")
