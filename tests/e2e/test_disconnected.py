"""The disconnected flow end to end with a real HOME: credits file, FileLicenses upload, revoke key,
and an adversarial suite that checks the invariant after every attempt."""

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from flex_emulator.home.appkeys import CONFIG
from flex_emulator.shared.tokens import CLOUD_ISSUER
from tests.kit.api import assert_error
from tests.kit.world import Home, World


def claims(token: str) -> dict[str, object]:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def reencode(token: str, payload: dict[str, object], header: dict[str, object] | None = None) -> str:
    head, _, signature = token.split(".")

    def pack(data: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{pack(header) if header else head}.{pack(payload)}.{signature}"


async def test_file_round_trip_and_revoke_key(world: World) -> None:
    sub = await world.tenant.subscription(10, duration="annual")
    van = await world.start_home("OB Van 3", offline=True)
    item = await world.tenant.assign(van.system_id, sub["id"], 3.5)
    assert item["downloaded"] is False
    await world.check()

    file = await world.tenant.download(van.system_id)
    applied = await van.upload(file)
    assert applied["kind"] == "credits" and applied["result"] == "applied" and applied["seq"] == 1
    assert applied["credits"] == {"total": 3.5, "in_use": 0, "remaining": 3.5, "shortfall": 0}
    assert (await van.upload(file))["result"] == "unchanged"
    assert await van.held_ids() == {item["id"]}
    await world.check()

    answer = await world.tenant.revoke(van.system_id, item["id"])
    assert answer["assignment"]["state"] == "revoke_pending" and len(answer["steps"]) == 4
    assert (await world.tenant.sub_state(sub["id"]))["credits_available"] == 6.5
    await world.check()

    newer = await world.tenant.download(van.system_id)
    assert claims(newer)["asg"] == []
    uploaded = await van.upload(newer)
    assert uploaded["result"] == "applied" and uploaded["credits"]["total"] == 0
    key = (await van.credits())["revoke_key"]
    assert key == uploaded["revoke_key"]
    returned = await world.tenant.post(f"/systems/{van.system_id}/revoke-keys", {"revoke_key": key})
    assert returned == {"returned": [item["id"]], "credits_returned": 3.5}
    assert await world.tenant.post(f"/systems/{van.system_id}/revoke-keys", {"revoke_key": key}) == {
        "returned": [],
        "credits_returned": 0,
    }
    assert (await world.tenant.sub_state(sub["id"]))["credits_available"] == 10
    await world.check()

    # An old file can never bring the revoked credits back.
    assert_error(await van.upload(file, expect=409), "stale")
    assert await van.held_ids() == set()
    await world.check()


async def test_revoke_cut_off_mid_way_completes_once_either_way(world: World) -> None:
    """HOME applied the snapshot that dropped the credits but the cloud never heard: the receipt on
    reconnect completes the revoke, and the revoke key afterwards returns nothing more."""
    sub = await world.tenant.subscription(8)
    studio = await world.online_home("Studio A")
    item = await world.tenant.assign(studio.system_id, sub["id"], 2)
    await studio.switch_link(False)
    await world.wait_for_portal(studio.system_id, lambda found: not found["system"]["online"])
    assert (await world.tenant.revoke(studio.system_id, item["id"]))["assignment"]["state"] == "revoke_pending"
    await studio.upload(await world.tenant.download(studio.system_id))
    key = (await studio.credits())["revoke_key"]
    await world.check()

    await studio.switch_link(True)
    await world.wait_for_portal(studio.system_id, lambda found: found["assignments"][0]["state"] == "ended")
    assert (await world.tenant.sub_state(sub["id"]))["credits_available"] == 8
    assert await world.tenant.post(f"/systems/{studio.system_id}/revoke-keys", {"revoke_key": key}) == {
        "returned": [],
        "credits_returned": 0,
    }
    returned = [event for event in (await world.tenant.get("/history"))["events"] if event["kind"] == "returned"]
    assert len(returned) == 1
    await world.check()


async def test_revoke_cut_off_mid_way_completes_by_revoke_key_too(world: World) -> None:
    sub = await world.tenant.subscription(8)
    studio = await world.online_home("Studio A")
    item = await world.tenant.assign(studio.system_id, sub["id"], 2)
    await studio.link.wait_for_receipts(1)  # HOME holds the credits before its link goes down
    await studio.switch_link(False)
    await world.wait_for_portal(studio.system_id, lambda found: not found["system"]["online"])
    await world.tenant.revoke(studio.system_id, item["id"])
    credits_file = await world.tenant.download(studio.system_id)
    await studio.upload(credits_file)
    key = (await studio.credits())["revoke_key"]
    assert (await world.tenant.post(f"/systems/{studio.system_id}/revoke-keys", {"revoke_key": key}))[
        "credits_returned"
    ] == 2
    await studio.switch_link(True)
    # The cloud took the receipt HOME sends as it links again, for the file the revoke key came from.
    seq = claims(credits_file)["seq"]
    await world.wait_for_event("receipt_accepted", system_id=studio.system_id, via="link", seq=seq)
    returned = [event for event in (await world.tenant.get("/history"))["events"] if event["kind"] == "returned"]
    assert len(returned) == 1
    assert (await world.tenant.sub_state(sub["id"]))["credits_available"] == 8
    await world.check()


@pytest.fixture
async def armed(world: World) -> tuple[World, Home, Home, str, str]:
    """Two disconnected HOMEs, one holding a file; returns (world, van, studio, van_file, studio_file)."""
    sub = await world.tenant.subscription(20)
    van = await world.start_home("OB Van 3", offline=True)
    studio = await world.start_home("Studio A", offline=True)
    await world.tenant.assign(van.system_id, sub["id"], 4)
    await world.tenant.assign(studio.system_id, sub["id"], 1)
    van_file = await world.tenant.download(van.system_id)
    studio_file = await world.tenant.download(studio.system_id)
    await van.upload(van_file)
    return world, van, studio, van_file, studio_file


async def test_adversarial_uploads_are_refused_and_change_nothing(armed: tuple[World, Home, Home, str, str]) -> None:
    world, van, _studio, van_file, studio_file = armed
    before = await van.credits()
    payload = claims(van_file)
    stranger = Ed25519PrivateKey.generate()
    import jwt

    from flex_emulator.shared.keys import key_id

    strangers_file = jwt.encode(
        payload, stranger, algorithm="EdDSA", headers={"typ": "flex-credits+jwt", "kid": key_id(stranger.public_key())}
    )
    same_kid_forgery = jwt.encode(
        payload,
        stranger,
        algorithm="EdDSA",
        headers={"typ": "flex-credits+jwt", "kid": jwt.get_unverified_header(van_file)["kid"]},
    )
    unsigned = reencode(van_file, payload, {"alg": "none", "typ": "flex-credits+jwt"}).rsplit(".", 1)[0] + "."
    richer = reencode(van_file, {**payload, "asg": [[*payload["asg"][0][:1], 1600, *payload["asg"][0][2:]]]})
    cases = [
        (strangers_file, 422, "bad_signature"),
        (same_kid_forgery, 422, "bad_signature"),
        (richer, 422, "bad_signature"),
        (unsigned, 422, "bad_signature"),
        (studio_file, 422, "wrong_system"),
        ("not a token at all", 400, "malformed"),
        ("", 400, "malformed"),
        ("a.b.c", 400, "malformed"),
    ]
    for bad, status, code in cases:
        assert_error(await van.upload(bad, expect=status), code)
        assert await van.credits() == before
        await world.check()
    huge = "x" * (van.client.app[CONFIG].max_upload_bytes + 1)
    assert_error(await van.upload(huge, expect=413), "too_large")
    assert await van.credits() == before
    assert payload["iss"] == CLOUD_ISSUER


async def test_replayed_older_file_is_stale_and_never_resurrects_credits(
    armed: tuple[World, Home, Home, str, str],
) -> None:
    world, van, _studio, van_file, _ = armed
    [item] = (await world.tenant.get(f"/systems/{van.system_id}"))["assignments"]
    await world.tenant.revoke(van.system_id, item["id"])
    newer = await world.tenant.download(van.system_id)
    await van.upload(newer)
    key = (await van.credits())["revoke_key"]
    await world.tenant.post(f"/systems/{van.system_id}/revoke-keys", {"revoke_key": key})
    stale = await van.upload(van_file, expect=409)
    assert_error(stale, "stale")
    assert await van.held_ids() == set()
    await world.check()


async def test_revoke_key_from_the_wrong_home_is_refused(armed: tuple[World, Home, Home, str, str]) -> None:
    world, van, studio, _van_file, studio_file = armed
    [item] = (await world.tenant.get(f"/systems/{van.system_id}"))["assignments"]
    await world.tenant.revoke(van.system_id, item["id"])
    await studio.upload(studio_file)
    wrong = (await studio.credits())["revoke_key"]
    assert_error(
        await world.tenant.post(f"/systems/{van.system_id}/revoke-keys", {"revoke_key": wrong}, expect=422),
        "wrong_system",
    )
    assert (await world.tenant.get(f"/systems/{van.system_id}"))["assignments"][0]["state"] == "revoke_pending"
    edited = (await van.credits())["revoke_key"][:-8] + "AAAAAAAA"
    assert (await world.tenant.post(f"/systems/{van.system_id}/revoke-keys", {"revoke_key": edited}, expect=422))[
        "error"
    ]["code"] == "bad_signature"
    assert_error(
        await world.tenant.post(f"/systems/{van.system_id}/revoke-keys", {"revoke_key": "garbage"}, expect=400),
        "malformed",
    )
    await world.check()


async def test_a_file_kept_past_its_validity_is_refused_as_expired(world: World) -> None:
    sub = await world.tenant.subscription(8)
    van = await world.start_home("OB Van 3", offline=True)
    await world.tenant.assign(van.system_id, sub["id"], 2)
    old = await world.tenant.download(van.system_id)
    await world.advance(31 * 86400)
    assert_error(await van.upload(old, expect=422), "expired")
    assert (await van.credits())["total"] == 0
    await world.check()
    assert (await world.tenant.sub_state(sub["id"]))["credits_available"] == 8
