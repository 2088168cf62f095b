"""A file signed with a trusted key but claiming numbers no real one holds (a seq, a time or an amount beyond
what HOME can store or add a validity to) is refused as malformed and changes nothing; it was a 500."""

import pytest
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from flex_emulator.shared.jws import sign, unverified_claims
from flex_emulator.shared.keys import key_id
from flex_emulator.shared.licenses import LICENSE_TYPE
from flex_emulator.shared.tokens import SNAPSHOT_TYPE
from tests.kit.home import credits_view, entry, license_token, snapshot_token, system_id, upload

OUT_OF_RANGE = [
    ("seq", 2**53),
    ("seq", 2**63),
    ("exp", 10**20),
    ("exp", -(10**20)),
    ("iat", 10**20),
    ("iat", -1),
    ("asg", [["asg-x", 2**70, 0, 2**31, 0, 0]]),
    ("asg", [["asg-x", 4, 10**20, 2**31, 0, 0]]),
    ("asg", [["asg-x", 4, 0, 2**63, 0, 0]]),
    ("asg", [["asg-x", 4, 0, 2**31, 2**63, 0]]),
]


def resigned(token: str, key: Ed25519PrivateKey, typ: str, **changes: object) -> str:
    return sign(unverified_claims(token) | changes, key, typ, key_id(key.public_key()))


@pytest.mark.parametrize(("claim", "value"), OUT_OF_RANGE, ids=[f"{claim}={value}" for claim, value in OUT_OF_RANGE])
async def test_a_credits_file_with_numbers_out_of_range_is_refused_as_malformed(
    home: TestClient, cloud_key: Ed25519PrivateKey, claim: str, value: object
) -> None:
    sid = await system_id(home)
    await upload(home, snapshot_token(cloud_key, sid, 1, (entry("a1", 8),)))
    before = await credits_view(home)
    forged = resigned(snapshot_token(cloud_key, sid, 2, (entry("a2", 4),)), cloud_key, SNAPSHOT_TYPE, **{claim: value})
    answer = await upload(home, forged)
    assert answer.status == 400 and (await answer.json())["error"]["code"] == "malformed"
    assert await credits_view(home) == before


@pytest.mark.parametrize(("claim", "value"), [("count", 2**63), ("count", 10**7), ("iat", 10**20)])
async def test_a_license_file_with_numbers_out_of_range_is_refused_as_malformed(
    home: TestClient, cloud_key: Ed25519PrivateKey, claim: str, value: object
) -> None:
    forged = resigned(license_token(cloud_key, await system_id(home)), cloud_key, LICENSE_TYPE, **{claim: value})
    answer = await upload(home, forged)
    assert answer.status == 400 and (await answer.json())["error"]["code"] == "malformed"
    perpetual = await home.get("/api/v1/licenses/perpetual")
    assert (await perpetual.json())["licenses"] == []
