"""The end-to-end tests' world: flex_emulator's own in-process ``AsyncWorld`` (services started by
``flex_emulator.servers`` on one virtual clock from ``flex_emulator.START``), with the few white-box handles a
user's world does not offer: aiohttp test clients on the cloud and on each HOME (relative paths, the running
app), HOME's link object, HOMEs on clocks of their own or pinning the cloud's key, and the invariant checked
in the cloud's database as well as through its API."""

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import BaseTestServer, TestClient
from yarl import URL

from flex_emulator import START, AsyncHomeClient, AsyncWorld
from flex_emulator.home.appkeys import LINK
from flex_emulator.home.link.cloud_link import CloudLink
from flex_emulator.inprocess import AsyncInProcess
from flex_emulator.shared.clock import Clock, VirtualClock
from flex_emulator.transport import AsyncTransport
from tests.kit import TENANT_ADMIN, TENANT_NAME
from tests.kit.api import Tenant, assert_invariant, home_api


class Running(BaseTestServer):
    """A service ``flex_emulator.servers`` runs, seen as an aiohttp test server, so a ``TestClient`` calls it with
    relative paths and reaches its app; closing the client stops the service, as with aiohttp's own."""

    def __init__(self, app: web.Application, url: str, stop: Callable[[], Awaitable[None]]) -> None:
        address = URL(url)
        super().__init__(host=address.host or "127.0.0.1", port=address.port)
        self.app = app
        self._root = address
        self._stop = stop

    async def _make_runner(self, **kwargs: Any) -> web.BaseRunner:
        raise RuntimeError("flex_emulator.servers runs this service")

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._stop()


def _slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


@dataclass
class Home:
    client: TestClient
    system_id: str
    label: str

    @property
    def api(self) -> AsyncHomeClient:
        return home_api(self.client)

    @property
    def link(self) -> CloudLink:
        return self.client.app[LINK]

    async def credits(self) -> dict[str, Any]:
        return dict(await self.api.credits())

    async def upload(self, token: str, expect: int = 200) -> dict[str, Any]:
        return await self.api.call("POST", "/api/v1/file-licenses", data=token.encode(), expect=expect)

    async def switch_link(self, enabled: bool) -> None:
        await self.api.set_cloud_link(enabled)

    async def held_ids(self) -> set[str]:
        return {entry["assignment_id"] for entry in (await self.credits())["entries"] if not entry["expired"]}


@dataclass
class World:
    harness: AsyncWorld
    servers: AsyncInProcess
    cloud: TestClient
    tenant: Tenant
    tmp_path: Path
    homes: list[Home] = field(default_factory=list)
    clients: list[TestClient] = field(default_factory=list)  # closed when the world stops
    # Other processes of the same cloud (PostgreSQL): HOMEs link through them in turn, the first through another
    # process than the tenant's, so what the tenant does must cross to the process that holds the link.
    others: list[TestClient] = field(default_factory=list)
    placed: dict[str, int] = field(default_factory=dict)

    @classmethod
    @asynccontextmanager
    async def start(cls, tmp_path: Path, *, processes: int = 1, **cloud_settings: Any) -> AsyncIterator["World"]:
        """The public world in this process, its data in ``tmp_path``; ``cloud_settings`` override cloud Config
        fields (shorter waits for a receipt, say; ``database=URL`` for PostgreSQL, where ``processes`` cloud
        processes on it make one cloud). The tenant is an account with an admin and no subscription."""
        servers = AsyncInProcess(tmp_path, START, cloud=cloud_settings)
        http = AsyncTransport()
        clients: list[TestClient] = []
        try:
            harness = AsyncWorld(servers, await servers.start_cloud(), http, "inprocess")
            account = await harness.create_account(
                TENANT_NAME, subscriptions=(), email=TENANT_ADMIN[0], password=TENANT_ADMIN[1]
            )
            cloud = TestClient(Running(servers.app("cloud"), harness.cloud.url, lambda: servers.stop("cloud")))
            clients.append(cloud)
            world = cls(harness, servers, cloud, Tenant(cloud, account.id, account.token), tmp_path, clients=clients)
            for number in range(1, processes):
                name = f"cloud-{number + 1}"
                url = await servers.start_cloud(name=name)
                other = TestClient(Running(servers.app(name), url, lambda name=name: servers.stop(name)))
                clients.append(other)
                world.others.append(other)
            yield world
        finally:
            for client in reversed(clients):  # HOMEs first, so the cloud sees their links end cleanly
                await client.close()
            await http.close()
            await servers.close()

    @property
    def clock(self) -> VirtualClock:
        return self.servers.clock

    @property
    def cloud_url(self) -> str:
        return self.harness.cloud.url

    def home_cloud(self, label: str) -> str:
        """The address of the cloud process a HOME links through (always the same one for a label)."""
        clouds = [str(other.make_url("")).rstrip("/") for other in self.others] + [self.cloud_url]
        return clouds[self.placed.setdefault(label, len(self.placed)) % len(clouds)]

    async def start_home(
        self, label: str, *, offline: bool = False, clock: Clock | None = None, link: bool = True, pin_key: bool = False
    ) -> Home:
        """Start a HOME node with data in ``tmp_path/<label>`` and link it to the tenant; ``clock`` gives it a clock
        of its own, ``pin_key`` lets it pin the cloud's key on first contact instead of reading the key file."""
        name = _slug(label)
        settings: dict[str, Any] = {"cloud_key_file": None} if pin_key else {}
        url = await self.servers.start_home(
            name, self.home_cloud(label), label=label, offline=offline, clock=clock, **settings
        )
        client = TestClient(Running(self.servers.app(name), url, lambda: self.servers.stop(name)))
        self.clients.append(client)
        system = await home_api(client).system()
        home = Home(client, system["system_id"], label)
        linked = {item["id"] for item in (await self.tenant.get("/systems"))["systems"]}
        if link and home.system_id not in linked:
            await self.tenant.link(system["registration_code"])
        self.homes = [other for other in self.homes if other.system_id != home.system_id] + [home]
        return home

    async def system(self, system_id: str) -> dict[str, Any]:
        return await self.tenant.get(f"/systems/{system_id}")

    async def online_home(self, label: str) -> Home:
        """A HOME started, linked and connected to the cloud."""
        home = await self.start_home(label)
        await home.link.wait_for_state("online")
        return home

    async def wait_for_portal(
        self, system_id: str, predicate: Callable[[dict[str, Any]], bool], timeout: float = 5.0
    ) -> dict[str, Any]:
        """Poll the portal's system detail until ``predicate`` holds (the link's effects are asynchronous)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            detail = await self.system(system_id)
            if predicate(detail):
                return detail
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"the portal never showed the expected state: {detail}")
            await asyncio.sleep(0.02)

    async def wait_for_event(self, kind: str, timeout: float = 5.0, **fields: Any) -> dict[str, Any]:
        """Poll the cloud's event journal until it holds an event of ``kind`` with these fields; that event."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            events = await self.harness.events(kind=kind)
            found = [event for event in events if all(event.get(key) == value for key, value in fields.items())]
            if found:
                return found[-1]
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"the cloud's journal never showed {kind} {fields}: {events}")
            await asyncio.sleep(0.02)

    async def advance(self, seconds: float) -> None:
        """Move the one clock; the cloud runs what fell due (the test waits for HOMEs itself)."""
        await self.harness.advance(seconds=seconds, settle=False)

    async def check(self) -> None:
        """The invariant after every step: balances add up (by the cloud's own check and in its database), and no
        HOME still uses credits the cloud returned, by that HOME's own clock."""
        await self.harness.check_invariant()
        await assert_invariant(self.cloud.app)
        for home in self.homes:
            if home.client.server.closed:
                continue
            held = await home.held_ids()
            detail = await self.tenant.get(f"/systems/{home.system_id}")
            ended = {item["id"] for item in detail["assignments"] if item["state"] == "ended"}
            assert not held & ended, f"{home.label} still uses credits the cloud returned: {held & ended}"
