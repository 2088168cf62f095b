"""Fixtures shared by every test folder: a virtual clock and a real in-process cloud."""

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from flex_emulator.cloud.app import create_app
from flex_emulator.cloud.config import Config
from flex_emulator.shared.clock import VirtualClock
from tests.kit import START


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(start=START)


@pytest.fixture
def cloud_config(tmp_path: Path) -> Config:
    return Config(data_dir=tmp_path / "cloud", emulator_api=True, virtual_clock=True, ack_wait_seconds=5.0)


@pytest.fixture
async def cloud(aiohttp_client: AiohttpClient, cloud_config: Config, clock: VirtualClock) -> TestClient:
    return await aiohttp_client(create_app(cloud_config, clock))
