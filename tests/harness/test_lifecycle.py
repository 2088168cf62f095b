"""Stopping services and leaving them down, starting them again on the same address and data, in both modes;
and the connection details a user's own client is built from."""

import urllib.error
import urllib.request
from pathlib import Path

import pytest

from flex_emulator import World
from flex_emulator.servers import Mode


def refused(url: str) -> bool:
    try:
        urllib.request.urlopen(url + "/healthz", timeout=5).close()
    except urllib.error.URLError as error:
        return isinstance(error.reason, ConnectionRefusedError)
    return False


@pytest.mark.parametrize("mode", ["inprocess", pytest.param("subprocess", marks=pytest.mark.slow)])
def test_a_stopped_cloud_stays_down_and_comes_back_on_its_address_with_its_data(tmp_path: Path, mode: Mode) -> None:
    with World.start(tmp_path / "world", mode=mode) as world:
        account = world.create_account(subscriptions=[8])
        studio = world.start_home("Studio A", account=account)
        account.assign(studio, 2)
        studio.settle()
        cloud_url = world.cloud_url

        world.stop_cloud()
        assert refused(cloud_url)
        studio.wait_for_link("offline")
        assert studio.credits()["total"] == 2  # HOME goes on using what it holds

        world.start_cloud()
        assert world.cloud_url == cloud_url and not refused(cloud_url)
        assert studio.link_state() == "online"  # start_cloud waits for linked HOMEs to reconnect
        assert account.subscription()["credits_available"] == 6
        account.assign(studio, 1)
        studio.settle()
        assert studio.credits()["total"] == 3


@pytest.mark.parametrize("mode", ["inprocess", pytest.param("subprocess", marks=pytest.mark.slow)])
def test_a_home_stopped_and_started_keeps_its_address_its_data_and_its_link(tmp_path: Path, mode: Mode) -> None:
    with World.start(tmp_path / "world", mode=mode) as world:
        account = world.create_account(subscriptions=[8])
        studio = world.start_home("Studio A", account=account)
        item = account.assign(studio, 2)
        studio.settle()
        url = studio.url
        studio.stop()
        assert refused(url)
        assert account.revoke(studio, item)["state"] == "revoke_pending"  # HOME is away: the cloud waits for proof
        studio.start()
        assert studio.url == url and studio.link_state() == "online"
        world.settle()
        assert studio.credits()["total"] == 0
        assert account.subscription()["credits_available"] == 8
        studio.restart(online=False)
        assert studio.url == url and studio.link_state() == "disabled"


def test_killing_an_in_process_cloud_is_refused_with_what_to_do_instead(flex_world: World) -> None:
    with pytest.raises(RuntimeError, match="mode='subprocess'"):
        flex_world.restart_cloud(kill=True)
    assert flex_world.cloud.healthz() == {"status": "ok"}  # nothing was stopped


def test_connection_details_name_every_url_account_and_token(flex_world: World) -> None:
    account = flex_world.create_account("Acme Broadcast", subscriptions=[8])
    studio = flex_world.start_home("Studio A", account=account)
    van = flex_world.start_home("OB Van 3", account=account, online=False)
    details = flex_world.connection_details()
    assert details.cloud_url == flex_world.cloud_url
    acme = details.account("Acme Broadcast")
    assert (acme.id, acme.email, acme.token) == (account.id, account.email, account.token)
    assert details.home("Studio A").url == studio.url and details.home("OB Van 3").system_id == van.system_id
    request = urllib.request.Request(
        f"{details.cloud_url}/api/v1/accounts/{acme.id}/systems", headers={"Authorization": f"Bearer {acme.token}"}
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert answer.status == 200
    signed_in = flex_world.cloud.sign_in(acme.email, acme.password)
    assert signed_in["accounts"][0]["id"] == acme.id
