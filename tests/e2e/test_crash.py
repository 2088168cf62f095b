"""Durability: real processes killed with SIGKILL in the middle of credit traffic lose and duplicate nothing."""

import asyncio
import random
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from flex_emulator.shared.timefmt import iso, parse_iso
from tests.kit.portal import Home, LinkedHome
from tests.kit.processes import Service, api, converged_view, free_port, invariant

pytestmark = pytest.mark.slow  # real processes killed with SIGKILL


async def converged(
    http: aiohttp.ClientSession, cloud: Service, home: Service, base: str, token: str, system_id: str
) -> None:
    """Wait until HOME holds exactly the cloud's open assignments and no revoke awaits proof."""
    for _ in range(400):
        try:
            _, detail = await api(http, "GET", f"{cloud.url}{base}/systems/{system_id}", token)
            _, view = await api(http, "GET", f"{home.url}/api/v1/licenses/credits")
        except aiohttp.ClientError:
            await asyncio.sleep(0.05)
            continue
        if converged_view(detail, view):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never converged: cloud {detail}, HOME {view}")


async def traffic(
    http: aiohttp.ClientSession, cloud: Service, base: str, token: str, system_id: str, sub_id: str
) -> None:
    """Assign and revoke concurrently; requests cut off by a kill simply fail."""

    async def assign() -> None:
        await api(
            http,
            "POST",
            f"{cloud.url}{base}/systems/{system_id}/assignments",
            token,
            {"subscription_id": sub_id, "credits": 0.25},
        )

    async def revoke_some() -> None:
        _, detail = await api(http, "GET", f"{cloud.url}{base}/systems/{system_id}", token)
        for item in [item for item in detail["assignments"] if item["state"] == "active"][:3]:
            await api(
                http,
                "POST",
                f"{cloud.url}{base}/systems/{system_id}/assignments/{item['id']}/revoke",
                token,
                {"confirm": "confirm"},
            )

    jobs = [assign() for _ in range(12)] + [revoke_some()]
    await asyncio.gather(*jobs, return_exceptions=True)


async def test_sigkill_at_any_moment_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    cloud_port, home_port = free_port(), free_port()
    cloud = Service(
        "cloud", ["flex_emulator.cloud", "--data", str(tmp_path / "cloud"), "--emulator-api"], cloud_port, tmp_path
    )
    home = Service(
        "home",
        [
            "flex_emulator.home",
            "--data",
            str(tmp_path / "home"),
            "--cloud-url",
            f"http://127.0.0.1:{cloud_port}",
            "--label",
            "Studio A",
            "--cloud-key",
            str(tmp_path / "cloud" / "jwks.json"),
        ],
        home_port,
        tmp_path,
    )
    rng = random.Random(20261128)
    async with aiohttp.ClientSession() as http:
        try:
            await cloud.start(http)
            _, made = await api(
                http,
                "POST",
                f"{cloud.url}/_emulator/accounts",
                json={"name": "Crash Test", "admin": {"email": "a@crash.test", "password": "crash test pw"}},
            )
            account = made["account"]["id"]
            _, signed = await api(
                http,
                "POST",
                f"{cloud.url}/api/v1/auth/token",
                json={"email": "a@crash.test", "password": "crash test pw"},
            )
            token, base = signed["token"], f"/api/v1/accounts/{account}"
            _, sub = await api(
                http,
                "POST",
                f"{cloud.url}/_emulator/accounts/{account}/subscriptions",
                json={"duration": "annual", "credits": 100, "state": "active"},
            )
            await home.start(http)
            _, system = await api(http, "GET", f"{home.url}/api/v1/system")
            status, _ = await api(
                http, "POST", f"{cloud.url}{base}/systems", token, {"registration_code": system["registration_code"]}
            )
            assert status == 201
            system_id = system["system_id"]
            await converged(http, cloud, home, base, token, system_id)

            for round_ in range(6):
                victim = cloud if round_ % 2 == 0 else home
                burst = asyncio.create_task(traffic(http, cloud, base, token, system_id, sub["subscription"]["id"]))
                await asyncio.sleep(rng.uniform(0.0, 0.15))
                victim.kill()
                await asyncio.gather(burst, return_exceptions=True)
                await victim.start(http)
                await invariant(http, cloud)
                await converged(http, cloud, home, base, token, system_id)
                await invariant(http, cloud)

            _, subs = await api(http, "GET", f"{cloud.url}{base}/subscriptions", token)
            _, view = await api(http, "GET", f"{home.url}/api/v1/licenses/credits")
            [state] = subs["subscriptions"]
            assert state["credits_available"] + view["total"] == 100
        finally:
            cloud.stop()
            home.stop()


async def test_a_virtual_clock_never_goes_back_after_a_kill_mid_advance(tmp_path: Path) -> None:
    """The cloud's in-memory virtual clock (no --clock-file) is kept with the due work it runs: killed while an
    advance waits on the way, it restarts at the time of the Auto Revoke it already committed, not before it."""
    cloud = Service(
        "cloud",
        ["flex_emulator.cloud", "--data", str(tmp_path / "cloud"), "--emulator-api", "--virtual-clock"],
        free_port(),
        tmp_path,
    )
    async with aiohttp.ClientSession() as http:
        try:
            await cloud.start(http)
            _, made = await api(
                http,
                "POST",
                f"{cloud.url}/_emulator/accounts",
                json={"name": "Clock Test", "admin": {"email": "a@clock.test", "password": "clock test pw"}},
            )
            token, base = made["token"], f"{cloud.url}/api/v1/accounts/{made['account']['id']}"
            _, sub = await api(
                http,
                "POST",
                f"{cloud.url}/_emulator/accounts/{made['account']['id']}/subscriptions",
                json={"duration": "annual", "credits": 8, "state": "active"},
            )
            studio = Home("Studio A")
            status, _ = await api(
                http, "POST", f"{base}/systems", token, {"registration_code": studio.registration_code}
            )
            assert status == 201
            link = await LinkedHome(studio, http, f"{cloud.url}/api/v1/link").connect()
            _, clock = await api(http, "GET", f"{cloud.url}/_emulator/clock")
            auto_revoke_at = parse_iso(clock["now"]) + timedelta(days=2)
            status, _ = await api(
                http,
                "POST",
                f"{base}/systems/{studio.system_id}/assignments",
                token,
                {"subscription_id": sub["subscription"]["id"], "credits": 2, "auto_revoke_at": iso(auto_revoke_at)},
            )
            assert status == 201 and await link.pushed.get() == 1
            # HOME stops answering: the advance commits the Auto Revoke, pushes its copy and waits for the receipt
            link.answering = False
            advance = asyncio.create_task(
                api(http, "POST", f"{cloud.url}/_emulator/clock", json={"advance_seconds": 30 * 86400})
            )
            assert await asyncio.wait_for(link.pushed.get(), 30) == 2
            cloud.kill()
            await asyncio.gather(advance, return_exceptions=True)
            await link.close()

            await cloud.start(http)
            _, clock = await api(http, "GET", f"{cloud.url}/_emulator/clock")
            assert parse_iso(clock["now"]) >= auto_revoke_at, (clock, iso(auto_revoke_at))
            _, detail = await api(http, "GET", f"{base}/systems/{studio.system_id}", token)
            [item] = detail["assignments"]
            assert item["state"] == "revoke_pending", item  # committed at its Auto Revoke, waiting for HOME's proof
            await invariant(http, cloud)
        finally:
            cloud.stop()
