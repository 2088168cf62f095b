"""Durability of one cloud made of two processes on one PostgreSQL database: either process killed with SIGKILL
in the middle of assigns, revokes, credits files uploaded and revoke keys entered (each sent through either
process) loses nothing acknowledged, returns nothing twice, and keeps the invariant; its HOMEs reconnect once it
is back, and a HOME linked to the other process gets what was changed through the killed one."""

import asyncio
import random
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.kit.postgres import SessionPostgres
from tests.kit.processes import Service, api, converged_view, free_port, invariant

pytestmark = pytest.mark.slow  # real processes killed with SIGKILL

CREDITS = 100


class Cloud:
    """The two processes, and the accounts' API through either."""

    def __init__(self, processes: list[Service], base: str, token: str) -> None:
        self.processes, self.base, self.token = processes, base, token

    def any(self, rng: random.Random) -> Service:
        return rng.choice(self.processes)

    async def call(
        self, http: aiohttp.ClientSession, rng: random.Random, method: str, path: str, body: Any = None
    ) -> Any:
        try:
            _, answer = await api(http, method, f"{self.any(rng).url}{self.base}{path}", self.token, body)
        except (aiohttp.ClientError, ValueError):
            return None  # the process was killed under the request: it simply failed
        return answer


async def home_view(http: aiohttp.ClientSession, home: Service) -> dict[str, Any]:
    _, view = await api(http, "GET", f"{home.url}/api/v1/licenses/credits")
    return dict(view)


async def online_converged(http: aiohttp.ClientSession, cloud: Cloud, home: Service, system_id: str) -> None:
    """HOME holds exactly the cloud's open assignments, no revoke awaits proof, and it is online."""
    detail: dict[str, Any] = {}
    for _ in range(600):
        try:
            _, detail = await api(http, "GET", f"{cloud.processes[0].url}{cloud.base}/systems/{system_id}", cloud.token)
            view = await home_view(http, home)
        except aiohttp.ClientError:
            await asyncio.sleep(0.05)
            continue
        if converged_view(detail, view):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{home.name} never converged: {detail}")


async def carry_file(
    http: aiohttp.ClientSession, cloud: Cloud, rng: random.Random, home: Service, system_id: str
) -> None:
    """Download the disconnected HOME's credits file through either process, upload it, enter its revoke key."""
    process = cloud.any(rng)
    try:
        async with http.post(
            f"{process.url}{cloud.base}/systems/{system_id}/credits-file",
            headers={"Authorization": f"Bearer {cloud.token}"},
        ) as answer:
            if answer.status != 200:
                return
            token = await answer.text()
        async with http.post(f"{home.url}/api/v1/file-licenses", data=token.encode()) as answer:
            await answer.read()
        key = (await home_view(http, home))["revoke_key"]
    except aiohttp.ClientError:
        return
    if key:
        await cloud.call(http, rng, "POST", f"/systems/{system_id}/revoke-keys", {"revoke_key": key})


async def burst(
    http: aiohttp.ClientSession,
    cloud: Cloud,
    rng: random.Random,
    systems: list[str],
    sub_id: str,
    offline: tuple[Service, str],
) -> None:
    async def assign(system_id: str) -> None:
        await cloud.call(
            http, rng, "POST", f"/systems/{system_id}/assignments", {"subscription_id": sub_id, "credits": 0.25}
        )

    async def revoke_some(system_id: str) -> None:
        detail = await cloud.call(http, rng, "GET", f"/systems/{system_id}")
        for item in [item for item in (detail or {}).get("assignments", []) if item["state"] == "active"][:2]:
            await cloud.call(
                http, rng, "POST", f"/systems/{system_id}/assignments/{item['id']}/revoke", {"confirm": "confirm"}
            )

    jobs = [assign(rng.choice(systems)) for _ in range(12)] + [revoke_some(system_id) for system_id in systems]
    jobs.append(carry_file(http, cloud, rng, *offline))
    await asyncio.gather(*jobs, return_exceptions=True)


async def test_sigkill_of_either_cloud_process_loses_and_duplicates_nothing(
    tmp_path: Path, postgres: SessionPostgres
) -> None:
    url = await postgres.fresh()
    ports = [free_port(), free_port()]
    processes = [
        Service(
            f"cloud-{name}",
            ["flex_emulator.cloud", "--database", url, "--data", str(tmp_path / f"cloud-{name}"), "--emulator-api"],
            port,
            tmp_path,
        )
        for name, port in zip("ab", ports, strict=True)
    ]

    def home(name: str, cloud_port: int, *extra: str) -> Service:
        args = ["flex_emulator.home", "--data", str(tmp_path / name), "--cloud-url", f"http://127.0.0.1:{cloud_port}"]
        return Service(
            name,
            [*args, "--label", name, "--cloud-key", str(tmp_path / "cloud-a" / "jwks.json"), *extra],
            free_port(),
            tmp_path,
        )

    rng = random.Random(20261206)
    async with aiohttp.ClientSession() as http:
        homes: list[Service] = []
        try:
            for process in processes:
                await process.start(http)
            a = processes[0].url
            _, made = await api(
                http,
                "POST",
                f"{a}/_emulator/accounts",
                json={"name": "Crash", "admin": {"email": "a@crash.test", "password": "crash test pw"}},
            )
            account = made["account"]["id"]
            _, signed = await api(
                http,
                "POST",
                f"{processes[1].url}/api/v1/auth/token",
                json={"email": "a@crash.test", "password": "crash test pw"},
            )
            cloud = Cloud(processes, f"/api/v1/accounts/{account}", signed["token"])
            _, sub = await api(
                http,
                "POST",
                f"{a}/_emulator/accounts/{account}/subscriptions",
                json={"duration": "annual", "credits": CREDITS, "state": "active"},
            )
            homes = [home("home-a", ports[0]), home("home-b", ports[1]), home("home-off", ports[0], "--offline")]
            systems = []
            for node in homes:
                await node.start(http)
                _, system = await api(http, "GET", f"{node.url}/api/v1/system")
                assert await cloud.call(
                    http, rng, "POST", "/systems", {"registration_code": system["registration_code"]}
                )
                systems.append(system["system_id"])
            linked = list(zip(homes[:2], systems[:2], strict=True))
            for node, system_id in linked:
                await online_converged(http, cloud, node, system_id)

            for round_ in range(6):
                victim = processes[round_ % 2]
                traffic = asyncio.create_task(
                    burst(http, cloud, rng, systems[:2], sub["subscription"]["id"], (homes[2], systems[2]))
                )
                await asyncio.sleep(rng.uniform(0.0, 0.2))
                victim.kill()
                await asyncio.gather(traffic, return_exceptions=True)
                survivor = processes[(round_ + 1) % 2]
                await invariant(http, survivor)
                await victim.start(http)
                for process in processes:
                    await invariant(http, process)
                for node, system_id in linked:
                    await online_converged(http, cloud, node, system_id)

            await carry_file(http, cloud, rng, homes[2], systems[2])  # the disconnected HOME settles too
            _, subs = await api(http, "GET", f"{a}{cloud.base}/subscriptions", cloud.token)
            [state] = subs["subscriptions"]
            held = [(await home_view(http, node))["total"] for node in homes]
            detail = await cloud.call(http, rng, "GET", f"/systems/{systems[2]}")
            pending = sum(item["credits"] for item in detail["assignments"] if item["state"] == "revoke_pending")
            assert state["credits_available"] + sum(held) + pending == CREDITS, (state, held, pending)
            for process in processes:
                await invariant(http, process)
        finally:
            for service in [*homes, *processes]:
                service.stop()
            await postgres.drop(url)
