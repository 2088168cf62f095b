"""Perpetual licenses from the cloud and credits from a subscription, spent by resources on HOME."""

from flex_emulator.shared.timefmt import iso
from tests.kit import TENANT_ADMIN
from tests.kit.api import assert_error, call
from tests.kit.portal import Portal, csrf_in
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


async def test_credits_revoked_while_a_resource_runs_leave_it_running_but_unlicensed(world: World) -> None:
    """HOME reports its usage with its receipts, so the portal's Revoke dialog warns before credits in use go; after
    the revoke (online, confirmed) the resource keeps running but shows Unlicensed, and cannot start again."""
    sub = await world.tenant.subscription(8)
    studio = await world.online_home("Studio A")
    item = await world.tenant.assign(studio.system_id, sub["id"], 4)
    wall = await call(
        studio.client,
        "POST",
        "/api/v1/resources",
        json={"name": "MV wall", "license_type_needed": "MV", "count": 1, "license_type": "credits"},
        expect=201,
    )
    resource = wall["resource"]
    started = await call(studio.client, "POST", f"/api/v1/resources/{resource['id']}/start")
    assert started["resource"]["status"] == "running"  # MV costs 4 credits
    detail = await world.wait_for_portal(
        studio.system_id, lambda d: d["system"].get("home_usage", {}).get("credits_in_use") == 4
    )
    assert detail["system"]["home_usage"]["reported_at"] == iso(world.clock.now())

    portal = await portal_of(world)
    dialog = await portal.page(f"{portal.base}/systems/{studio.system_id}/assignments/{item['id']}/revoke")
    warning = " ".join(dialog.split())
    assert 'id="usage-warning"' in warning and "running resources use 4 credits" in warning
    assert "show Unlicensed and cannot start again" in warning

    revoked = await world.tenant.revoke(studio.system_id, item["id"])
    assert revoked["assignment"]["state"] == "ended"
    await world.check()
    [shown] = (await call(studio.client, "GET", "/api/v1/resources"))["resources"]
    assert (shown["status"], shown["running"], shown["credits_in_use"]) == ("unlicensed", True, 4)
    view = await studio.credits()
    assert (view["total"], view["in_use"], view["remaining"], view["shortfall"]) == (0, 4, 0, 4)
    await call(studio.client, "POST", f"/api/v1/resources/{resource['id']}/stop")
    await world.wait_for_portal(studio.system_id, lambda d: d["system"]["home_usage"]["credits_in_use"] == 0)
    again = await call(studio.client, "POST", f"/api/v1/resources/{resource['id']}/start")
    assert (again["resource"]["status"], again["resource"]["running"]) == ("unlicensed", False)
    # the invariant stays about credits HOME holds: the subscription has all 8 back
    assert (await world.tenant.sub_state(sub["id"]))["credits_available"] == 8
    await world.check()


async def test_no_warning_when_what_is_left_covers_the_usage(world: World) -> None:
    sub = await world.tenant.subscription(8)
    studio = await world.online_home("Studio A")
    kept = await world.tenant.assign(studio.system_id, sub["id"], 1)
    spare = await world.tenant.assign(studio.system_id, sub["id"], 1)
    made = await call(
        studio.client,
        "POST",
        "/api/v1/resources",
        json={"name": "Importer", "license_type_needed": "NMOS Importer", "count": 1, "license_type": "credits"},
        expect=201,
    )
    await call(studio.client, "POST", f"/api/v1/resources/{made['resource']['id']}/start")  # 1 credit
    await world.wait_for_portal(
        studio.system_id, lambda d: d["system"].get("home_usage", {}).get("credits_in_use") == 1
    )
    portal = await portal_of(world)
    for item, warned in ((spare, False), (kept, False)):
        dialog = await portal.page(f"{portal.base}/systems/{studio.system_id}/assignments/{item['id']}/revoke")
        assert ('id="usage-warning"' in dialog) is warned
    await world.tenant.revoke(studio.system_id, spare["id"])
    dialog = await portal.page(f"{portal.base}/systems/{studio.system_id}/assignments/{kept['id']}/revoke")
    assert 'id="usage-warning"' in dialog  # now the last credit HOME holds is the one in use
    await world.check()


async def portal_of(world: World) -> Portal:
    client = world.cloud
    form = await client.get("/signin")
    response = await client.post(
        "/signin",
        data={"csrf": csrf_in(await form.text()), "email": TENANT_ADMIN[0], "password": TENANT_ADMIN[1], "next": "/"},
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()
    return Portal(client, world.tenant.account_id)
