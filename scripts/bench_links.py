"""Many live links on one cloud process: fleets of linked HOMEs (``python -m home.fleet`` processes)
connect to one cloud process, and the cloud's resident memory is read before and after."""

import asyncio
import math
import time
from pathlib import Path
from typing import Any

import aiohttp
from bench_services import (
    Process,
    api,
    cloud_process,
    fleet_process,
    new_account,
    rss_kb,
)

# Each node holds its database, WAL, shared-memory file and socket open: a few thousand per process
# stay well inside a usual open-files limit.
NODES_PER_FLEET = 2500
# Handshakes in flight per fleet: enough to keep the cloud busy, few enough that none times out on a busy machine.
CONNECTING_PER_FLEET = 32


async def online_count(session: aiohttp.ClientSession, cloud: str, account: str, token: str) -> int:
    systems = (await api(session, "GET", f"{cloud}/api/v1/accounts/{account}/systems", token))["systems"]
    return sum(1 for item in systems if item["online"])


async def live_links(folder: Path, links: int) -> dict[str, Any]:
    """Link ``links`` HOMEs with their links off, read the cloud's RSS, switch every link on, read it again."""
    cloud = cloud_process(folder / "cloud")
    fleets: list[Process] = []
    try:
        url = await cloud.ready(60)
        async with aiohttp.ClientSession() as session:
            account, token, _ = await new_account(session, url, 1)
            sizes = [NODES_PER_FLEET] * (links // NODES_PER_FLEET) + (
                [links % NODES_PER_FLEET] if links % NODES_PER_FLEET else []
            )
            began = time.perf_counter()
            for number, size in enumerate(sizes):
                fleets.append(
                    fleet_process(
                        folder / f"fleet{number}",
                        url,
                        size,
                        token,
                        "--offline",
                        "--label-prefix",
                        f"F{number}",
                        "--connect-concurrency",
                        str(CONNECTING_PER_FLEET),
                    )
                )
            fleet_urls = await asyncio.gather(*(fleet.ready(900) for fleet in fleets))
            linked_s = time.perf_counter() - began
            await asyncio.sleep(2)
            before = rss_kb(cloud.pid)
            began = time.perf_counter()
            switch_on = {"enabled": True}
            await asyncio.gather(
                *(
                    api(session, "PUT", f"{fleet_url}/api/v1/nodes/cloud-link", body=switch_on, timeout=1800)
                    for fleet_url in fleet_urls
                )
            )
            connected = await online_count(session, url, account, token)
            deadline = time.monotonic() + 120  # a link that timed out in a busy moment retries after its backoff
            while connected < links and time.monotonic() < deadline:
                await asyncio.sleep(2)
                connected = await online_count(session, url, account, token)
            connected_s = time.perf_counter() - began
            await asyncio.sleep(10)  # a few heartbeats: the memory of links that have settled
            connected = min(connected, await online_count(session, url, account, token))
            after = rss_kb(cloud.pid)
    finally:
        for fleet in fleets:
            fleet.stop(timeout=300)
        cloud.stop()
    return {
        "links_connected": connected,
        "link_rss_kb_each": round((after - before) / max(connected, 1), 2),
        "cloud_rss_kb_before_links": before,
        "cloud_rss_kb_with_links": after,
        "fleet_processes": len(sizes),
        "fleet_open_and_link_s": round(linked_s, 1),
        "links_connect_s": round(connected_s, 1),
        "links_per_s": round(connected / connected_s, 1) if connected_s else math.nan,
    }
