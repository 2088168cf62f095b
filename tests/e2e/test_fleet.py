"""Fleet mode: many HOME nodes in one process, each with its own identity, data, link and credits."""

import asyncio
import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from flex_emulator.home.fleet.api import FLEET, create_fleet_app
from flex_emulator.home.fleet.config import FleetConfig
from flex_emulator.home.fleet.linking import link_fleet
from tests.kit import TENANT_ADMIN
from tests.kit.api import assert_error, call
from tests.kit.world import World

pytestmark = pytest.mark.slow  # a fleet of nodes, and the fleet command as a real process

ROOT = Path(__file__).resolve().parents[2]
COUNT = 20


def fleet_config(world: World, **extra: Any) -> FleetConfig:
    return FleetConfig(
        data_dir=world.tmp_path / "fleet",
        count=COUNT,
        cloud_url=world.cloud_url,
        port=0,
        reconnect_min_seconds=0.05,
        reconnect_max_seconds=0.2,
        **extra,
    )


async def linked_systems(world: World) -> dict[str, dict[str, Any]]:
    return {system["id"]: system for system in (await world.tenant.get("/systems"))["systems"]}


async def test_a_fleet_links_to_an_account_and_each_node_keeps_its_own_credits(
    world: World, aiohttp_client: Any
) -> None:
    fleet_client = await aiohttp_client(
        create_fleet_app(fleet_config(world, link_token=world.tenant.token), world.clock)
    )
    listed = await call(fleet_client, "GET", "/api/v1/nodes?codes=1")
    assert listed["count"] == COUNT and listed["states"] == {"online": COUNT}
    ids = [node["system_id"] for node in listed["nodes"]]
    assert len(set(ids)) == COUNT and [node["label"] for node in listed["nodes"]][:2] == ["Fleet 00001", "Fleet 00002"]
    assert all(node["registration_code"] for node in listed["nodes"])
    systems = await linked_systems(world)
    assert set(ids) <= set(systems) and all(systems[system_id]["online"] for system_id in ids)

    sub = await world.tenant.subscription(20)
    for number, system_id in enumerate(ids[:5], start=1):
        await world.tenant.assign(system_id, sub["id"], number)
    fleet = fleet_client.app[FLEET]
    for system_id in ids[:5]:
        node = fleet.find(system_id)
        assert node is not None
        await node.node.wait_for_seq(1)
    totals = [
        (await call(fleet_client, "GET", f"/api/v1/nodes/{system_id}/licenses/credits"))["total"]
        for system_id in ids[:6]
    ]
    assert totals == [1, 2, 3, 4, 5, 0]

    switched = await call(fleet_client, "PUT", f"/api/v1/nodes/{ids[0]}/cloud-link", json={"enabled": False})
    assert switched["state"] == "disabled"
    await world.wait_for_portal(ids[0], lambda detail: detail["system"]["online"] is False)
    assert_error(await call(fleet_client, "GET", "/api/v1/nodes/home-nosuchnode", expect=404), "not_found")

    # A restart on the same folder is the same fleet: same systems, nothing linked twice, credits kept.
    await fleet_client.close()
    again = await aiohttp_client(create_fleet_app(fleet_config(world, link_token=world.tenant.token), world.clock))
    relisted = await call(again, "GET", "/api/v1/nodes")
    assert [node["system_id"] for node in relisted["nodes"]] == ids
    assert relisted["states"] == {"online": COUNT - 1, "disabled": 1}
    assert await link_fleet(again.app[FLEET], world.tenant.token, world.tenant.account_id) == 0
    assert (await call(again, "GET", f"/api/v1/nodes/{ids[4]}/licenses/credits"))["total"] == 5


async def test_the_fleet_command_links_its_nodes_and_stops_cleanly_on_sigterm(world: World) -> None:
    ready = world.tmp_path / "fleet-ready.json"
    command = [
        sys.executable,
        "-m",
        "flex_emulator.home.fleet",
        "--count",
        "3",
        "--data",
        str(world.tmp_path / "cli-fleet"),
        "--cloud-url",
        world.cloud_url,
        "--port",
        "0",
        "--ready-file",
        str(ready),
        "--link-email",
        TENANT_ADMIN[0],
        "--label-prefix",
        "Truck",
    ]
    log = world.tmp_path / "fleet.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, env={"FLEX_FLEET_PASSWORD": TENANT_ADMIN[1], "PATH": "/usr/bin:/bin"}, stderr=output
        )
    try:
        for _ in range(600):
            if ready.exists() or process.poll() is not None:
                break
            await asyncio.sleep(0.05)
        assert ready.exists(), log.read_text()
        systems = await linked_systems(world)
        trucks = {system_id: system for system_id, system in systems.items() if system["label"].startswith("Truck ")}
        assert len(trucks) == 3 and all(system["online"] for system in trucks.values())
        assert json.loads(ready.read_text())["pid"] == process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    await world.wait_for_portal(next(iter(trucks)), lambda detail: detail["system"]["online"] is False)
