"""HOME drops credits by its own clock, and a clock set backwards never brings them back."""

from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from flex_emulator.shared.clock import VirtualClock
from tests.kit.home import (
    DAY,
    START,
    HomeFactory,
    credits_view,
    entry,
    snapshot_token,
    system_id,
    upload,
)


async def apply_two_entries(home: TestClient, key: Ed25519PrivateKey) -> None:
    sid = await system_id(home)
    entries = (entry("short", 4, valid_until=START + 2 * DAY), entry("long", 8, valid_until=START + 30 * DAY))
    response = await upload(home, snapshot_token(key, sid, 1, entries))
    assert response.status == 200


async def test_credits_expire_by_homes_own_clock(
    home: TestClient, cloud_key: Ed25519PrivateKey, clock: VirtualClock
) -> None:
    await apply_two_entries(home, cloud_key)
    assert (await credits_view(home))["total"] == 3
    clock.advance(2 * 86400 - 1)  # the last second of the short entry's validity
    assert (await credits_view(home))["total"] == 3
    clock.advance(1)  # valid_until == now: no longer valid
    view = await credits_view(home)
    assert view["total"] == 2
    assert [e["expired"] for e in view["entries"]] == [True, False]
    clock.advance(28 * 86400)
    view = await credits_view(home)
    assert view["total"] == 0
    assert view["status"]["state"] == "expired"


async def test_rewinding_the_clock_does_not_bring_credits_back(
    home: TestClient, cloud_key: Ed25519PrivateKey, clock: VirtualClock
) -> None:
    await apply_two_entries(home, cloud_key)
    clock.advance(3 * 86400)
    assert (await credits_view(home))["total"] == 2
    clock.rewind(START)
    view = await credits_view(home)
    assert view["total"] == 2
    assert view["now"] == "2026-12-01T10:00:00Z"


async def test_rewinding_the_clock_across_a_restart_does_not_bring_credits_back(
    start_home: HomeFactory, cloud_key: Ed25519PrivateKey, clock: VirtualClock
) -> None:
    home = await start_home()
    await apply_two_entries(home, cloud_key)
    clock.advance(31 * 86400)
    assert (await credits_view(home))["total"] == 0
    await home.close()
    clock.rewind(START)
    home = await start_home()
    view = await credits_view(home)
    assert view["total"] == 0
    assert view["status"]["state"] == "expired"


async def test_the_time_mark_is_kept_by_writes_even_without_reads(
    start_home: HomeFactory, cloud_key: Ed25519PrivateKey, clock: VirtualClock
) -> None:
    home = await start_home()
    await apply_two_entries(home, cloud_key)
    clock.advance(5 * 86400)
    response = await home.post(
        "/api/v1/resources", json={"name": "Cam 1", "license_type_needed": "HOME Pass", "count": 1}
    )
    assert response.status == 201
    await home.close()
    clock.rewind(START)
    home = await start_home()
    assert (await credits_view(home))["total"] == 2


async def test_a_rewound_clock_cannot_make_an_expired_file_acceptable(
    home: TestClient, cloud_key: Ed25519PrivateKey, clock: VirtualClock
) -> None:
    sid = await system_id(home)
    token = snapshot_token(cloud_key, sid, 1, (entry(),), expires_at=START + 2 * DAY)
    clock.advance(3 * 86400)
    await credits_view(home)
    clock.rewind(START)
    response = await upload(home, token)
    assert response.status == 422
    assert (await response.json())["error"]["code"] == "expired"
