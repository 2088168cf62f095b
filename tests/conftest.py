"""Fixtures shared by every test folder: a virtual clock and a real in-process cloud; and what makes a test slow."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from flex_emulator.cloud.app import create_app
from flex_emulator.cloud.config import Config
from flex_emulator.cloud.store import Database, SqliteStore
from flex_emulator.cloud.store.postgres import PostgresStore
from flex_emulator.shared.clock import VirtualClock
from tests.kit import START
from tests.kit.postgres import SessionPostgres


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(start=START)


@pytest.fixture
def cloud_config(tmp_path: Path) -> Config:
    return Config(data_dir=tmp_path / "cloud", emulator_api=True, virtual_clock=True, ack_wait_seconds=5.0)


@pytest.fixture
async def cloud(aiohttp_client: AiohttpClient, cloud_config: Config, clock: VirtualClock) -> TestClient:
    return await aiohttp_client(create_app(cloud_config, clock))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A real browser, and a harness world of real processes (``flex_world(mode="subprocess")``, as in
    docs/examples), take seconds: such tests are ``slow`` like those marked so by hand, and
    ``scripts/test --fast`` leaves them out."""
    for item in items:
        world = item.get_closest_marker("flex_world")
        if item.get_closest_marker("browser") or (world is not None and world.kwargs.get("mode") == "subprocess"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def postgres() -> Iterator[SessionPostgres]:
    """The session's one PostgreSQL server, started by the first test that needs it."""
    server = SessionPostgres()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """The cloud's store, opened, on each backend: a SQLite file in tmp_path, a fresh PostgreSQL database."""
    if request.param == "sqlite":
        db: Database = SqliteStore(tmp_path / "cloud.sqlite3")
        await db.open()
        yield db
        await db.close()
        return
    postgres: SessionPostgres = request.getfixturevalue("postgres")
    url = await postgres.fresh()
    db = PostgresStore(url)
    await db.open()
    yield db
    await db.close()
    await postgres.drop(url)


@pytest.fixture
async def postgres_second(store: Database) -> AsyncIterator[Database | None]:
    """Another process's store on the same PostgreSQL database as ``store``; None on SQLite (one process)."""
    if not isinstance(store, PostgresStore):
        yield None
        return
    other = PostgresStore(store.url)
    await other.open()
    yield other
    await other.close()
