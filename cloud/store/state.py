"""The cloud's SQL for the emulator's whole-state routes: empty every table, dump every table, load a dump.

Generic over the tables SQLite reports, so a new or reshaped table is dumped and restored without
changes here. Reached as ``tx.state``."""

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from flex_emulator.shared.sqlite import Sql

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

    async def dump_tables(self) -> dict[str, TableDump]:
        tables: dict[str, TableDump] = {}
        for table in await self.table_names():
            columns = await self._columns(table)
            rows = await self._sql.all(
                f'SELECT * FROM "{table}" ORDER BY rowid' if table != "meta" else 'SELECT * FROM "meta" ORDER BY key'
            )
            tables[table] = {"columns": columns, "rows": [[_encode(cell) for cell in row] for row in rows]}
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
        for name, _ in triggers:
            await self._sql.run(f'DROP TRIGGER "{name}"')
        yield
        for _, sql in triggers:
            await self._sql.run(str(sql))

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
        for table in await self.table_names():
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
            await self._sql.many(sql, [tuple(_decode(cell) for cell in row) for row in dump["rows"]])
        broken = await self._sql.all("PRAGMA foreign_key_check")
        if broken:
            raise StateError(f"Table {broken[0][0]} has a row that refers to a missing row of table {broken[0][2]}.")
