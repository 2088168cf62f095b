"""A revoke key signed by the linked HOME's own key but claiming a seq or a time no real one holds is refused as
malformed and returns nothing; it was a 500."""

import pytest
from aiohttp.test_utils import TestClient

from flex_emulator.shared.jws import sign, unverified_claims
from flex_emulator.shared.tokens import RECEIPT_TYPE
from tests.kit.api import assert_error, new_tenant
from tests.kit.portal import Home


@pytest.mark.parametrize(("claim", "value"), [("seq", 2**63), ("seq", 2**53), ("iat", 10**20), ("iat", -(10**20))])
async def test_a_revoke_key_with_numbers_out_of_range_is_refused_as_malformed(
    cloud: TestClient, claim: str, value: int
) -> None:
    tenant = await new_tenant(cloud)
    sub = await tenant.subscription(8)
    home = Home("OB Van 3")
    await tenant.link(home.registration_code)
    item = await tenant.assign(home.system_id, sub["id"], 2)
    await tenant.download(home.system_id)
    await tenant.revoke(home.system_id, item["id"])
    claims = unverified_claims(home.revoke_key(2)) | {claim: value}
    forged = sign(claims, home.key, RECEIPT_TYPE, home.system_id)
    refused = await tenant.post(f"/systems/{home.system_id}/revoke-keys", {"revoke_key": forged}, expect=400)
    assert_error(refused, "malformed")
    assert (await tenant.sub_state(sub["id"]))["credits_available"] == 6
