"""HOME's time mark: written down while idle, and never moved by a HOME on a shared clock file."""

import asyncio
from datetime import datetime
from pathlib import Path

from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from flex_emulator.home.appkeys import NODE
from flex_emulator.home.domain.node import TIME_MARK_META
from flex_emulator.shared.clock import VirtualClock
from flex_emulator.shared.timefmt import from_epoch
from tests.kit.home import (
    DAY,
    START,
    HomeFactory,
    credits_view,
    entry,
    snapshot_token,
    system_id,
    upload,
)


async def stored_mark(home: TestClient) -> datetime | None:
    value = await home.app[NODE].db.read.meta(TIME_MARK_META)
    return from_epoch(int(value)) if value else None


async def test_an_idle_home_writes_its_time_mark_down_so_a_rewind_and_restart_bring_nothing_back(
    start_home: HomeFactory, cloud_key: Ed25519PrivateKey, clock: VirtualClock
) -> None:
    home = await start_home(time_mark_seconds=0.02)
    response = await upload(
        home, snapshot_token(cloud_key, await system_id(home), 1, (entry("long", 8, valid_until=START + 30 * DAY),))
    )
    assert response.status == 200
    clock.advance(31 * 86400)  # 31 days pass; nobody reads HOME
    async with asyncio.timeout(5):
        while (mark := await stored_mark(home)) is None or mark < START + 31 * DAY:
            await asyncio.sleep(0.02)
    clock.rewind(START + DAY)
    assert (await credits_view(home))["total"] == 0
    await home.close()
    home = await start_home()
    view = await credits_view(home)
    assert view["total"] == 0 and view["status"]["state"] == "expired"
    assert view["now"] == "2026-12-29T10:00:00Z"


async def test_home_on_a_shared_clock_file_refuses_to_move_time_and_points_to_the_cloud(
    start_home: HomeFactory, tmp_path: Path
) -> None:
    clock_file = tmp_path / "clock"
    shared = VirtualClock(start=START, path=clock_file)
    home = await start_home(clock=shared, clock_file=clock_file, virtual_clock=True)
    for body in ({"advance_seconds": 3600}, {"now": "2026-12-01T00:00:00Z"}):
        response = await home.post("/_emulator/clock", json=body)
        assert response.status == 409
        error = (await response.json())["error"]
        assert error["code"] == "clock_shared"
        assert "cloud's POST /_emulator/clock" in error["message"]
    assert shared.now() == START
    got = await home.get("/_emulator/clock")
    assert got.status == 200 and (await got.json())["now"] == "2026-11-28T10:00:00Z"
