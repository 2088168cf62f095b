"""A cloud and a linked HOME on real ports (started by the harness's ``flex_emulator.servers``), run on an event
loop of their own for the property test.

Hypothesis drives synchronous test functions; each request is a coroutine handed to this loop.
The route tables come from the apps themselves (``routes_of``), so a new route is fuzzed without
anyone adding it here.
"""

import asyncio
import re
import tempfile
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from aiohttp import web

from flex_emulator import START
from flex_emulator.cloud.app import create_app as create_cloud
from flex_emulator.cloud.config import Config as CloudConfig
from flex_emulator.home.app import create_app as create_home
from flex_emulator.home.config import Config as HomeConfig
from flex_emulator.inprocess import AsyncInProcess
from flex_emulator.shared.clock import VirtualClock
from tests.kit.portal import Home as FakeHome

T = TypeVar("T")
ADMIN = ("fuzz-admin@example.com", "fuzz-admin-password")
_CSRF = re.compile(r'name="(csrf|csrf_token)" value="([^"]+)"')


@dataclass(frozen=True)
class Route:
    service: str  # "cloud" or "home"
    method: str
    path: str  # the resource's canonical path, with {name} placeholders

    @property
    def is_api(self) -> bool:
        return self.path.startswith(("/api/", "/_emulator/", "/.well-known/", "/healthz"))

    @property
    def is_form(self) -> bool:
        return not self.is_api and self.method == "POST"

    def __str__(self) -> str:
        return f"{self.service} {self.method} {self.path}"


def routes_of(app: web.Application, service: str) -> list[Route]:
    found = []
    for route in app.router.routes():
        if route.method == "HEAD" or route.resource is None:  # aiohttp adds HEAD beside each GET
            continue
        found.append(Route(service, route.method, route.resource.canonical))
    return found


def all_routes() -> list[Route]:
    """Every route of both services, read from apps built as the world builds them (create_app does no I/O)."""
    with tempfile.TemporaryDirectory() as folder:
        base, clock = Path(folder), VirtualClock(start=START)
        cloud = create_cloud(CloudConfig(data_dir=base / "cloud", emulator_api=True, virtual_clock=True), clock)
        home = create_home(HomeConfig(data_dir=base / "home", emulator_api=True), clock)
        return sorted(set(routes_of(cloud, "cloud") + routes_of(home, "home")), key=str)


@dataclass(repr=False)  # a failing example's report shows the input, not the world
class FuzzWorld:
    folder: Path
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    servers: AsyncInProcess | None = None
    base: dict[str, str] = field(default_factory=dict)
    known: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    token: str = ""
    csrf: dict[str, str] = field(default_factory=dict)  # "cloud", "signin", "home" -> a valid form token
    link_system: FakeHome = field(default_factory=lambda: FakeHome("Fuzz link"))
    requests: int = 0
    messages: int = 0
    api: aiohttp.ClientSession | None = None
    pages: dict[str, aiohttp.ClientSession] = field(default_factory=dict)
    _thread: threading.Thread | None = None

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.loop.run_forever, name="fuzz-services", daemon=True)
        self._thread.start()
        try:
            self.run(self._start())
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        self.run(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        assert self._thread is not None
        self._thread.join(10)
        self.loop.close()

    async def _start(self) -> None:
        self.servers = AsyncInProcess(self.folder, START, cloud={"ack_wait_seconds": 1.0})
        self.base["cloud"] = await self.servers.start_cloud()
        self.base["home"] = await self.servers.start_home("home", self.base["cloud"], label="Fuzz HOME", offline=False)
        self.api = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
        self.pages = {
            name: aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) for name in ("cloud", "home")
        }
        await self.seed()

    async def _stop(self) -> None:
        for session in [self.api, *self.pages.values()]:
            if session is not None:
                await session.close()
        if self.servers is not None:
            await self.servers.close()

    async def call(self, service: str, method: str, path: str, body: Any = None, *, token: bool = True) -> Any:
        assert self.api is not None
        headers = {"Authorization": f"Bearer {self.token}"} if token and self.token else {}
        async with self.api.request(method, self.base[service] + path, json=body, headers=headers) as response:
            return response.status, await response.json()

    async def seed(self) -> None:
        """An account with a subscription, the HOME linked and holding credits, a fake linked system, page sessions."""
        status, made = await self.call(
            "cloud", "POST", "/_emulator/accounts", {"name": "Fuzz", "admin": {"email": ADMIN[0], "password": ADMIN[1]}}
        )
        assert status == 201, made
        self.token, acc = made["token"], made["account"]["id"]
        _, sub = await self.call(
            "cloud",
            "POST",
            f"/_emulator/accounts/{acc}/subscriptions",
            {"duration": "annual", "credits": 1000, "state": "active"},
        )
        _, system = await self.call("home", "GET", "/api/v1/system")
        api = f"/api/v1/accounts/{acc}"
        await self.call("cloud", "POST", f"{api}/systems", {"registration_code": system["registration_code"]})
        await self.call("cloud", "POST", f"{api}/systems", {"registration_code": self.link_system.registration_code})
        status, assigned = await self.call(
            "cloud",
            "POST",
            f"{api}/systems/{system['system_id']}/assignments",
            {"subscription_id": sub["subscription"]["id"], "credits": 2},
        )
        assert status == 201, assigned
        _, users = await self.call("cloud", "GET", f"{api}/users")
        await self.sign_in_pages()
        _, resource = await self.call(
            "home", "POST", "/api/v1/resources", {"name": "Cam 1", "license_type_needed": "MV", "count": 1}
        )
        self.known = {
            ("cloud", "acc"): [acc],
            ("cloud", "sys"): [system["system_id"], self.link_system.system_id],
            ("cloud", "sub"): [sub["subscription"]["id"]],
            ("cloud", "id"): [assigned["assignment"]["id"]],
            ("cloud", "user_id"): [item["user_id"] for item in users["users"]],
            ("home", "id"): [str(resource["resource"]["id"])],
            ("home", "action"): ["start", "stop"],
        }

    async def ensure_seeded(self) -> None:
        """Seed again when an earlier example reset the cloud or unlinked the link's system."""
        api = f"/api/v1/accounts/{self.known[('cloud', 'acc')][0]}/systems"
        if (await self.call("cloud", "GET", f"{api}/{self.link_system.system_id}"))[0] == 200:
            return
        if (await self.call("cloud", "POST", api, {"registration_code": self.link_system.registration_code}))[0] != 201:
            await self.seed()

    async def refresh(self) -> None:
        """Sign in again and fetch fresh form tokens (an earlier example may have signed out or reset)."""
        status, answer = await self.call(
            "cloud", "POST", "/api/v1/auth/token", {"email": ADMIN[0], "password": ADMIN[1]}, token=False
        )
        if status == 200:
            self.token = answer["token"]
        await self.ensure_seeded()
        await self.sign_in_pages()

    async def sign_in_pages(self) -> None:
        cloud = self.pages["cloud"]
        cloud.cookie_jar.clear()
        async with cloud.get(self.base["cloud"] + "/signin") as response:
            self.csrf["signin"] = _CSRF.findall(await response.text())[0][1]
        form = {"csrf": self.csrf["signin"], "email": ADMIN[0], "password": ADMIN[1], "next": "/"}
        async with cloud.post(self.base["cloud"] + "/signin", data=form, allow_redirects=False):
            pass
        async with cloud.get(self.base["cloud"] + "/accounts") as response:
            found = _CSRF.findall(await response.text())
            self.csrf["cloud"] = found[0][1] if found else "none"
        async with self.pages["home"].get(self.base["home"] + "/resources") as response:
            self.csrf["home"] = _CSRF.findall(await response.text())[0][1]

    def own_origin(self, service: str) -> str:
        return self.base[service]
