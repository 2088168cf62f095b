"""The pytest plugin (registered through the ``pytest11`` entry point): fresh worlds as fixtures.

``flex_world`` gives a blocking ``World``, ``async_flex_world`` an ``AsyncWorld`` (when pytest-asyncio
is installed). Both check the invariant when the test ends: a test that broke it fails (opt out per
test with ``@pytest.mark.flex_world(check=False)``). Choose the mode per test with
``@pytest.mark.flex_world(mode="subprocess")`` or for the whole run with ``--flex-mode=subprocess``;
``start=datetime(...)`` in the marker sets the clock's first moment. The services log to one file per
service in the test's temporary folder; a failing test's report shows the end of each.

While a test that uses a world ends, the plugin starts the next test's world ahead of time (its cloud and
first HOME) when that test asks for an in-process one; see ``World.prepare`` and docs/harness.md.
"""

from collections.abc import AsyncIterator, Generator, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import pytest

from flex_emulator._async.world import AsyncWorld
from flex_emulator._sync.world import START, World
from flex_emulator.inprocess import PreparedWorld
from flex_emulator.servers import Mode
from flex_emulator.service_logs import DEFAULT_LEVEL, LEVELS, tail

MODES = ("inprocess", "subprocess")
MARKER_ARGUMENTS = ("mode", "start", "check")
WORLD_FOLDER = "flex-world"
LOG_FOLDERS = pytest.StashKey[Path]()
FIXTURES = ("flex_world", "async_flex_world")
NEXT_ITEM = pytest.StashKey["pytest.Item | None"]()
# The world started ahead for the next test (by its node id): at most one at a time, per pytest process.
PREPARED = pytest.StashKey[dict[str, PreparedWorld]]()


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


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    item.stash[NEXT_ITEM] = nextitem  # the world fixtures prepare the next test's world while this one ends


@pytest.hookimpl(tryfirst=True)  # before pytest may remove its base temporary folder, where they run
def pytest_sessionfinish(session: pytest.Session) -> None:
    for prepared in session.config.stash.get(PREPARED, {}).values():
        prepared.discard()
    session.config.stash[PREPARED] = {}


def _prepared(request: pytest.FixtureRequest) -> PreparedWorld | None:
    """The world started ahead for this test, if any; one started for another test (which did not take it:
    skipped, or failed before its world) is discarded."""
    waiting = request.config.stash.setdefault(PREPARED, {})
    mine = waiting.pop(request.node.nodeid, None)
    for other in waiting.values():
        other.discard()
    waiting.clear()
    return mine


def _prepare_next(request: pytest.FixtureRequest, factory: pytest.TempPathFactory) -> None:
    """Start the next test's world now, if it asks for one in this process (a world of subprocesses, or one on
    PostgreSQL, starts when its test asks)."""
    nextitem = request.node.stash.get(NEXT_ITEM, None)
    if nextitem is None or not set(FIXTURES) & set(getattr(nextitem, "fixturenames", ())):
        return
    waiting = request.config.stash.setdefault(PREPARED, {})
    if nextitem.nodeid in waiting:  # a test with both fixtures ends twice
        return
    options = marker_options(nextitem, request.config)
    if options.mode != "inprocess":
        return
    level = request.config.getoption("--flex-log-level")
    folder = factory.mktemp(WORLD_FOLDER, numbered=True)
    waiting[nextitem.nodeid] = World.prepare(folder, start=options.start, log_level=level)


def _folder(request: pytest.FixtureRequest, tmp_path: Path, prepared: PreparedWorld | None) -> Path:
    """``tmp_path/flex-world``: the world's folder, or a link to the folder its world was prepared in."""
    folder = tmp_path / WORLD_FOLDER
    request.node.stash[LOG_FOLDERS] = folder
    if prepared is None:
        return folder
    try:
        folder.symlink_to(prepared.folder, target_is_directory=True)
    except OSError:  # a file system without links: this test's world starts in its own folder instead
        prepared.discard()
        return folder
    return prepared.folder


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
def flex_world(
    request: pytest.FixtureRequest, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """A fresh cloud (and the HOMEs you start) on one virtual clock; blocking API."""
    options = marker_options(request.node, request.config)
    level = request.config.getoption("--flex-log-level")
    prepared = _prepared(request)
    folder = _folder(request, tmp_path, prepared)  # (a prepared world it cannot link to is discarded)
    with World.start(
        folder, mode=options.mode, start=options.start, check=False, log_level=level, prepared=prepared
    ) as world:
        try:
            yield world
            if options.check:
                world.check_invariant()
        finally:
            _prepare_next(request, tmp_path_factory)


try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - async tests then use ``async with AsyncWorld.start(...)``
    pass
else:

    @pytest_asyncio.fixture
    async def async_flex_world(
        request: pytest.FixtureRequest, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
    ) -> AsyncIterator[AsyncWorld]:
        """``flex_world`` for async tests: the same world, awaited. In-process, its services run on a loop
        thread of their own, so a blocking client works inside the async test too."""
        options = marker_options(request.node, request.config)
        level = request.config.getoption("--flex-log-level")
        prepared = _prepared(request)
        folder = _folder(request, tmp_path, prepared)
        async with AsyncWorld.start(
            folder, mode=options.mode, start=options.start, check=False, log_level=level, prepared=prepared
        ) as world:
            try:
                yield world
                if options.check:
                    await world.check_invariant()
            finally:
                _prepare_next(request, tmp_path_factory)
