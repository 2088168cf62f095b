"""The event journal keeps the newest events only, pruned a bounded batch per write transaction; cursors stay valid."""

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from flex_emulator.cloud.__main__ import parse_args as cloud_args
from flex_emulator.cloud.config import Config as CloudConfig
from flex_emulator.cloud.store import SqliteStore as CloudDatabase
from flex_emulator.home.__main__ import parse_args as home_args
from flex_emulator.home.app import create_app as create_home
from flex_emulator.home.config import Config as HomeConfig
from flex_emulator.home.store import Database as HomeDatabase
from flex_emulator.shared.clock import VirtualClock
from flex_emulator.shared.journal import DEFAULT_KEEP, Journal
from tests.kit.api import call


async def test_the_cloud_journal_keeps_the_newest_events_and_old_cursors_still_page(tmp_path: Path) -> None:
    db = CloudDatabase(tmp_path / "cloud.sqlite3", Journal(keep=50, prune_batch=20))
    await db.open()
    try:
        for number in range(30):
            db.journal.note("probe", number=number)
            await db.write_journal()
        early = await db.read.journal.after(0, 1000)
        assert [event["number"] for event in early] == list(range(30))
        cursor = early[4]["cursor"]

        for number in range(30, 300):  # one fact per transaction, as a busy service writes them
            db.journal.note("probe", number=number)
            await db.write_journal()
        kept = await db.read.journal.after(0, 1000)
        assert [event["number"] for event in kept] == list(range(250, 300))
        # A cursor from before the pruning still pages: from the oldest event kept on.
        assert await db.read.journal.after(int(cursor), 1000) == kept
    finally:
        await db.close()


async def test_a_burst_is_pruned_a_bounded_batch_per_transaction(tmp_path: Path) -> None:
    db = HomeDatabase(tmp_path / "home.sqlite3", Journal(keep=10, prune_batch=25))
    await db.open()
    try:
        for number in range(100):  # one transaction writes them all
            db.journal.note("probe", number=number)
        await db.write_journal()
        sizes = []
        for _ in range(4):
            sizes.append(len(await db.read.journal_after(0, 1000)))
            async with db.transaction():
                pass
        assert sizes == [75, 50, 25, 10]
        assert [event["number"] for event in await db.read.journal_after(0, 1000)] == list(range(90, 100))
    finally:
        await db.close()


async def test_keep_zero_keeps_everything(tmp_path: Path) -> None:
    db = HomeDatabase(tmp_path / "home.sqlite3", Journal(keep=0))
    await db.open()
    try:
        for number in range(120):
            db.journal.note("probe", number=number)
            await db.write_journal()
        assert len(await db.read.journal_after(0, 1000)) == 120
    finally:
        await db.close()


@pytest.fixture
def cloud_config(tmp_path: Path) -> CloudConfig:
    return CloudConfig(data_dir=tmp_path / "cloud", emulator_api=True, virtual_clock=True, journal_keep=20)


async def test_services_keep_as_many_events_as_configured(
    cloud: TestClient, aiohttp_client: AiohttpClient, tmp_path: Path, clock: VirtualClock
) -> None:
    for _ in range(60):
        await call(cloud, "POST", "/_emulator/clock", json={"advance_seconds": 60})
    events = (await call(cloud, "GET", "/_emulator/events?limit=1000"))["events"]
    assert len(events) == 20 and {event["kind"] for event in events} == {"clock_advanced"}

    home = await aiohttp_client(
        create_home(HomeConfig(data_dir=tmp_path / "home", offline=True, emulator_api=True, journal_keep=5), clock)
    )
    for _ in range(12):
        await call(home, "POST", "/api/v1/file-licenses", data=b"not a credits file", expect=400)
        await call(home, "GET", "/_emulator/events")
    events = (await call(home, "GET", "/_emulator/events?limit=1000"))["events"]
    assert [event["kind"] for event in events] == ["upload_refused"] * 5
    assert cloud_args(["--data", str(tmp_path), "--journal-keep", "0"])[0].journal_keep == 0
    assert home_args(["--data", str(tmp_path)]).journal_keep == DEFAULT_KEEP
