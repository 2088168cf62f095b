"""Uploading credits files and perpetual licenses on FileLicenses: what is applied, what is refused."""

import asyncio
import base64
import contextlib
import json
from datetime import timedelta
from pathlib import Path

import aiohttp
import jwt
import pytest
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from flex_emulator.home.appkeys import NODE
from flex_emulator.home.config import Config as HomeConfig
from flex_emulator.shared.clock import VirtualClock
from flex_emulator.shared.tokens import verify_receipt
from tests.kit.home import (
    DAY,
    START,
    HomeFactory,
    credits_view,
    entry,
    license_token,
    snapshot_token,
    system_id,
    upload,
)

SECOND = timedelta(seconds=1)
UPLOAD_LIMIT = HomeConfig(data_dir=Path(".")).max_upload_bytes  # the default: a credits file of the fullest system


async def applied_view(home: TestClient, key: Ed25519PrivateKey) -> dict:
    sid = await system_id(home)
    response = await upload(home, snapshot_token(key, sid, 3, (entry("a1", 8), entry("a2", 5))))
    assert response.status == 200
    return await credits_view(home)


async def assert_refused(home: TestClient, body: str | bytes, status: int, code: str, before: dict) -> dict:
    response = await upload(home, body)
    assert response.status == status
    error = (await response.json())["error"]
    assert error["code"] == code
    assert error["message"]
    assert await credits_view(home) == before
    return error


async def test_credits_file_is_applied_and_shown(home: TestClient, cloud_key: Ed25519PrivateKey) -> None:
    sid = await system_id(home)
    response = await upload(home, snapshot_token(cloud_key, sid, 1, (entry("a1", 8), entry("a2", 5))))
    assert response.status == 200
    body = await response.json()
    assert body["kind"] == "credits"
    assert body["result"] == "applied"
    assert body["seq"] == 1
    assert body["credits"] == {"total": 3.25, "in_use": 0, "remaining": 3.25, "shortfall": 0}
    view = await credits_view(home)
    assert view["total"] == 3.25 and view["seq"] == 1
    assert [e["assignment_id"] for e in view["entries"]] == ["a1", "a2"]
    assert view["entries"][0]["valid_until"] == "2026-12-28T10:00:00Z"
    assert view["entries"][0]["order_id"] == "SO-2026-00042"
    assert view["revoke_key"] == body["revoke_key"]


async def test_raw_body_upload_is_accepted_like_a_form(home: TestClient, cloud_key: Ed25519PrivateKey) -> None:
    sid = await system_id(home)
    response = await upload(home, snapshot_token(cloud_key, sid, 1, (entry(),)) + "\n", multipart=False)
    assert response.status == 200
    assert (await response.json())["credits"]["total"] == 2


async def test_same_credits_file_again_is_unchanged(home: TestClient, cloud_key: Ed25519PrivateKey) -> None:
    sid = await system_id(home)
    token = snapshot_token(cloud_key, sid, 2, (entry(),))
    first = await (await upload(home, token)).json()
    second = await upload(home, token)
    assert second.status == 200
    body = await second.json()
    assert body["result"] == "unchanged"
    assert body["revoke_key"] == first["revoke_key"]


async def test_newer_snapshot_replaces_the_whole_set(home: TestClient, cloud_key: Ed25519PrivateKey) -> None:
    sid = await system_id(home)
    await upload(home, snapshot_token(cloud_key, sid, 1, (entry("a1"), entry("a2"))))
    await upload(home, snapshot_token(cloud_key, sid, 2, (entry("a2"),)))
    view = await credits_view(home)
    assert [e["assignment_id"] for e in view["entries"]] == ["a2"]
    assert view["total"] == 2


async def test_older_credits_file_is_refused_as_stale(home: TestClient, cloud_key: Ed25519PrivateKey) -> None:
    sid = await system_id(home)
    older = snapshot_token(cloud_key, sid, 2, (entry("a1"), entry("a2")))
    await upload(home, snapshot_token(cloud_key, sid, 3, (entry("a2"),)))
    before = await credits_view(home)
    error = await assert_refused(home, older, 409, "stale", before)
    assert "download the latest credits file" in error["message"]


async def test_revoke_key_is_a_receipt_for_the_applied_snapshot(home: TestClient, cloud_key: Ed25519PrivateKey) -> None:
    assert (await credits_view(home))["revoke_key"] is None
    view = await applied_view(home, cloud_key)
    node = home.app[NODE]
    receipt = verify_receipt(view["revoke_key"], node.system_id, node.identity.public_key)
    assert receipt.seq == 3
    assert receipt.held == ("a1", "a2")
    assert receipt.issued_at == START


async def test_forged_signature_is_refused(home: TestClient, cloud_key: Ed25519PrivateKey) -> None:
    before = await applied_view(home, cloud_key)
    sid = await system_id(home)
    good = snapshot_token(cloud_key, sid, 4, (entry("a1", 400),))
    header, payload, _ = good.split(".")
    other = snapshot_token(Ed25519PrivateKey.generate(), sid, 4, (entry("a1", 400),))
    forged = f"{header}.{payload}.{other.split('.')[2]}"
    await assert_refused(home, forged, 422, "bad_signature", before)


async def test_edited_payload_is_refused(home: TestClient, cloud_key: Ed25519PrivateKey) -> None:
    before = await applied_view(home, cloud_key)
    sid = await system_id(home)
    header, payload, signature = snapshot_token(cloud_key, sid, 4, (entry("a1", 4),)).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["asg"][0][1] = 4000  # quarters
    edited = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    await assert_refused(home, f"{header}.{edited}.{signature}", 422, "bad_signature", before)


async def test_alg_none_is_refused(home: TestClient, cloud_key: Ed25519PrivateKey) -> None:
    before = await applied_view(home, cloud_key)
    sid = await system_id(home)
    claims = jwt.decode(snapshot_token(cloud_key, sid, 4, (entry(),)), options={"verify_signature": False})
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"typ": "flex-credits+jwt"})
    await assert_refused(home, unsigned, 422, "bad_signature", before)


async def test_file_signed_by_an_untrusted_key_is_refused(home: TestClient, cloud_key: Ed25519PrivateKey) -> None:
    before = await applied_view(home, cloud_key)
    sid = await system_id(home)
    token = snapshot_token(Ed25519PrivateKey.generate(), sid, 9, (entry(),))
    await assert_refused(home, token, 422, "bad_signature", before)


async def test_file_for_another_system_is_refused(home: TestClient, cloud_key: Ed25519PrivateKey) -> None:
    before = await applied_view(home, cloud_key)
    token = snapshot_token(cloud_key, "home-someoneelse0000", 9, (entry(),))
    error = await assert_refused(home, token, 422, "wrong_system", before)
    assert "home-someoneelse0000" in error["message"]


async def test_expired_file_is_refused(home: TestClient, cloud_key: Ed25519PrivateKey, clock: VirtualClock) -> None:
    before = await applied_view(home, cloud_key)
    sid = await system_id(home)
    token = snapshot_token(cloud_key, sid, 9, (entry(),), issued_at=START - 40 * DAY, expires_at=START - DAY)
    await assert_refused(home, token, 422, "expired", before)


async def test_a_file_is_accepted_until_the_second_it_expires(home: TestClient, cloud_key: Ed25519PrivateKey) -> None:
    before = await applied_view(home, cloud_key)  # seq 3
    sid = await system_id(home)
    issued = START - 30 * DAY
    ended = snapshot_token(cloud_key, sid, 4, (entry(),), issued_at=issued, expires_at=START)
    await assert_refused(home, ended, 422, "expired", before)
    last_second = snapshot_token(cloud_key, sid, 4, (entry(),), issued_at=issued, expires_at=START + SECOND)
    response = await upload(home, last_second)
    assert response.status == 200 and (await response.json())["result"] == "applied"


async def test_file_from_the_future_is_refused_as_clock_skew(home: TestClient, cloud_key: Ed25519PrivateKey) -> None:
    before = await applied_view(home, cloud_key)
    sid = await system_id(home)
    token = snapshot_token(cloud_key, sid, 9, (entry(),), issued_at=START + DAY)
    error = await assert_refused(home, token, 422, "clock_skew", before)
    assert "clock" in error["message"]


async def test_the_skew_tolerance_is_five_minutes_into_homes_future(
    home: TestClient, cloud_key: Ed25519PrivateKey
) -> None:
    before = await applied_view(home, cloud_key)  # seq 3
    sid = await system_id(home)
    late = snapshot_token(cloud_key, sid, 4, (entry(),), issued_at=START + timedelta(minutes=5, seconds=1))
    await assert_refused(home, late, 422, "clock_skew", before)
    for seq, ahead in ((4, timedelta(minutes=4, seconds=59)), (5, timedelta(minutes=5))):
        response = await upload(home, snapshot_token(cloud_key, sid, seq, (entry(),), issued_at=START + ahead))
        assert response.status == 200, ahead
        assert (await response.json())["result"] == "applied"
    assert (await credits_view(home))["seq"] == 5


@pytest.mark.parametrize(
    "garbage",
    [b"hello, this is not a token", b"a.b.c", b"\xff\xfe\x00binary", b"   \n"],
    ids=["text", "dots", "binary", "blank"],
)
async def test_garbage_is_refused_as_malformed(home: TestClient, cloud_key: Ed25519PrivateKey, garbage: bytes) -> None:
    before = await applied_view(home, cloud_key)
    await assert_refused(home, garbage, 400, "malformed", before)


async def test_empty_upload_is_refused(home: TestClient, cloud_key: Ed25519PrivateKey) -> None:
    before = await applied_view(home, cloud_key)
    for multipart in (True, False):
        response = await upload(home, b"", multipart=multipart)
        assert response.status == 400
        assert (await response.json())["error"]["code"] == "malformed"
    assert await credits_view(home) == before


async def test_other_token_types_are_refused(home: TestClient, cloud_key: Ed25519PrivateKey) -> None:
    before = await applied_view(home, cloud_key)
    registration = (await (await home.get("/api/v1/system")).json())["registration_code"]
    await assert_refused(home, registration, 400, "malformed", before)


async def test_oversize_upload_is_refused_from_its_declared_length(
    home: TestClient, cloud_key: Ed25519PrivateKey
) -> None:
    before = await applied_view(home, cloud_key)
    await assert_refused(home, b"x" * (UPLOAD_LIMIT + 1), 413, "too_large", before)


async def raw_post(home: TestClient, headers: str, body: bytes) -> bytes:
    """Send a request by hand and stop sending after ``body``: the answer must come anyway."""
    reader, writer = await asyncio.open_connection(home.host, home.port)
    try:
        writer.write(f"POST /api/v1/file-licenses HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode() + body)
        await writer.drain()
        async with asyncio.timeout(5):
            return await reader.readuntil(b"\r\n\r\n")
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def test_oversize_upload_is_refused_without_reading_it_all(
    home: TestClient, cloud_key: Ed25519PrivateKey
) -> None:
    before = await applied_view(home, cloud_key)
    # A declared length over the limit is refused before any of the body is read.
    head = await raw_post(home, "Content-Length: 104857600\r\n", b"x" * 1000)
    assert head.startswith(b"HTTP/1.1 413")
    # A chunked body is refused as soon as the limit is passed, long before it ends.
    chunk = b"10000\r\n" + b"x" * 65536 + b"\r\n"
    head = await raw_post(home, "Transfer-Encoding: chunked\r\n", chunk * (UPLOAD_LIMIT // 65536 + 4))
    assert head.startswith(b"HTTP/1.1 413")
    assert await credits_view(home) == before


async def test_oversize_multipart_file_is_refused(home: TestClient, cloud_key: Ed25519PrivateKey) -> None:
    before = await applied_view(home, cloud_key)
    await assert_refused(home, b"x" * (UPLOAD_LIMIT + 10), 413, "too_large", before)


async def test_form_without_a_file_field_is_refused(home: TestClient) -> None:
    form = aiohttp.FormData(default_to_multipart=True)
    form.add_field("other", "value")
    response = await home.post("/api/v1/file-licenses", data=form)
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "missing_field"


async def test_no_trusted_key_refuses_files_with_a_clear_message(
    start_home: HomeFactory, cloud_key: Ed25519PrivateKey
) -> None:
    home = await start_home(cloud_key_file=None)
    sid = await system_id(home)
    response = await upload(home, snapshot_token(cloud_key, sid, 1, (entry(),)))
    assert response.status == 422
    error = (await response.json())["error"]
    assert error["code"] == "bad_signature"
    assert "--cloud-key" in error["message"] and "trusts no" in error["message"]


async def test_perpetual_license_is_applied_once(home: TestClient, cloud_key: Ed25519PrivateKey) -> None:
    sid = await system_id(home)
    token = license_token(cloud_key, sid, "MV", 2)
    first = await upload(home, token)
    assert first.status == 200
    body = await first.json()
    assert body["kind"] == "perpetual" and body["result"] == "applied"
    assert body["license"] == {"license_type": "MV", "count": 2}
    again = await (await upload(home, token)).json()
    assert again["result"] == "unchanged"
    await upload(home, license_token(cloud_key, sid, "MV", 1))
    response = await home.get("/api/v1/licenses/perpetual")
    assert await response.json() == {"licenses": [{"license_type": "MV", "total": 3, "in_use": 0, "remaining": 3}]}


async def test_perpetual_license_refusals(home: TestClient, cloud_key: Ed25519PrivateKey) -> None:
    sid = await system_id(home)
    cases = [
        (license_token(cloud_key, "home-other0000000000", "MV", 1), 422, "wrong_system"),
        (license_token(Ed25519PrivateKey.generate(), sid, "MV", 1), 422, "bad_signature"),
        (license_token(cloud_key, sid, "Teleporter", 1), 400, "malformed"),
    ]
    for token, status, code in cases:
        response = await upload(home, token)
        assert response.status == status
        assert (await response.json())["error"]["code"] == code
    assert await (await home.get("/api/v1/licenses/perpetual")).json() == {"licenses": []}
