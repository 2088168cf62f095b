"""A HOME with no link: the credits file, a damaged file, and the revoke key."""

import pytest

from flex_emulator import ApiError, World


def test_disconnected_home_takes_a_file_and_returns_credits_with_its_revoke_key(flex_world: World) -> None:
    account = flex_world.create_account(subscriptions=[4])
    van = flex_world.start_home("OB Van 3", account=account, online=False)

    item = account.assign(van, 3)
    van.upload(account.download(van))
    with pytest.raises(ApiError) as refused:
        van.upload(account.download(van)[:-20])  # a damaged file changes nothing
    assert refused.value.code in ("bad_signature", "malformed")
    assert van.credits()["total"] == 3

    revoked = account.revoke(van, item)
    assert revoked["state"] == "revoke_pending"  # HOME still holds them: the cloud waits for proof
    van.upload(account.download(van))
    returned = account.enter_revoke_key(van, van.credits()["revoke_key"] or "")
    assert returned["returned"] == [item["id"]] and account.subscription()["credits_available"] == 4


def test_credits_of_an_unreachable_home_come_back_when_their_copy_expires(flex_world: World) -> None:
    account = flex_world.create_account(subscriptions=[4])
    van = flex_world.start_home("OB Van 3", account=account, online=False)
    account.assign(van, 2)
    van.upload(account.download(van))
    flex_world.advance(days=31)
    assert account.subscription()["credits_available"] == 4
    assert van.credits()["total"] == 0
