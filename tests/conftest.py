"""Fixtures shared by every test folder: a virtual clock and a real in-process cloud."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from cloud.app import create_app
from cloud.config import Config
from shared.clock import VirtualClock

START = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(start=START)


@pytest.fixture
def cloud_config(tmp_path: Path) -> Config:
    return Config(data_dir=tmp_path / "cloud", emulator_api=True, virtual_clock=True, ack_wait_seconds=5.0)


@pytest.fixture
async def cloud(aiohttp_client, cloud_config: Config, clock: VirtualClock) -> TestClient:  # type: ignore[no-untyped-def]
    return await aiohttp_client(create_app(cloud_config, clock))
