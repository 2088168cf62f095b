"""The pytest plugin (registered through the ``pytest11`` entry point): fresh worlds as fixtures.

``flex_world`` gives a blocking ``World``, ``async_flex_world`` an ``AsyncWorld`` (when pytest-asyncio
is installed). Both check the invariant when the test ends: a test that broke it fails.
Choose the mode per test with ``@pytest.mark.flex_world(mode="subprocess")`` or for the whole run
with ``--flex-mode=subprocess``; ``start=datetime(...)`` in the marker sets the clock's first moment.
"""

from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import cast

import pytest

from flex_emulator._async.world import AsyncWorld
from flex_emulator._sync.world import START, World
from flex_emulator.servers import Mode

MODES = ("inprocess", "subprocess")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("flex-emulator")
    group.addoption(
        "--flex-mode",
        choices=MODES,
        default=None,
        help="run flex_world's services in this process (inprocess, the default) or as subprocesses",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "flex_world(mode='inprocess'|'subprocess', start=datetime): how flex_world starts"
    )


def world_options(request: pytest.FixtureRequest) -> tuple[Mode, datetime]:
    marker = request.node.get_closest_marker("flex_world")
    kwargs = marker.kwargs if marker is not None else {}
    mode = kwargs.get("mode") or request.config.getoption("--flex-mode") or "inprocess"
    if mode not in MODES:
        raise pytest.UsageError(f"flex_world mode must be one of {MODES}, not {mode!r}")
    return cast(Mode, mode), kwargs.get("start", START)


@pytest.fixture
def flex_world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    """A fresh cloud (and the HOMEs you start) on one virtual clock; blocking API."""
    mode, start = world_options(request)
    with World.start(tmp_path / "flex-world", mode=mode, start=start, check=False) as world:
        yield world
        world.check_invariant()


try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - async tests then use ``async with AsyncWorld.start(...)``
    pass
else:

    @pytest_asyncio.fixture
    async def async_flex_world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncWorld]:
        """``flex_world`` for async tests: the same world, awaited."""
        mode, start = world_options(request)
        async with AsyncWorld.start(tmp_path / "flex-world", mode=mode, start=start, check=False) as world:
            yield world
            await world.check_invariant()
