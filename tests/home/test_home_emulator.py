"""The emulator clock routes move HOME's virtual clock forward, and HOME's time follows."""

from datetime import UTC, datetime
from pathlib import Path

from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from flex_emulator.home.app import make_clock
from flex_emulator.home.config import Config
from flex_emulator.shared.clock import VirtualClock, WallClock
from tests.kit.home import (
    DAY,
    START,
    credits_view,
    entry,
    snapshot_token,
    system_id,
    upload,
)


async def test_clock_reads_and_advances(home: TestClient, clock: VirtualClock) -> None:
    got = await (await home.get("/_emulator/clock")).json()
    assert got == {"now": "2026-11-28T10:00:00Z", "virtual": True, "clock": "2026-11-28T10:00:00Z"}
    moved = await (await home.post("/_emulator/clock", json={"advance_seconds": 3600})).json()
    assert moved["now"] == "2026-11-28T11:00:00Z"
    moved = await (await home.post("/_emulator/clock", json={"now": "2026-12-01T00:00:00Z"})).json()
    assert moved["now"] == "2026-12-01T00:00:00Z"
    assert clock.now() == datetime(2026, 12, 1, tzinfo=UTC)


async def test_advancing_the_clock_expires_credits(home: TestClient, cloud_key: Ed25519PrivateKey) -> None:
    sid = await system_id(home)
    await upload(home, snapshot_token(cloud_key, sid, 1, (entry(valid_until=START + DAY),)))
    assert (await credits_view(home))["total"] == 2
    await home.post("/_emulator/clock", json={"advance_seconds": 86400})
    assert (await credits_view(home))["total"] == 0


async def test_a_rewound_machine_clock_shows_homes_own_time(home: TestClient, clock: VirtualClock) -> None:
    await home.post("/_emulator/clock", json={"advance_seconds": 86400})
    clock.rewind(START)
    got = await (await home.get("/_emulator/clock")).json()
    assert got["now"] == "2026-11-29T10:00:00Z"
    assert got["clock"] == "2026-11-28T10:00:00Z"


def test_clock_choice_follows_the_config(tmp_path: Path) -> None:
    assert isinstance(make_clock(Config(data_dir=tmp_path)), WallClock)
    assert isinstance(make_clock(Config(data_dir=tmp_path, virtual_clock=True)), VirtualClock)
    shared_file = tmp_path / "clock"
    first = make_clock(Config(data_dir=tmp_path, clock_file=shared_file))
    assert isinstance(first, VirtualClock)
    first.advance(3600)
    second = make_clock(Config(data_dir=tmp_path, clock_file=shared_file))
    assert second.now() == first.now()
