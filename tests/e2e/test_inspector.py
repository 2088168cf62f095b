"""The inspector's data and controls, through its JSON routes and its live stream, against a real cloud and real
HOME nodes: the timeline of both journals in the order things happened, each token verified with the key that
must have made it, HOME's address (announced on the link or told, this machine only), the demo controls, and
nothing of it without --emulator-api."""

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from flex_emulator.cloud.app import create_app as create_cloud
from flex_emulator.cloud.appkeys import HOME_ADDRESSES
from flex_emulator.cloud.config import Config as CloudConfig
from flex_emulator.cloud.emulator.home_addresses import HomeAddresses
from flex_emulator.home.app import create_app as create_home
from flex_emulator.home.appkeys import LINK
from flex_emulator.home.config import Config as HomeConfig
from flex_emulator.shared.timefmt import from_epoch, iso
from tests.kit import DEMO_ADMIN
from tests.kit.api import Tenant, assert_error, call, cloud_api, new_tenant, sign_in
from tests.kit.world import Home, World


def url_of(client: TestClient) -> str:
    return str(client.make_url("")).rstrip("/")


async def timeline(world: World, system_id: str, after: str = "") -> dict[str, Any]:
    return await call(world.cloud, "GET", f"/_emulator/inspector/timeline?system={system_id}&after={after}")


async def tell_address(world: World, home: Home, expect: int = 200, url: str | None = None) -> Any:
    body = {"url": url or url_of(home.client)}
    return await call(world.cloud, "PUT", f"/_emulator/systems/{home.system_id}/home-address", json=body, expect=expect)


def titles(items: list[dict[str, Any]]) -> list[str]:
    return [f"{item['lane']}: {item['title']}" for item in items]


async def test_an_online_assign_and_revoke_read_in_order_from_both_journals_with_verified_tokens(world: World) -> None:
    studio = await world.start_home("Studio A", offline=True)
    studio.link.announce(url_of(studio.client))  # what `flex-home` does once it listens
    await studio.switch_link(True)
    await studio.link.wait_for_state("online")
    address = await call(world.cloud, "GET", f"/_emulator/systems/{studio.system_id}/home-address")
    assert address == {"system_id": studio.system_id, "url": url_of(studio.client), "source": "link"}

    sub = await world.tenant.subscription(10)
    item = await world.tenant.assign(studio.system_id, sub["id"], 2)
    await call(world.cloud, "GET", f"/_emulator/systems/{studio.system_id}/settled")
    await world.tenant.revoke(studio.system_id, item["id"])
    answer = await timeline(world, studio.system_id)
    said = titles(answer["items"])
    expected = [
        "cloud: Assigned 2 credits",
        "cloud: Signed credits file 1 (1 entry)",
        "cloud: Pushed credits file 1 over the link",
        "home: Applied credits file 1 (1 entry)",
        "home: Sent receipt 1: proof that HOME holds credits file 1",
        "cloud: Receipt 1 accepted: HOME holds credits file 1",
        "cloud: Revoke of 2 credits requested: they stay counted",
        "cloud: Signed credits file 2 (0 entries)",
        "cloud: Pushed credits file 2 over the link",
        "home: Applied credits file 2 (0 entries)",
        "home: Sent receipt 2: proof that HOME holds credits file 2",
        "cloud: Receipt 2 accepted: HOME holds credits file 2; 1 assignment returned",
        "cloud: Returned 2 credits to the subscription (revoked)",
    ]
    assert [line for line in said if line in expected] == expected, said
    by_title = {f"{i['lane']}: {i['title']}": i for i in answer["items"]}
    pushed = by_title["cloud: Pushed credits file 1 over the link"]
    assert pushed["crossing"] == "to_home" and not pushed["by_hand"]
    assert pushed["token"]["header"]["typ"] == "flex-credits+jwt" and pushed["token"]["claims"]["seq"] == 1
    assert pushed["token"]["signature"] == {
        "verified": True,
        "key": "the cloud's key",
        "note": "Ed25519 signature verified with the cloud's key.",
    }
    receipt = by_title["home: Sent receipt 1: proof that HOME holds credits file 1"]
    assert receipt["crossing"] == "to_cloud" and receipt["token"]["signature"]["verified"] is True
    assert receipt["token"]["signature"]["key"] == "HOME's key"
    assert by_title["home: Applied credits file 1 (1 entry)"]["token"]["compact"] == pushed["token"]["compact"]
    assert answer["status"]["home"]["reachable"] is True and answer["status"]["system"]["online"] is True

    # Read on from where it stopped: nothing again, then only what is new.
    again = await timeline(world, studio.system_id, answer["next"])
    assert again["items"] == [] and again["next"] == answer["next"]
    await world.tenant.assign(studio.system_id, sub["id"], 1)
    await call(world.cloud, "GET", f"/_emulator/systems/{studio.system_id}/settled")
    newer = titles((await timeline(world, studio.system_id, answer["next"]))["items"])
    assert newer[0] == "cloud: Assigned 1 credit" and "home: Applied credits file 3 (1 entry)" in newer


async def test_a_disconnected_file_upload_and_revoke_key_with_a_refused_file_and_key(world: World) -> None:
    van = await world.start_home("OB Van 3", offline=True)
    assert (await tell_address(world, van))["source"] == "told"
    sub = await world.tenant.subscription(10)
    item = await world.tenant.assign(van.system_id, sub["id"], 1.5)
    first = await world.tenant.download(van.system_id)
    await van.upload(first)
    await world.tenant.revoke(van.system_id, item["id"])
    tampered = first[: first.rindex(".") + 1] + "A" * 86
    await van.upload(tampered, expect=422)
    await van.upload(await world.tenant.download(van.system_id))
    key = (await van.credits())["revoke_key"]
    await world.tenant.post(f"/systems/{van.system_id}/revoke-keys", {"revoke_key": key[:-4] + "AAAA"}, expect=422)
    await world.tenant.post(f"/systems/{van.system_id}/revoke-keys", {"revoke_key": key})

    items = (await timeline(world, van.system_id))["items"]
    said = titles(items)
    expected = [
        "cloud: Assigned 1.5 credits",
        "cloud: Credits file 1 downloaded (1 entry)",
        "home: Applied credits file 1 (1 entry)",
        "home: Shows revoke key 1 on Licenses → Credits",
        "cloud: Revoke of 1.5 credits requested: they stay counted",
        "home: Refused uploaded file 1: bad_signature",
        "cloud: Credits file 2 downloaded (0 entries)",
        "home: Applied credits file 2 (0 entries)",
        "home: Shows revoke key 2 on Licenses → Credits",
        "cloud: Revoke key refused: bad_signature",
        "cloud: Revoke key 2 entered: HOME's signature verified; 1 assignment returned",
        "cloud: Returned 1.5 credits to the subscription (revoked)",
    ]
    assert [line for line in said if line in expected] == expected, said
    by_title = {f"{i['lane']}: {i['title']}": i for i in items}
    download = by_title["cloud: Credits file 1 downloaded (1 entry)"]
    assert download["by_hand"] and download["crossing"] == "to_home" and download["token"]["compact"] == first
    refused = by_title["home: Refused uploaded file 1: bad_signature"]
    assert refused["tone"] == "refused" and refused["token"]["signature"]["verified"] is False
    assert "does not verify" in refused["token"]["signature"]["note"]
    entered = by_title["cloud: Revoke key 2 entered: HOME's signature verified; 1 assignment returned"]
    assert entered["by_hand"] and entered["token"]["compact"] == key and entered["token"]["signature"]["verified"]
    wrong_key = by_title["cloud: Revoke key refused: bad_signature"]
    assert wrong_key["token"]["signature"] | {"note": ""} == {"verified": False, "key": "HOME's key", "note": ""}


async def test_the_cloud_reads_only_the_right_home_on_this_machine(world: World, tmp_path: Path) -> None:
    van = await world.start_home("OB Van 3", offline=True)
    studio = await world.start_home("Studio A", offline=True)
    for url, code in [
        ("http://10.1.2.3:8802", "address_not_allowed"),
        ("http://example.com:8802", "address_not_allowed"),
        ("ftp://127.0.0.1:8802", "invalid_url"),
        ("http://127.0.0.1:8802/api", "invalid_url"),
        ("http://user:pw@127.0.0.1:8802", "invalid_url"),
        ("not a url", "invalid_url"),
    ]:
        assert_error(await tell_address(world, van, expect=400, url=url), code)
    assert_error(await tell_address(world, van, expect=409, url=url_of(studio.client)), "wrong_home")
    gone = url_of(studio.client)
    world.homes.remove(studio)
    await studio.client.close()  # nothing answers there any more
    assert_error(await tell_address(world, van, expect=409, url=gone), "home_unreachable")
    answer = await call(
        world.cloud, "PUT", "/_emulator/systems/home-nope/home-address", json={"url": url_of(van.client)}, expect=404
    )
    assert_error(answer, "not_found")
    unknown = await call(world.cloud, "GET", f"/_emulator/systems/{van.system_id}/home-address")
    assert unknown == {"system_id": van.system_id, "url": None, "source": None}
    refused = await call(
        world.cloud, "PUT", f"/_emulator/systems/{van.system_id}/cloud-link", json={"enabled": True}, expect=409
    )
    assert_error(refused, "home_unknown")
    # Another host only when the cloud was started for it, and IPv6 loopback like 127.0.0.1.
    allowed = HomeAddresses(("studio.example",))
    assert allowed.check("http://STUDIO.example:8801/") == "http://studio.example:8801"
    assert allowed.check("http://[::1]:8801") == "http://[::1]:8801"
    assert allowed.check("http://localhost:8801") == "http://localhost:8801"


async def test_demo_controls_switch_homes_link_and_move_both_clocks(world: World) -> None:
    studio = await world.online_home("Studio A")
    await tell_address(world, studio)
    base = f"/_emulator/systems/{studio.system_id}"
    answer = await call(world.cloud, "GET", f"/_emulator/inspector/timeline?system={studio.system_id}")

    switched = await call(world.cloud, "PUT", f"{base}/cloud-link", json={"enabled": False})
    assert switched["cloud"]["enabled"] is False and switched["cloud"]["state"] == "disabled"
    await world.wait_for_portal(studio.system_id, lambda detail: not detail["system"]["online"])
    off = titles((await timeline(world, studio.system_id, answer["next"]))["items"])
    assert "home: Link switched off: HOME is disconnected" in off and "cloud: Link down: HOME is offline" in off

    sub = await world.tenant.subscription(10)
    ends = world.clock.now().timestamp() + 1800
    await world.tenant.assign(studio.system_id, sub["id"], 2, auto_revoke_at=iso_from(ends))
    await studio.upload(await world.tenant.download(studio.system_id))
    moved = await call(world.cloud, "POST", f"{base}/clock", json={"advance_seconds": 3600})
    assert moved["cloud"]["virtual"] is True and moved["home"]["moved"] is True
    later = titles((await timeline(world, studio.system_id, answer["next"]))["items"])
    assert any(line.startswith("cloud: Clock moved forward to") for line in later)
    assert "home: 2 credits ended by HOME's clock" in later
    assert "cloud: Returned 2 credits to the subscription (Auto Revoke)" in later

    for body in ({}, {"advance_seconds": -1}, {"advance_seconds": "1"}, {"now": "2030-01-01T00:00:00Z"}):
        refused = await call(world.cloud, "POST", f"{base}/clock", json=body, expect=400)
        assert refused["error"]["code"] in ("invalid_value", "clock_backwards", "wrong_type")
    assert_error(
        await call(world.cloud, "PUT", f"{base}/cloud-link", json={"enabled": "yes"}, expect=400), "wrong_type"
    )


def iso_from(epoch: float) -> str:
    return iso(from_epoch(epoch)) or ""


async def test_the_stream_follows_new_events_live_and_resumes_after_the_last_id(world: World) -> None:
    studio = await world.online_home("Studio A")
    await tell_address(world, studio)
    path = f"/_emulator/inspector/stream?system={studio.system_id}"
    response = await world.cloud.get(path)
    assert response.status == 200 and response.headers["Content-Type"] == "text/event-stream"
    assert "Content-Security-Policy" not in response.headers  # a feed, not a page

    async def next_message() -> tuple[str, str, Any]:
        fields: dict[str, str] = {}
        while True:
            line = (await response.content.readline()).decode().rstrip("\n")
            if not line:
                if "event" in fields:
                    return fields["id"], fields["event"], json.loads(fields["data"])
                continue
            name, _, value = line.partition(": ")
            fields[name] = value

    async def item_titled(title: str) -> str:
        while True:
            ident, event, data = await next_message()
            if event == "item" and data["title"] == title:
                return ident

    await item_titled("Link online")
    sub = await world.tenant.subscription(10)
    await world.tenant.assign(studio.system_id, sub["id"], 2)
    last = await asyncio.wait_for(item_titled("Receipt 1 accepted: HOME holds credits file 1"), 10)
    response.close()

    await world.tenant.assign(studio.system_id, sub["id"], 1)
    await call(world.cloud, "GET", f"/_emulator/systems/{studio.system_id}/settled")
    response = await world.cloud.get(path, headers={"Last-Event-ID": last})
    while True:
        _, event, data = await next_message()
        if event == "item":
            break
    assert data["title"] == "Assigned 1 credit"  # the first item after the last one seen, none again
    response.close()


async def test_an_open_stream_ends_when_the_cloud_stops(aiohttp_client: Any, tmp_path: Path) -> None:
    cloud = await aiohttp_client(
        TestServer(create_cloud(CloudConfig(data_dir=tmp_path / "cloud", emulator_api=True)), host="127.0.0.1")
    )
    tenant = await new_tenant(cloud)
    system, _ = await tenant.link_new_system()
    response = await cloud.get(f"/_emulator/inspector/stream?system={system['id']}")
    assert (await response.content.readline()).startswith(b"retry:")
    await cloud.server.close()  # the server waits for its handlers: the stream must end, not hold it
    assert await response.content.read() is not None


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/_emulator/inspector"),
        ("GET", "/_emulator/inspector?system=home-x"),
        ("GET", "/_emulator/inspector/stream?system=home-x"),
        ("GET", "/_emulator/inspector/timeline?system=home-x"),
        ("GET", "/_emulator/inspector/static/inspector.js"),
        ("GET", "/_emulator/inspector/static/inspector.css"),
        ("GET", "/_emulator/systems/home-x/home-address"),
        ("PUT", "/_emulator/systems/home-x/home-address"),
        ("PUT", "/_emulator/systems/home-x/cloud-link"),
        ("POST", "/_emulator/systems/home-x/clock"),
    ],
)
async def test_nothing_of_the_inspector_is_there_without_the_emulator_api(
    aiohttp_client: Any, tmp_path: Path, method: str, path: str
) -> None:
    cloud = await aiohttp_client(create_cloud(CloudConfig(data_dir=tmp_path / "cloud", demo=True)))
    response = await cloud.request(method, path, json={"url": "http://127.0.0.1:1", "enabled": True})
    assert response.status == 404, (path, response.status)
    answer = await response.json()
    assert_error(answer, "not_found")
    assert answer["error"]["message"].startswith("There is nothing at"), answer  # no such route, not "no such system"


async def test_without_the_emulator_api_no_footer_link_no_route_in_openapi_and_no_address_kept(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    app: web.Application = create_cloud(CloudConfig(data_dir=tmp_path / "cloud", demo=True))
    cloud = await aiohttp_client(TestServer(app, host="127.0.0.1"))
    signin = await (await cloud.get("/signin")).text()
    assert "/_emulator/inspector" not in signin and "Inspector" not in signin
    document = await (await cloud.get("/openapi.json")).json()
    assert not [path for path in document["paths"] if "inspector" in path or "home-address" in path]
    token = await sign_in(cloud, *DEMO_ADMIN)
    tenant = Tenant(cloud, (await cloud_api(cloud, token).accounts())[0]["id"], token)
    home_config = HomeConfig(
        data_dir=tmp_path / "home", cloud_url=url_of(cloud), emulator_api=True, cloud_key_file=None, offline=True
    )
    home = await aiohttp_client(create_home(home_config))
    system = await call(home, "GET", "/api/v1/system")
    await tenant.link(system["registration_code"])
    home.app[LINK].announce(url_of(home))
    await call(home, "PUT", "/api/v1/cloud-link", json={"enabled": True})
    await home.app[LINK].wait_for_state("online")
    assert app[HOME_ADDRESSES].get(system["system_id"]) is None  # a cloud without the inspector keeps no address
