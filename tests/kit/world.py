"""A world: a real cloud server and real HOME nodes in one process, sharing one virtual clock."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from flex_emulator import AsyncHomeClient
from flex_emulator.home.app import create_app as create_home
from flex_emulator.home.appkeys import LINK
from flex_emulator.home.config import Config as HomeConfig
from flex_emulator.home.link.cloud_link import CloudLink
from flex_emulator.shared.clock import Clock, VirtualClock
from tests.kit.api import Tenant, assert_invariant, cloud_api, home_api


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
    cloud: TestClient
    tenant: Tenant
    tmp_path: Path
    aiohttp_client: Any
    clock: VirtualClock
    homes: list[Home] = field(default_factory=list)

    @property
    def cloud_url(self) -> str:
        return str(self.cloud.make_url("")).rstrip("/")

    async def start_home(
        self, label: str, *, offline: bool = False, clock: Clock | None = None, link: bool = True, pin_key: bool = False
    ) -> Home:
        """Start (or restart) a HOME node with data in ``tmp_path/label``, link it to the tenant once."""
        config = HomeConfig(
            data_dir=self.tmp_path / label.lower().replace(" ", "-"),
            cloud_url=self.cloud_url,
            label=label,
            offline=offline,
            emulator_api=True,
            cloud_key_file=None if pin_key else self.tmp_path / "cloud" / "jwks.json",
            reconnect_min_seconds=0.05,
            reconnect_max_seconds=0.2,
        )
        client = await self.aiohttp_client(create_home(config, clock or self.clock))
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
        """A HOME started (or restarted), linked and connected to the cloud."""
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

    async def advance(self, seconds: float) -> None:
        await cloud_api(self.cloud).move_clock(advance_seconds=seconds)

    async def check(self) -> None:
        """The invariant after every step: balances add up, and nothing is usable in two places at once."""
        await assert_invariant(self.cloud.app)
        for home in self.homes:
            if home.client.server.runner is None:
                continue
            held = await home.held_ids()
            detail = await self.tenant.get(f"/systems/{home.system_id}")
            ended = {item["id"] for item in detail["assignments"] if item["state"] == "ended"}
            assert not held & ended, f"{home.label} still uses credits the cloud returned: {held & ended}"
