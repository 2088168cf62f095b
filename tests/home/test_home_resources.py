"""Licensed resources: perpetual licenses first, then credits; unlicensed when not enough is free."""

import asyncio
from typing import Any

import jwt
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from flex_emulator.home.domain.spending import Allocation, plan_start
from flex_emulator.shared.clock import VirtualClock
from tests.kit.home import (
    DAY,
    START,
    credits_view,
    entry,
    license_token,
    snapshot_token,
    system_id,
    upload,
)


async def add(home: TestClient, name: str, needed: str, count: int, setting: str = "default") -> dict[str, Any]:
    body = {"name": name, "license_type_needed": needed, "count": count, "license_type": setting}
    response = await home.post("/api/v1/resources", json=body)
    assert response.status == 201
    return (await response.json())["resource"]


async def act(home: TestClient, resource: dict[str, Any], action: str) -> dict[str, Any]:
    response = await home.post(f"/api/v1/resources/{resource['id']}/{action}")
    assert response.status == 200
    return (await response.json())["resource"]


async def give_credits(home: TestClient, key: Ed25519PrivateKey, quarters: int, seq: int = 1, **kwargs: Any) -> None:
    sid = await system_id(home)
    response = await upload(home, snapshot_token(key, sid, seq, (entry("a1", quarters, **kwargs),)))
    assert response.status == 200


def test_plan_takes_perpetual_first_then_credits() -> None:
    assert plan_start("default", "MV", 3, free_perpetual=1, free_quarters=100) == Allocation(1, 32)
    assert plan_start("default", "MV", 1, free_perpetual=2, free_quarters=0) == Allocation(1, 0)
    assert plan_start("perpetual", "MV", 2, free_perpetual=1, free_quarters=100) is None
    assert plan_start("perpetual", "MV", 2, free_perpetual=2, free_quarters=100) == Allocation(2, 0)
    assert plan_start("credits", "MV", 1, free_perpetual=5, free_quarters=16) == Allocation(0, 16)
    assert plan_start("credits", "MV", 1, free_perpetual=5, free_quarters=15) is None


async def test_new_resource_is_stopped_and_listed(home: TestClient) -> None:
    resource = await add(home, "Camera 1", "HOME Pass", 1)
    assert resource["status"] == "stopped"
    assert resource["license_type"] == "default"
    listed = await (await home.get("/api/v1/resources")).json()
    assert [r["name"] for r in listed["resources"]] == ["Camera 1"]


async def test_start_takes_credits_and_stop_frees_them(home: TestClient, cloud_key: Ed25519PrivateKey) -> None:
    await give_credits(home, cloud_key, 20)  # 5 credits
    mv = await add(home, "Multiviewer", "MV", 1)  # 4 credits
    running = await act(home, mv, "start")
    assert running["status"] == "running"
    assert running["credits_in_use"] == 4
    view = await credits_view(home)
    assert (view["total"], view["in_use"], view["remaining"]) == (5, 4, 1)
    stopped = await act(home, mv, "stop")
    assert stopped["status"] == "stopped" and stopped["credits_in_use"] == 0
    assert (await credits_view(home))["remaining"] == 5


async def test_not_enough_credits_leaves_the_resource_unlicensed(
    home: TestClient, cloud_key: Ed25519PrivateKey
) -> None:
    await give_credits(home, cloud_key, 20)
    first = await act(home, await add(home, "MV A", "MV", 1), "start")
    response = await home.post(f"/api/v1/resources/{(await add(home, 'MV B', 'MV', 1))['id']}/start")
    body = await response.json()
    assert body["resource"]["status"] == "unlicensed"
    assert body["resource"]["credits_in_use"] == 0
    assert "not enough" in body["message"]
    assert first["status"] == "running"
    assert (await credits_view(home))["in_use"] == 4


async def test_perpetual_licenses_are_used_before_credits(home: TestClient, cloud_key: Ed25519PrivateKey) -> None:
    sid = await system_id(home)
    await upload(home, license_token(cloud_key, sid, "NMOS Proxy", 1))
    await give_credits(home, cloud_key, 12)  # 3 credits
    proxy = await act(home, await add(home, "Proxy", "NMOS Proxy", 2), "start")
    assert proxy["status"] == "running"
    assert proxy["perpetual_in_use"] == 1
    assert proxy["credits_in_use"] == 2
    perpetual = await (await home.get("/api/v1/licenses/perpetual")).json()
    assert perpetual == {"licenses": [{"license_type": "NMOS Proxy", "total": 1, "in_use": 1, "remaining": 0}]}
    await act(home, proxy, "stop")
    perpetual = await (await home.get("/api/v1/licenses/perpetual")).json()
    assert perpetual["licenses"][0]["remaining"] == 1


async def test_perpetual_only_and_credits_only_settings(home: TestClient, cloud_key: Ed25519PrivateKey) -> None:
    sid = await system_id(home)
    await upload(home, license_token(cloud_key, sid, "MV", 1))
    await give_credits(home, cloud_key, 100)
    only_perpetual = await act(home, await add(home, "P", "MV", 2, "perpetual"), "start")
    assert only_perpetual["status"] == "unlicensed"
    only_credits = await act(home, await add(home, "C", "MV", 1, "credits"), "start")
    assert (only_credits["status"], only_credits["perpetual_in_use"], only_credits["credits_in_use"]) == (
        "running",
        0,
        4,
    )


async def test_each_setting_takes_what_it_names_when_both_kinds_are_free(
    home: TestClient, cloud_key: Ed25519PrivateKey
) -> None:
    sid = await system_id(home)
    assert (await upload(home, license_token(cloud_key, sid, "MV", 2))).status == 200
    await give_credits(home, cloud_key, 100)  # 25 credits, so credits alone would start any of them

    async def perpetual_in_use() -> int:
        listed = (await (await home.get("/api/v1/licenses/perpetual")).json())["licenses"]
        return int(next(item["in_use"] for item in listed if item["license_type"] == "MV"))

    def usage(resource: dict[str, Any]) -> tuple[str, int, float]:
        return resource["status"], resource["perpetual_in_use"], resource["credits_in_use"]

    fits = await act(home, await add(home, "Perpetual wall", "MV", 2, "perpetual"), "start")
    assert usage(fits) == ("running", 2, 0)  # both free perpetual licenses, no credits
    assert (await perpetual_in_use(), (await credits_view(home))["in_use"]) == (2, 0)
    await act(home, fits, "stop")
    only_credits = await act(home, await add(home, "Credits wall", "MV", 1, "credits"), "start")
    assert usage(only_credits) == ("running", 0, 4)  # credits, though perpetual licenses are free
    assert (await perpetual_in_use(), (await credits_view(home))["in_use"]) == (0, 4)
    default = await act(home, await add(home, "Default wall", "MV", 1), "start")
    assert usage(default) == ("running", 1, 0)  # perpetual first
    assert (await act(home, fits, "start"))["status"] == "unlicensed"  # one perpetual license short now
    assert (await perpetual_in_use(), (await credits_view(home))["in_use"]) == (1, 4)


async def listed(home: TestClient) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in (await (await home.get("/api/v1/resources")).json())["resources"]}


async def test_running_resource_keeps_running_when_credits_expire_but_shows_unlicensed_and_cannot_restart(
    home: TestClient, cloud_key: Ed25519PrivateKey, clock: VirtualClock
) -> None:
    """Lawo's rule: a running resource keeps running until it stops; one whose usage exceeds what is available
    shows Unlicensed, and then cannot start again."""
    await give_credits(home, cloud_key, 8, valid_until=START + 2 * DAY)
    pass_ = await act(home, await add(home, "Cam", "HOME Pass", 4), "start")
    assert (pass_["status"], pass_["running"]) == ("running", True)
    clock.advance(3 * 86400)
    cam = (await listed(home))["Cam"]
    assert (cam["status"], cam["running"], cam["credits_in_use"]) == ("unlicensed", True, 1)
    view = await credits_view(home)
    assert (view["total"], view["in_use"], view["remaining"], view["shortfall"]) == (0, 1, 0, 1)
    stopped = await act(home, pass_, "stop")
    assert (stopped["status"], stopped["running"]) == ("stopped", False)
    again = await act(home, pass_, "start")
    assert (again["status"], again["running"], again["credits_in_use"]) == ("unlicensed", False, 0)
    assert (await credits_view(home))["shortfall"] == 0


async def test_running_resource_keeps_running_when_credits_are_revoked_but_shows_unlicensed(
    home: TestClient, cloud_key: Ed25519PrivateKey
) -> None:
    await give_credits(home, cloud_key, 8)
    cam = await act(home, await add(home, "Cam", "HOME Pass", 2), "start")
    # the revoke key is signed again with what running resources use (quarters): the cloud learns it from there
    key = (await credits_view(home))["revoke_key"]
    assert jwt.decode(key, options={"verify_signature": False})["use"] == 2
    sid = await system_id(home)
    assert (await upload(home, snapshot_token(cloud_key, sid, 2, ()))).status == 200
    shown = (await listed(home))["Cam"]
    assert (shown["id"], shown["status"], shown["running"], shown["credits_in_use"]) == (
        cam["id"],
        "unlicensed",
        True,
        0.5,
    )
    view = await credits_view(home)
    assert (view["total"], view["in_use"], view["remaining"], view["shortfall"]) == (0, 0.5, 0, 0.5)
    # starting it again says why, and changes nothing
    answer = await (await home.post(f"/api/v1/resources/{cam['id']}/start")).json()
    assert answer["resource"]["status"] == "unlicensed" and "running but unlicensed" in answer["message"]
    page = await (await home.get("/resources")).text()
    assert "Unlicensed" in page and "still running" in page and 'id="unlicensed-running"' in page
    credits_page = " ".join((await (await home.get("/licenses/credits")).text()).split())
    assert 'id="credit-shortfall"' in credits_page and "0.5 credits more than it holds" in credits_page


async def test_credits_held_go_to_running_resources_in_the_order_they_started(
    home: TestClient, cloud_key: Ed25519PrivateKey
) -> None:
    await give_credits(home, cloud_key, 8)  # 2 credits
    second = await add(home, "Second", "HOME Pass", 2)  # added first, started second
    first = await add(home, "First", "HOME Pass", 2)
    await act(home, first, "start")
    await act(home, second, "start")
    sid = await system_id(home)
    assert (await upload(home, snapshot_token(cloud_key, sid, 2, (entry("a2", 3),)))).status == 200  # 0.75 left
    shown = await listed(home)
    assert (shown["First"]["status"], shown["Second"]["status"]) == ("running", "unlicensed")
    assert shown["Second"]["running"] is True
    view = await credits_view(home)
    assert (view["total"], view["in_use"], view["shortfall"]) == (0.75, 1, 0.25)
    # stopping the first leaves enough for the second, which is licensed again
    await act(home, first, "stop")
    shown = await listed(home)
    assert (shown["First"]["status"], shown["Second"]["status"]) == ("stopped", "running")
    # and the first cannot start while the second uses what HOME holds
    assert (await act(home, first, "start"))["status"] == "unlicensed"


async def test_starting_twice_takes_nothing_more(home: TestClient, cloud_key: Ed25519PrivateKey) -> None:
    await give_credits(home, cloud_key, 8)
    cam = await add(home, "Cam", "HOME Pass", 1)
    await act(home, cam, "start")
    await act(home, cam, "start")
    assert (await credits_view(home))["in_use"] == 0.25


async def test_unknown_resource_is_not_found(home: TestClient) -> None:
    for path in ("/api/v1/resources/999/start", "/api/v1/resources/999/stop", "/api/v1/resources/abc/start"):
        response = await home.post(path)
        assert response.status == 404
        assert (await response.json())["error"]["code"] == "not_found"


async def test_concurrent_starts_never_take_more_than_is_free(home: TestClient, cloud_key: Ed25519PrivateKey) -> None:
    await give_credits(home, cloud_key, 32)  # enough for two MV licenses
    resources = [await add(home, f"MV {n}", "MV", 1, "credits") for n in range(8)]
    answers = await asyncio.gather(*(home.post(f"/api/v1/resources/{r['id']}/start") for r in resources))
    statuses = sorted([(await answer.json())["resource"]["status"] for answer in answers])
    assert statuses == ["running"] * 2 + ["unlicensed"] * 6
    view = await credits_view(home)
    assert (view["in_use"], view["remaining"]) == (8, 0)
