"""The end-to-end fixture: the harness's in-process world of a real cloud and real HOME nodes (tests/kit/world.py),
on each backend: SQLite (one cloud process), and PostgreSQL with two cloud processes as one cloud (HOMEs linked to
either; the tenant works through the first)."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.kit.postgres import SessionPostgres
from tests.kit.world import World


# PostgreSQL starts a server for the session: slow (scripts/test --fast runs the suite on SQLite only).
@pytest.fixture(params=["sqlite", pytest.param("postgresql-2", marks=pytest.mark.slow)])
async def cloud_database(request: pytest.FixtureRequest) -> AsyncIterator[str | None]:
    """sqlite: one cloud process on its file; postgresql-2: a fresh PostgreSQL database for two cloud processes."""
    if request.param == "sqlite":
        yield None
        return
    postgres: SessionPostgres = request.getfixturevalue("postgres")
    url = await postgres.fresh()
    yield url
    await postgres.drop(url)


@pytest.fixture
async def world(cloud_database: str | None, tmp_path: Path) -> AsyncIterator[World]:
    # the database first: it is dropped after the servers on it have closed
    settings = {} if cloud_database is None else {"database": cloud_database, "processes": 2}
    async with World.start(tmp_path, **settings) as world:
        yield world
        await world.check()  # whatever a test did, it must end with the invariant intact
