"""The cloud's SQL for the emulator's whole-state routes: empty every table, dump every table, load a dump.

Generic over the tables SQLite reports, so a new or reshaped table is dumped and restored without
changes here. Reached as ``tx.state``."""

import base64
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from flex_emulator.shared.sql import Sql

TableDump = dict[str, Any]  # {"columns": [name, ...], "rows": [[value, ...], ...]}


class StateError(ValueError):
    """A state document that does not fit this database."""


def _encode(value: object) -> object:
    if isinstance(value, bytes):
        return {"base64": base64.b64encode(value).decode()}
    return value


def _decode(value: object) -> object:
    if isinstance(value, dict):
        if set(value) != {"base64"} or not isinstance(value["base64"], str):
            raise StateError('A cell is an object other than {"base64": ...}.')
        try:
            return base64.b64decode(value["base64"], validate=True)
        except ValueError:
            raise StateError("A cell's base64 text is not valid.") from None
    if value is None or isinstance(value, (str, int, float)):
        return value
    raise StateError('A cell must be text, a number, null or {"base64": ...}.')


class StateQueries:
    """SQLite's catalog (``sqlite_master``, ``PRAGMA table_info``); ``PostgresStateQueries`` reads PostgreSQL's."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def table_names(self) -> list[str]:
        rows = await self._sql.all(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
        return [str(row[0]) for row in rows]

    async def schema_version(self) -> int:
        row = await self._sql.one("PRAGMA user_version")
        return int(row[0]) if row else 0

    async def _columns(self, table: str) -> list[str]:
        return [str(row[1]) for row in await self._sql.all(f'PRAGMA table_info("{table}")')]

    async def _order(self, table: str) -> str:
        return "key" if table == "meta" else "rowid"

    async def dump_tables(self) -> dict[str, TableDump]:
        tables: dict[str, TableDump] = {}
        for table in await self.table_names():
            columns = await self._columns(table)
            rows = await self._sql.all(
                f'SELECT {", ".join(columns)} FROM "{table}" ORDER BY {await self._order(table)}'
            )
            tables[table] = {"columns": columns, "rows": [[_encode(row[column]) for column in columns] for row in rows]}
        return tables

    async def empty_tables(self) -> None:
        """Delete every row of every table, append-only ones included (their guards step aside meanwhile)."""
        async with self._guards_lifted():
            for table in await self.table_names():
                await self._sql.run(f'DELETE FROM "{table}"')

    @asynccontextmanager
    async def _guards_lifted(self) -> AsyncIterator[None]:
        """Drop the triggers (the ledger's append-only guard) and make them again, inside the caller's transaction."""
        triggers = await self._sql.all("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
        await self._sql.run("PRAGMA defer_foreign_keys = ON")
        for trigger in triggers:
            await self._sql.run(f'DROP TRIGGER "{trigger["name"]}"')
        yield
        for trigger in triggers:
            await self._sql.run(str(trigger["sql"]))

    async def load_tables(self, tables: dict[str, Any]) -> None:
        """Replace every table's rows with ``tables`` (a ``dump_tables`` result); raises StateError on a mismatch."""
        names = await self.table_names()
        if sorted(tables) != names:
            raise StateError(
                f"The document's tables ({', '.join(sorted(tables))}) are not this database's ({', '.join(names)})."
            )
        async with self._guards_lifted():
            await self._load(tables, names)

    async def _load(self, tables: dict[str, Any], names: list[str]) -> None:
        for table in names:
            await self._sql.run(f'DELETE FROM "{table}"')
        for table in names:
            dump = tables[table]
            if (
                not isinstance(dump, dict)
                or not isinstance(dump.get("columns"), list)
                or not isinstance(dump.get("rows"), list)
            ):
                raise StateError(f"Table {table} must be {{columns: [...], rows: [[...]]}}.")
            columns = await self._columns(table)
            if dump["columns"] != columns:
                raise StateError(f"Table {table} has columns {columns}, the document {dump['columns']}.")
            sql = f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({", ".join("?" for _ in columns)})'
            for row in dump["rows"]:
                if not isinstance(row, list) or len(row) != len(columns):
                    raise StateError(f"A row of table {table} does not have {len(columns)} cells.")
            await self._insert(table, sql, [tuple(_decode(cell) for cell in row) for row in dump["rows"]])
        await self._check_references()

    async def _insert(self, table: str, sql: str, rows: list[tuple[object, ...]]) -> None:
        try:
            await self._sql.many(sql, rows)
        except sqlite3.Error as exc:  # a CHECK or NOT NULL the document's rows break: it does not fit
            raise StateError(f"A row of table {table} does not fit its columns ({exc}).") from None

    async def _check_references(self) -> None:
        broken = await self._sql.all("PRAGMA foreign_key_check")
        if broken:
            raise StateError(f"Table {broken[0][0]} has a row that refers to a missing row of table {broken[0][2]}.")


# Tables of the running cloud rather than of its state: which processes are up, the signing key and page secret
# they share, the migrations applied, the link faults armed. Never dumped, loaded or emptied with the state.
CLUSTER_TABLES = ("cloud_processes", "cloud_secrets", "link_faults", "schema_migrations")
# The columns numbered by a sequence: after a load the next number is past every row loaded.
NUMBERED = {"ledger": ("id",), "journal": ("id", "seq")}


class PostgresStateQueries(StateQueries):
    """The same whole-state actions on PostgreSQL: its catalog, its append-only guards lifted by a setting of the
    transaction (``flex.unguarded``), references checked when the load is done, id sequences moved past the rows
    loaded. A value of the wrong type for its column is a StateError, as a bad cell is."""

    async def table_names(self) -> list[str]:
        rows = await self._sql.all(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
            "AND table_type = 'BASE TABLE' AND NOT (table_name = ANY(?::text[])) ORDER BY table_name",
            (list(CLUSTER_TABLES),),
        )
        return [str(row[0]) for row in rows]

    async def schema_version(self) -> int:
        row = await self._sql.one("SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations")
        return int(row["version"]) if row else 0

    async def _columns(self, table: str) -> list[str]:
        rows = await self._sql.all(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = ? ORDER BY ordinal_position",
            (table,),
        )
        return [str(row[0]) for row in rows]

    async def _order(self, table: str) -> str:
        rows = await self._sql.all(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey::int2[]) WHERE i.indrelid = ?::regclass AND i.indisprimary "
            "ORDER BY array_position(i.indkey::int2[], a.attnum)",
            (table,),
        )
        return ", ".join(str(row[0]) for row in rows) or "1"

    @asynccontextmanager
    async def _guards_lifted(self) -> AsyncIterator[None]:
        await self._sql.run("SELECT set_config('flex.unguarded', 'on', true)")
        await self._sql.run("SET CONSTRAINTS ALL DEFERRED")
        yield
        await self._sql.run("SELECT set_config('flex.unguarded', 'off', true)")

    async def _insert(self, table: str, sql: str, rows: list[tuple[object, ...]]) -> None:
        try:
            async with self._sql.savepoint():
                await self._sql.many(sql, rows)
        except Exception as exc:  # the driver's type and constraint errors: the document does not fit
            raise StateError(f"A row of table {table} does not fit its columns ({type(exc).__name__}).") from None
        for column in NUMBERED.get(table, ()):
            await self._sql.run(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                f"COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"
            )

    async def _check_references(self) -> None:
        try:
            async with self._sql.savepoint():
                await self._sql.run("SET CONSTRAINTS ALL IMMEDIATE")
        except Exception:  # a foreign key violated by the rows loaded
            raise StateError("A row refers to a missing row of another table.") from None
