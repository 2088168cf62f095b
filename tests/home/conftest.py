"""Fixtures for the HOME tests: a test cloud key, a virtual clock, and real HOME apps on real files."""

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from flex_emulator.home.app import create_app
from flex_emulator.home.config import Config
from flex_emulator.shared.clock import VirtualClock
from tests.kit.home import START, FakeCloud, HomeFactory, write_jwks


@pytest.fixture
def cloud_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def cloud_key_file(tmp_path: Path, cloud_key: Ed25519PrivateKey) -> Path:
    return write_jwks(tmp_path / "cloud-jwks.json", cloud_key)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(start=START)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "home-data"


@pytest.fixture
def make_config(data_dir: Path, cloud_key_file: Path) -> Callable[..., Config]:
    def make(**overrides: Any) -> Config:
        settings: dict[str, Any] = {
            "data_dir": data_dir,
            "cloud_url": "http://127.0.0.1:9",
            "offline": True,
            "emulator_api": True,
            "cloud_key_file": cloud_key_file,
            "reconnect_min_seconds": 0.02,
            "reconnect_max_seconds": 0.2,
        }
        settings.update(overrides)
        return Config(**settings)

    return make


@pytest.fixture
def start_home(aiohttp_client: Any, make_config: Callable[..., Config], clock: VirtualClock) -> HomeFactory:
    """Start a HOME app (again, for restarts) on the test's data folder and return its test client."""

    async def start(**overrides: Any) -> TestClient:
        app_clock = overrides.pop("clock", clock)
        return await aiohttp_client(create_app(make_config(**overrides), app_clock))

    return start


@pytest.fixture
async def home(start_home: HomeFactory) -> TestClient:
    return await start_home()


@pytest.fixture
def fake_cloud(cloud_key: Ed25519PrivateKey) -> FakeCloud:
    return FakeCloud(cloud_key)


@pytest.fixture
async def cloud_server(aiohttp_server: Callable[..., Awaitable[TestServer]], fake_cloud: FakeCloud) -> TestServer:
    return await aiohttp_server(fake_cloud.app())
