"""The pytest plugin (registered through the ``pytest11`` entry point): fresh worlds as fixtures.

``flex_world`` gives a blocking ``World``, ``async_flex_world`` an ``AsyncWorld`` (when pytest-asyncio
is installed). Both check the invariant when the test ends: a test that broke it fails (opt out per
test with ``@pytest.mark.flex_world(check=False)``). Choose the mode per test with
``@pytest.mark.flex_world(mode="subprocess")`` or for the whole run with ``--flex-mode=subprocess``;
``start=datetime(...)`` in the marker sets the clock's first moment. The services log to one file per
service in the test's temporary folder; a failing test's report shows the end of each.
"""

from collections.abc import AsyncIterator, Generator, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import pytest

from flex_emulator._async.world import AsyncWorld
from flex_emulator._sync.world import START, World
from flex_emulator.servers import Mode
from flex_emulator.service_logs import DEFAULT_LEVEL, LEVELS, tail

MODES = ("inprocess", "subprocess")
MARKER_ARGUMENTS = ("mode", "start", "check")
WORLD_FOLDER = "flex-world"
LOG_FOLDERS = pytest.StashKey[Path]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("flex-emulator")
    group.addoption(
        "--flex-mode",
        choices=MODES,
        default=None,
        help="run flex_world's services in this process (inprocess, the default) or as subprocesses",
    )
    group.addoption(
        "--flex-log-level",
        choices=sorted(set(LEVELS) - {"warn", "exception"}),
        default=DEFAULT_LEVEL,
        help="what the services write to their log files (default: info; debug for more)",
    )
    group.addoption(
        "--flex-log-lines",
        type=int,
        default=40,
        help="how many of each service's last log lines a failing test's report shows (0: none)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "flex_world(mode='inprocess'|'subprocess', start=datetime, check=True): how flex_world starts, and "
        "whether it checks the invariant when the test ends",
    )


@dataclass(frozen=True)
class Options:
    mode: Mode
    start: datetime
    check: bool


def marker_options(item: pytest.Item, config: pytest.Config) -> Options:
    """The ``flex_world`` marker's arguments, checked: anything unknown or ill-typed is a usage error."""
    marker = item.get_closest_marker("flex_world")
    kwargs: dict[str, Any] = dict(marker.kwargs) if marker is not None else {}
    where = f"@pytest.mark.flex_world on {item.nodeid}"
    if marker is not None and marker.args:
        raise pytest.UsageError(f"{where}: give arguments by name ({', '.join(MARKER_ARGUMENTS)})")
    unknown = sorted(set(kwargs) - set(MARKER_ARGUMENTS))
    if unknown:
        raise pytest.UsageError(f"{where}: unknown argument {unknown[0]!r}; it takes {', '.join(MARKER_ARGUMENTS)}")
    mode = kwargs.get("mode") or config.getoption("--flex-mode") or "inprocess"
    if mode not in MODES:
        raise pytest.UsageError(f"{where}: mode must be one of {MODES}, not {mode!r}")
    start = kwargs.get("start", START)
    if not isinstance(start, datetime) or start.tzinfo is None:
        raise pytest.UsageError(f"{where}: start must be a timezone-aware datetime, not {start!r}")
    check = kwargs.get("check", True)
    if not isinstance(check, bool):
        raise pytest.UsageError(f"{where}: check must be True or False, not {check!r}")
    return Options(cast(Mode, mode), start, check)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("flex_world") is not None:
            marker_options(item, config)


def _folder(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    folder = tmp_path / WORLD_FOLDER
    request.node.stash[LOG_FOLDERS] = folder
    return folder


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failing test's report gets the end of each service's log file."""
    report = yield
    lines = item.config.getoption("--flex-log-lines")
    folder = item.stash.get(LOG_FOLDERS, None)
    if report.failed and folder is not None and lines > 0:
        for log in sorted(folder.glob("*.log")):
            text = tail(log, lines)
            if text:
                report.sections.append((f"flex-emulator {log.name} (last {lines} lines; {log})", text))
    return report


@pytest.fixture
def flex_world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    """A fresh cloud (and the HOMEs you start) on one virtual clock; blocking API."""
    options = marker_options(request.node, request.config)
    level = request.config.getoption("--flex-log-level")
    with World.start(
        _folder(request, tmp_path), mode=options.mode, start=options.start, check=False, log_level=level
    ) as world:
        yield world
        if options.check:
            world.check_invariant()


try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - async tests then use ``async with AsyncWorld.start(...)``
    pass
else:

    @pytest_asyncio.fixture
    async def async_flex_world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncWorld]:
        """``flex_world`` for async tests: the same world, awaited. In-process, its services run on a loop
        thread of their own, so a blocking client works inside the async test too."""
        options = marker_options(request.node, request.config)
        level = request.config.getoption("--flex-log-level")
        async with AsyncWorld.start(
            _folder(request, tmp_path), mode=options.mode, start=options.start, check=False, log_level=level
        ) as world:
            yield world
            if options.check:
                await world.check_invariant()
