"""Many HOME nodes in one process: each the same ``Node`` and ``CloudLink`` a single HOME runs, with its
own folder, key, database, link and credits; they share one HTTP session, one time-mark task and one
copy of the cloud's key set."""

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import aiohttp
import structlog

from flex_emulator.home.domain.node import Node
from flex_emulator.home.domain.trust import MAX_JWKS_BYTES
from flex_emulator.home.fleet.config import FleetConfig
from flex_emulator.home.link.cloud_link import CloudLink
from flex_emulator.shared.clock import Clock
from flex_emulator.shared.keys import keys_from_jwks

log = structlog.get_logger()

OPENING_AT_ONCE = 32
SETTLE_SECONDS = 15.0  # a handshake times out after 10 s
T = TypeVar("T")


@dataclass
class FleetNode:
    number: int
    node: Node
    link: CloudLink
    _code: str | None = field(default=None, repr=False)

    @property
    def system_id(self) -> str:
        return self.node.system_id

    @property
    def registration_code(self) -> str:
        if self._code is None:
            self._code = self.node.identity.registration_code(self.node.label)
        return self._code


async def bounded(items: Iterable[T], limit: int, work: Callable[[T], Awaitable[None]]) -> None:
    """Run ``work`` over ``items``, at most ``limit`` at once."""
    gate = asyncio.Semaphore(limit)

    async def one(item: T) -> None:
        async with gate:
            await work(item)

    await asyncio.gather(*(one(item) for item in items))


class Fleet:
    def __init__(self, config: FleetConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.nodes: list[FleetNode] = []
        self._by_id: dict[str, FleetNode] = {}
        self._session: aiohttp.ClientSession | None = None
        self._time_task: asyncio.Task[None] | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("the fleet has not started")
        return self._session

    def find(self, system_id: str) -> FleetNode | None:
        return self._by_id.get(system_id)

    def states(self) -> dict[str, int]:
        return dict(Counter(item.link.state for item in self.nodes))

    async def open(self) -> None:
        """Open every node (made on first start, kept after): identities, databases, trusted keys."""
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        # Links are long-lived: the shared connector must not cap how many are open at once.
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        key_file = await self._cloud_keys()
        opened: list[FleetNode] = []

        async def open_node(number: int) -> None:
            node = Node(self.config.node_config(number, key_file), self.clock)
            await node.start()
            opened.append(FleetNode(number, node, CloudLink(node, self._session)))

        try:
            await bounded(range(1, self.config.count + 1), OPENING_AT_ONCE, open_node)
        except BaseException:
            await bounded(opened, OPENING_AT_ONCE, lambda item: item.node.close())
            raise
        self.nodes = sorted(opened, key=lambda item: item.number)
        self._by_id = {item.system_id: item for item in self.nodes}
        self._time_task = asyncio.create_task(self._keep_time_marks(), name="fleet-time-marks")
        log.info("fleet_opened", count=len(self.nodes), folder=str(self.config.data_dir))

    async def connect(self) -> None:
        """Start every link, a bounded number in their handshake at once, so a big fleet never swamps the cloud."""

        async def start(item: FleetNode) -> None:
            await item.link.start()
            if item.link.enabled:
                await self._settled(item)

        await bounded(self.nodes, self.config.connect_concurrency, start)
        log.info("fleet_connected", **self.states())

    async def switch_links(self, enabled: bool) -> None:
        async def switch(item: FleetNode) -> None:
            await item.link.set_enabled(enabled)
            if enabled:
                await self._settled(item)

        await bounded(self.nodes, self.config.connect_concurrency, switch)

    async def _settled(self, item: FleetNode) -> None:
        """Wait (a while) until a starting link is through its handshake, or failed it."""
        with contextlib.suppress(TimeoutError):
            await item.link.watch.wait_until(lambda: item.link.state != "connecting", SETTLE_SECONDS)

    async def close(self) -> None:
        if self._time_task is not None:
            self._time_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._time_task

        async def close_node(item: FleetNode) -> None:
            await item.link.close()
            await item.node.close()

        await bounded(self.nodes, OPENING_AT_ONCE * 4, close_node)
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _cloud_keys(self) -> Path | None:
        """The cloud's key set, fetched once for the whole fleet; without it each node pins on first contact."""
        path = self.config.jwks_path
        if path.exists():
            return path
        url = self.config.cloud_url.rstrip("/") + "/.well-known/jwks.json"
        try:
            async with self.session.get(url, timeout=aiohttp.ClientTimeout(total=10)) as response:
                raw = await response.content.read(MAX_JWKS_BYTES + 1)
                if response.status != 200 or len(raw) > MAX_JWKS_BYTES:
                    raise ValueError(f"HTTP {response.status}")
            document = json.loads(raw)
            keys_from_jwks(document)
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError, KeyError) as exc:
            log.warning("fleet_cloud_keys_not_fetched", url=url, error=str(exc))
            return None
        path.write_text(json.dumps(document, indent=2))
        return path

    async def _keep_time_marks(self) -> None:
        """One task for all nodes: each writes its time high-water mark down now and then (as a HOME does)."""
        while True:
            await self.clock.sleep(self.config.time_mark_seconds)
            for item in self.nodes:
                try:
                    await item.node.current_time(force_persist=True)
                except Exception:  # one full disk must not stop the others
                    log.exception("time_mark_not_saved", system_id=item.system_id)
