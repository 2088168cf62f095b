"""The end-to-end fixture: a world of a real cloud and real HOME nodes (see tests/kit/world.py)."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from flex_emulator.cloud.app import create_app as create_cloud
from flex_emulator.cloud.config import Config as CloudConfig
from flex_emulator.shared.clock import VirtualClock
from tests.kit.api import new_tenant
from tests.kit.world import World


@pytest.fixture
async def world(aiohttp_client: Any, tmp_path: Path, clock: VirtualClock) -> AsyncIterator[World]:
    app: web.Application = create_cloud(
        CloudConfig(data_dir=tmp_path / "cloud", emulator_api=True, virtual_clock=True), clock
    )
    server = TestServer(app, host="127.0.0.1")
    cloud = await aiohttp_client(server)
    world = World(cloud, await new_tenant(cloud), tmp_path, aiohttp_client, clock)
    yield world
    await world.check()  # whatever a test did, it must end with the invariant intact
