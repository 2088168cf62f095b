"""Crashes and roles: the cloud killed mid-way, a HOME restarted, an operator's limits."""

import pytest

from flex_emulator import ApiError, World


@pytest.mark.flex_world(mode="subprocess")
def test_killed_cloud_comes_back_and_online_home_reconnects_with_its_credits(flex_world: World) -> None:
    account = flex_world.create_account(subscriptions=[8])
    studio = flex_world.start_home("Studio A", account=account)
    account.assign(studio, 3)
    studio.settle()

    flex_world.restart_cloud(kill=True)  # SIGKILL: no goodbye, nothing flushed on purpose
    studio.wait_for_link("online")
    assert studio.credits()["total"] == 3
    assert account.subscription()["credits_available"] == 5


def test_restarted_home_keeps_its_credits_and_an_operator_cannot_cancel(flex_world: World) -> None:
    account = flex_world.create_account(subscriptions=[8])
    studio = flex_world.start_home("Studio A", account=account)
    account.assign(studio, 2)
    studio.settle()
    studio.restart()
    assert studio.credits()["total"] == 2
    flex_world.restart_cloud()  # in-process: a clean stop and start on the same data and port
    studio.wait_for_link("online")
    assert account.subscription()["credits_available"] == 6

    operator = account.add_member("operator@acme.test", "operator")
    with pytest.raises(ApiError) as refused:
        operator.cancel(account.id, account.subscriptions[0]["id"])
    assert refused.value.status == 403


def test_a_cloud_left_down_is_refused_while_home_goes_on(flex_world: World) -> None:
    account = flex_world.create_account(subscriptions=[8])
    studio = flex_world.start_home("Studio A", account=account)
    account.assign(studio, 2)
    studio.settle()
    flex_world.stop_cloud()  # connections to flex_world.cloud_url are refused from now on
    studio.wait_for_link("offline")
    assert studio.credits()["total"] == 2  # HOME keeps using what it holds
    flex_world.start_cloud()  # the same address and data; HOME is online again when this returns
    assert studio.link_state() == "online"
    assert account.subscription()["credits_available"] == 6
