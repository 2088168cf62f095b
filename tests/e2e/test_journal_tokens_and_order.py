"""What the two journals keep for the inspector: the signed tokens that crossed between cloud and HOME, the
machine-clock time that orders the two journals against each other, downloads, refused revoke keys and files,
clock moves, and credits ending on HOME by its own clock."""

from datetime import UTC, datetime
from typing import Any

from flex_emulator.shared.journal import TOKEN_KEPT_BYTES, token_fields
from flex_emulator.shared.jws import unverified_claims, unverified_header
from flex_emulator.shared.timefmt import iso
from tests.kit.api import assert_error, call
from tests.kit.world import Home, World

HOUR = 3600.0


async def cloud_events(world: World, system_id: str | None = None) -> list[dict[str, Any]]:
    events = (await call(world.cloud, "GET", "/_emulator/events?limit=1000"))["events"]
    return [event for event in events if system_id is None or event.get("system_id") in (system_id, None)]


async def home_events(home: Home) -> list[dict[str, Any]]:
    return (await call(home.client, "GET", "/_emulator/events?limit=1000"))["events"]


def only(events: list[dict[str, Any]], kind: str, **fields: Any) -> dict[str, Any]:
    found = [e for e in events if e["kind"] == kind and all(e.get(key) == value for key, value in fields.items())]
    assert len(found) == 1, (kind, fields, [e["kind"] for e in events])
    return found[0]


async def test_an_online_round_trip_keeps_both_tokens_in_the_order_it_happened(world: World) -> None:
    studio = await world.online_home("Studio A")
    sub = await world.tenant.subscription(10)
    item = await world.tenant.assign(studio.system_id, sub["id"], 2)
    seq = (await call(world.cloud, "GET", f"/_emulator/systems/{studio.system_id}/settled"))["acked_seq"]

    cloud, home = await cloud_events(world, studio.system_id), await home_events(studio)
    pushed = only(cloud, "snapshot_pushed", seq=seq)
    claims = unverified_claims(pushed["token"])
    assert unverified_header(pushed["token"])["typ"] == "flex-credits+jwt"
    assert claims["seq"] == seq and claims["aud"] == studio.system_id
    assert item["id"] in str(claims)
    applied = only(home, "snapshot_applied", seq=seq, source="link")
    sent = only(home, "receipt_sent", seq=seq)
    accepted = only(cloud, "receipt_accepted", seq=seq, via="link")
    assert sent["token"] == accepted["token"] and unverified_claims(sent["token"])["seq"] == seq
    # One virtual moment for all of it; the machine's clock (microseconds) tells the order across both journals.
    assert pushed["at"] == applied["at"] == sent["at"] == accepted["at"]
    issued = only(cloud, "snapshot_issued", seq=seq)
    order = [issued, pushed, applied, sent, accepted]
    assert [event["noted_at"] for event in order] == sorted(event["noted_at"] for event in order)
    assert len({event["noted_at"] for event in order}) == len(order)


async def test_a_disconnected_round_trip_keeps_the_file_and_the_revoke_key_and_notes_refusals(world: World) -> None:
    van = await world.start_home("OB Van 3", offline=True)
    sub = await world.tenant.subscription(10)
    item = await world.tenant.assign(van.system_id, sub["id"], 1.5)
    first = await world.tenant.download(van.system_id)
    await van.upload(first)
    await world.tenant.revoke(van.system_id, item["id"])

    outdated = (await van.credits())["revoke_key"]
    refused = await world.tenant.post(f"/systems/{van.system_id}/revoke-keys", {"revoke_key": outdated}, expect=409)
    assert_error(refused, "revoke_key_outdated")
    await world.tenant.post(f"/systems/{van.system_id}/revoke-keys", {"revoke_key": "not a key"}, expect=400)
    tampered = first[:-4] + ("AAAA" if not first.endswith("AAAA") else "BBBB")
    await van.upload(tampered, expect=422)

    second = await world.tenant.download(van.system_id)
    await van.upload(second)
    key = (await van.credits())["revoke_key"]
    await world.tenant.post(f"/systems/{van.system_id}/revoke-keys", {"revoke_key": key})

    cloud, home = await cloud_events(world, van.system_id), await home_events(van)
    assert [e["token"] for e in cloud if e["kind"] == "file_downloaded"] == [first, second]
    assert [e["seq"] for e in cloud if e["kind"] == "file_downloaded"] == [1, 2]
    assert [(e["code"], e["token"]) for e in cloud if e["kind"] == "revoke_key_refused"] == [
        ("revoke_key_outdated", outdated),
        ("malformed", "not a key"),
    ]
    entered = only(cloud, "receipt_accepted", via="revoke_key")
    assert entered["token"] == key and entered["returned"] == [item["id"]]
    assert [e["token"] for e in home if e["kind"] == "revoke_key_shown"] == [outdated, key]
    upload_refused = only(home, "upload_refused")
    assert upload_refused["code"] == "bad_signature" and upload_refused["token"] == tampered
    assert upload_refused["seq"] == 1


async def test_credits_end_on_home_by_its_own_clock_and_the_cloud_notes_each_clock_move(world: World) -> None:
    van = await world.start_home("OB Van 3", offline=True)
    sub = await world.tenant.subscription(10)
    ends_at = world.clock.now().timestamp() + HOUR
    item = await world.tenant.assign(van.system_id, sub["id"], 2, auto_revoke_at=iso_at(ends_at))
    await van.upload(await world.tenant.download(van.system_id))
    assert not [e for e in await home_events(van) if e["kind"] == "credits_expired"]

    start = iso(world.clock.now())
    await world.advance(HOUR + 600)  # past the Auto Revoke and the 5 minutes of skew the cloud waits on top

    expired = only(await home_events(van), "credits_expired")
    assert expired["at"] == iso_at(ends_at) and expired["valid_until"] == iso_at(ends_at)
    assert expired["assignments"] == [item["id"]] and expired["credits"] == 2 and expired["final"] is True
    assert expired["seq"] == 1
    cloud = await cloud_events(world, van.system_id)
    moved = only(cloud, "clock_advanced")
    assert moved["from"] == start and moved["to"] == iso(world.clock.now())
    returned = only(cloud, "returned", assignment_id=item["id"])
    assert returned["reason"] == "auto_revoked" and returned["at"] == iso_at(ends_at + 300)


def iso_at(epoch_seconds: float) -> str:
    return iso(datetime.fromtimestamp(epoch_seconds, UTC)) or ""


def test_a_token_is_kept_whole_up_to_the_limit_and_only_its_size_beyond() -> None:
    assert token_fields("a" * TOKEN_KEPT_BYTES) == {"token": "a" * TOKEN_KEPT_BYTES}
    assert token_fields("a" * (TOKEN_KEPT_BYTES + 1)) == {"token_bytes": TOKEN_KEPT_BYTES + 1}
