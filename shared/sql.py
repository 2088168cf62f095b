"""What a store's queries hold: ``Sql``, the statement runner of one connection, whichever database it speaks.

Statements are raw parameterised SQL with ``?`` marks (``?1``, ``?2`` where one value is used twice). Where the
two dialects differ, a query writes both, or uses one of the few fragments here (``each``, ``greatest``,
``least``, ``same``): the SQL stays readable and the store stays the only place that knows it."""

from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from enum import StrEnum
from typing import Any, Protocol

Params = Sequence[Any]


class Row(Protocol):
    """A result row read by column name (sqlite3.Row, asyncpg.Record): never by position in the stores."""

    def __getitem__(self, key: str | int, /) -> Any: ...


class Dialect(StrEnum):
    SQLITE = "sqlite"
    POSTGRES = "postgresql"


class Sql(Protocol):
    dialect: Dialect
    # SQL's two-argument maximum and minimum (MAX/MIN in SQLite, GREATEST/LEAST in PostgreSQL)
    greatest: str
    least: str
    # ``a {same} b``: equal, NULL equal to NULL (IS / IS NOT DISTINCT FROM)
    same: str

    async def all(self, sql: str, params: Params = ()) -> list[Row]: ...

    async def one(self, sql: str, params: Params = ()) -> Row | None: ...

    async def run(self, sql: str, params: Params = ()) -> int:
        """One statement; returns how many rows it changed."""
        ...

    async def many(self, sql: str, rows: Iterable[Params]) -> int:
        """One statement for each of ``rows``; how many rows changed in all, or -1 where the driver does not
        say (PostgreSQL: a query that needs the count is written set-based there)."""
        ...

    def savepoint(self) -> AbstractAsyncContextManager[None]:
        """A nested step inside a transaction that can fail alone."""
        ...

    def each(self, alias: str) -> str:
        """A table of the ids passed as one parameter (``ids``), with one column ``value``:
        ``SELECT ... FROM {sql.each('j')} JOIN t ON t.id = j.value``."""
        ...

    def ids(self, values: Iterable[str]) -> object:
        """Many ids as the one parameter ``each`` reads (sorted, each once)."""
        ...
