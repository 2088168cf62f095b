"""Perpetual licenses from the cloud and credits from a subscription, spent by resources on HOME."""

from tests.kit.api import assert_error, call
from tests.kit.world import World


async def test_resources_take_perpetual_licenses_first_then_credits(world: World) -> None:
    sub = await world.tenant.subscription(8)
    studio = await world.online_home("Studio A")
    await world.tenant.assign(studio.system_id, sub["id"], 2)
    license_file = await call(
        world.cloud,
        "POST",
        f"/_emulator/systems/{studio.system_id}/perpetual-licenses",
        json={"license_type": "NMOS Importer", "count": 1},
    )
    applied = await studio.upload(license_file)
    assert applied["kind"] == "perpetual" and applied["result"] == "applied"
    assert (await studio.upload(license_file))["result"] == "unchanged"

    made = await call(
        studio.client,
        "POST",
        "/api/v1/resources",
        json={"name": "Importer 1", "license_type_needed": "NMOS Importer", "count": 2, "license_type": "default"},
        expect=201,
    )
    resource = made["resource"]
    started = await call(studio.client, "POST", f"/api/v1/resources/{resource['id']}/start")
    assert started["resource"]["status"] == "running"
    view = await studio.credits()
    assert (view["total"], view["in_use"], view["remaining"]) == (2, 1, 1)  # one perpetual + one license at 1 credit
    perpetual = (await call(studio.client, "GET", "/api/v1/licenses/perpetual"))["licenses"]
    assert {"license_type": "NMOS Importer", "total": 1, "in_use": 1, "remaining": 0} in perpetual

    big = await call(
        studio.client,
        "POST",
        "/api/v1/resources",
        json={"name": "MV wall", "license_type_needed": "MV", "count": 1, "license_type": "credits"},
        expect=201,
    )
    refused = await call(studio.client, "POST", f"/api/v1/resources/{big['resource']['id']}/start")
    assert refused["resource"]["status"] == "unlicensed"  # MV costs 4 credits, 1 remains
    assert (await studio.credits())["in_use"] == 1

    await call(studio.client, "POST", f"/api/v1/resources/{resource['id']}/stop")
    assert (await studio.credits())["in_use"] == 0
    assert_error(
        await call(
            world.cloud,
            "POST",
            "/_emulator/systems/home-nope/perpetual-licenses",
            json={"license_type": "MV", "count": 1},
            expect=404,
        ),
        "not_found",
    )
    assert_error(
        await call(
            world.cloud,
            "POST",
            f"/_emulator/systems/{studio.system_id}/perpetual-licenses",
            json={"license_type": "Teleporter", "count": 1},
            expect=400,
        ),
        "invalid_license_type",
    )
    await world.check()
