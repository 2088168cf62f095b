"""The end-to-end fixture: the harness's in-process world of a real cloud and real HOME nodes (tests/kit/world.py)."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.kit.world import World


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with World.start(tmp_path) as world:
        yield world
        await world.check()  # whatever a test did, it must end with the invariant intact
