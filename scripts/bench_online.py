"""Online transfers end to end: assign → visible on HOME (and how it grows with the set), sustained assigns
over 100 online HOMEs against a bare handler, the 1,000-entry credits file round trip, and starting a pair."""

import statistics
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from bench_primitives import CONCURRENCY, request_rate
from bench_services import (
    Process,
    api,
    cloud_process,
    fleet_process,
    home_process,
    new_account,
)

from flex_emulator import START, AsyncCloudClient, AsyncHomeClient
from flex_emulator.cloud.app import create_app as create_cloud
from flex_emulator.cloud.appkeys import DB
from flex_emulator.cloud.config import Config as CloudConfig
from flex_emulator.cloud.domain.models import Assignment
from flex_emulator.cloud.store.ledger import LedgerEntry
from flex_emulator.home.app import create_app as create_home
from flex_emulator.home.appkeys import LINK, NODE
from flex_emulator.home.config import Config as HomeConfig
from flex_emulator.shared.clock import VirtualClock
from flex_emulator.transport import AsyncTransport


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


Client = TestClient[web.Request, web.Application]


def cloud_api(client: Client) -> AsyncCloudClient:
    """The public client over an in-process server's test client (its session, closed with it)."""
    return AsyncCloudClient(str(client.make_url("")), transport=AsyncTransport(session=client.session))


def home_api(client: Client) -> AsyncHomeClient:
    return AsyncHomeClient(str(client.make_url("")), transport=AsyncTransport(session=client.session))


async def new_admin(cloud: Client) -> tuple[AsyncCloudClient, str]:
    """A new account made through the emulator API: its admin's client and the account's id."""
    answer = await cloud_api(cloud).create_account("Bench Broadcast", "admin@bench.test", "bench password")
    return cloud_api(cloud).with_token(answer["token"]), answer["account"]["id"]


class Pair:
    """An in-process cloud and one HOME on one virtual clock; the HOME starts with its link off."""

    def __init__(
        self, cloud: Client, home: Client, admin: AsyncCloudClient, account_id: str, system_id: str, sub_id: str
    ) -> None:
        self.cloud, self.home, self.admin, self.account_id = cloud, home, admin, account_id
        self.system_id, self.sub_id = system_id, sub_id
        self.other: Client | None = None

    @classmethod
    async def start(cls, folder: Path, credits: int, database: str | None = None, other: bool = False) -> "Pair":
        """``database``: the cloud on PostgreSQL; ``other``: HOME links through a second cloud process on it."""
        clock = VirtualClock(start=START)
        config = CloudConfig(
            data_dir=folder / "cloud", database=database, emulator_api=True, virtual_clock=True, cheap_passwords=True
        )
        cloud = TestClient(TestServer(create_cloud(config, clock), host="127.0.0.1"))
        await cloud.start_server()
        linked_to = cloud
        if other:
            second = CloudConfig(data_dir=folder / "cloud-b", database=database, emulator_api=True, virtual_clock=True)
            linked_to = TestClient(TestServer(create_cloud(second, clock), host="127.0.0.1"))
            await linked_to.start_server()
        admin, account_id = await new_admin(cloud)
        sub = await admin.create_subscription(account_id, credits, duration="annual")
        home_config = HomeConfig(
            data_dir=folder / "home",
            cloud_url=str(linked_to.make_url("")).rstrip("/"),
            offline=True,
            cloud_key_file=folder / "cloud" / "jwks.json",
        )
        home = TestClient(TestServer(create_home(home_config, clock), host="127.0.0.1"))
        await home.start_server()
        system = await admin.link_system(account_id, (await home_api(home).system())["registration_code"])
        pair = cls(cloud, home, admin, account_id, system["id"], sub["id"])
        pair.other = linked_to if other else None
        return pair

    async def preload(self, count: int) -> None:
        """``count`` assignments of 0.25 credits straight into the store, as ``count`` assigns would leave them."""
        now = START
        async with self.cloud.app[DB].transaction() as tx:
            assert await tx.subscriptions.take_quarters(self.sub_id, count)
            items = [
                Assignment.new(
                    account_id=self.account_id,
                    system_id=self.system_id,
                    subscription_id=self.sub_id,
                    quarters=1,
                    assigned_at=now,
                    auto_revoke_at=None,
                )
                for _ in range(count)
            ]
            await tx.assignments.insert_many(items)
            await tx.ledger.append_many(
                [
                    LedgerEntry(
                        at=now,
                        kind="assigned",
                        actor="bench",
                        account_id=self.account_id,
                        subscription_id=self.sub_id,
                        system_id=self.system_id,
                        assignment_id=item.id,
                        quarters=1,
                    )
                    for item in items
                ]
            )
            await tx.systems.mark_dirty([self.system_id])

    async def go_online(self) -> None:
        await home_api(self.home).set_cloud_link(True)
        link = self.home.app[LINK]
        await link.wait_for_state("online", timeout=60)
        await link.wait_for_seq(1, timeout=60)

    async def assign_visible_ms(self) -> float:
        """One sample: milliseconds from sending an assign to HOME having applied the snapshot that holds it. The
        revoke that follows (not timed) leaves the system's assignments as they were for the next sample."""
        node = self.home.app[NODE]
        target = node.applied_seq + 1
        began = time.perf_counter()
        item = await self.admin.assign(self.account_id, self.system_id, self.sub_id, 0.25)
        await node.wait_for_seq(target, timeout=30)
        elapsed = (time.perf_counter() - began) * 1000
        await self.admin.revoke(self.account_id, self.system_id, item["id"])
        return elapsed

    async def close(self) -> None:
        await self.home.close()
        if self.other is not None:
            await self.other.close()
        await self.cloud.close()


@asynccontextmanager
async def online_pair(
    folder: Path, preload: int, samples: int, database: str | None = None, other: bool = False
) -> AsyncIterator[Pair]:
    """A started pair with ``preload`` assignments on its system, HOME online, and credits for ``samples`` more
    (closed on leaving). ``database`` and ``other`` as for ``Pair.start``."""
    pair = await Pair.start(folder, preload + samples + 10, database, other)
    try:
        await pair.preload(preload)
        await pair.go_online()
        yield pair
    finally:
        await pair.close()


async def assign_visible(
    folder: Path, preload: int, samples: int, database: str | None = None, other: bool = False
) -> list[float]:
    """Milliseconds from sending an assign to HOME having applied the snapshot that holds it. A revoke
    (not timed) follows each, so every sample sees the same ``preload`` assignments on the system. ``database``:
    on PostgreSQL; ``other``: HOME linked to a second cloud process, the assign made through the first."""
    async with online_pair(folder, preload, samples, database, other) as pair:
        return [await pair.assign_visible_ms() for _ in range(samples)]


async def assign_visible_side_by_side(
    folder: Path, preload: int, samples: int, database: str
) -> tuple[list[float], list[float]]:
    """``assign_visible`` on SQLite and on PostgreSQL (``database``) at once: both pairs started, then one sample
    of each in turn, the first of each round alternating. The machine's speed drifts by tens of percent within
    minutes, so measuring one backend after the other makes their ratio swing with the drift; taken in turn, both
    see the same machine. Returns the SQLite and the PostgreSQL milliseconds."""
    async with (
        online_pair(folder / "sqlite", preload, samples) as sqlite,
        online_pair(folder / "pg", preload, samples, database) as postgres,
    ):
        timings: dict[Pair, list[float]] = {sqlite: [], postgres: []}
        for number in range(samples):
            for pair in (sqlite, postgres) if number % 2 == 0 else (postgres, sqlite):
                timings[pair].append(await pair.assign_visible_ms())
        return timings[sqlite], timings[postgres]


async def file_round_trip(folder: Path, entries: int, rounds: int) -> list[float]:
    """Milliseconds to download a credits file of ``entries`` assignments and upload it into HOME (applied)."""
    pair = await Pair.start(folder, entries + 10)
    try:
        await pair.preload(entries)
        timings = []
        for _ in range(rounds):
            began = time.perf_counter()
            token = await pair.admin.download(pair.account_id, pair.system_id)
            applied = await home_api(pair.home).upload(token)
            timings.append((time.perf_counter() - began) * 1000)
            assert applied["result"] == "applied" and len(token) > entries * 50
        return timings
    finally:
        await pair.close()


async def sustained_assigns(
    folder: Path, homes: int, seconds: float, database: str | None = None, workers: int = 1
) -> dict[str, Any]:
    """Assigns per second that ``CONCURRENCY`` client workers get from a cloud process whose ``homes``
    systems are all online (a fleet process), next to what the same client gets from a bare handler.
    ``database``: the cloud on PostgreSQL, as ``workers`` processes on one port."""
    bare = Process("bare", [sys.executable, "scripts/bench_primitives.py"], folder / "bare")
    cloud = cloud_process(folder / "cloud", database, workers)
    fleet = None
    try:
        url = await cloud.ready(60)
        async with aiohttp.ClientSession() as session:
            account, token, sub_id = await new_account(session, url, 10_000_000)
            fleet = fleet_process(folder / "fleet", url, homes, token)
            await fleet.ready(300)
            systems = [
                item["id"]
                for item in (await api(session, "GET", f"{url}/api/v1/accounts/{account}/systems", token))["systems"]
            ]
            online = sum(
                1
                for item in (await api(session, "GET", f"{url}/api/v1/accounts/{account}/systems", token))["systems"]
                if item["online"]
            )
        base = f"{url}/api/v1/accounts/{account}/systems"
        headers = {"Authorization": f"Bearer {token}"}
        rate, failed = await request_rate(
            lambda n: (f"{base}/{systems[n % len(systems)]}/assignments", {"subscription_id": sub_id, "credits": 0.25}),
            seconds,
            headers,
            expect=201,
        )
        links_per_process = await links_by_process(database) if database else {}
        bare_url = await bare.ready(30)
        raw, raw_failed = await request_rate(
            lambda n: (f"{bare_url}/bare", {"subscription_id": "sub_x", "credits": 0.25}), seconds
        )
    finally:
        for process in (fleet, cloud, bare):
            if process is not None:
                process.stop()
    return {
        "assigns_per_s": round(rate, 1),
        "assign_failures": failed,
        "homes_online": online,
        "raw_http_req_per_s": round(raw, 1),
        "raw_failures": raw_failed,
        "concurrency": CONCURRENCY,
    } | ({"links_per_process": sorted(links_per_process.values(), reverse=True)} if database else {})


async def links_by_process(database: str) -> dict[str, int]:
    """How many HOME links each cloud process holds, as the systems table records it."""
    import asyncpg

    conn = await asyncpg.connect(database)
    try:
        rows = await conn.fetch(
            "SELECT online_via, COUNT(*) AS n FROM systems WHERE online_via IS NOT NULL GROUP BY online_via"
        )
    finally:
        await conn.close()
    return {str(row["online_via"]): int(row["n"]) for row in rows}


async def pair_start(folder: Path, rounds: int) -> list[float]:
    """Milliseconds from starting a cloud process until it and a HOME process are both ready."""
    timings = []
    for number in range(rounds):
        began = time.perf_counter()
        cloud = cloud_process(folder / f"pair{number}" / "cloud")
        home = None
        try:
            url = await cloud.ready(60)
            home = home_process(folder / f"pair{number}" / "home", url)
            await home.ready(60)
            timings.append((time.perf_counter() - began) * 1000)
        finally:
            for process in (home, cloud):
                if process is not None:
                    process.stop()
    return timings


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(values), 2), "p99": round(percentile(values, 0.99), 2)}
