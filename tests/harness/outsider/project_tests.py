"""The outsider's own integration tests of their licensing client against flex_world: online, disconnected,
expiry, Auto Revoke, every bad file, link faults, HTTP faults on the client's own calls, a stopped cloud,
restarts, subprocess mode. Run with ``pytest -n 2``."""

from datetime import timedelta

import pytest
from licensing_client import LicensingClient, LicensingError

from flex_emulator import World

BAD_FILES = {
    "expired": "expired",
    "future": "clock_skew",
    "stale": "stale",
    "tampered": "bad_signature",
    "wrong_system": "wrong_system",
    "alg_none": "bad_signature",
    "untrusted_key": "bad_signature",
    "truncated": "malformed",
}


def test_online_home_gets_credits_and_gives_them_back(flex_world: World, client: LicensingClient) -> None:
    studio = flex_world.start_home("Studio A", account=flex_world.accounts[0])
    assignment = client.assign(studio.system_id, 2.5)
    client.wait_for_total(studio.url, 2.5)
    assert client.available() == 5.5
    assert client.revoke(studio.system_id, assignment["id"])["state"] == "ended"  # HOME's receipt proved it
    client.wait_for_total(studio.url, 0)
    assert client.available() == 8


def test_online_credits_stay_valid_for_months(flex_world: World, client: LicensingClient) -> None:
    studio = flex_world.start_home("Studio A", account=flex_world.accounts[0])
    client.assign(studio.system_id, 2)
    client.wait_for_total(studio.url, 2)
    flex_world.advance(days=75)  # check-ins renew it while online
    assert client.credits(studio.url)["total"] == 2
    assert [entry["renewal"] for entry in client.credits(studio.url)["entries"]] == ["automatic"]


def test_disconnected_home_by_file_and_revoke_key(flex_world: World, client: LicensingClient) -> None:
    van = flex_world.start_home("OB Van 3", account=flex_world.accounts[0], online=False)
    assignment = client.provision_disconnected(van.url, van.system_id, 3)
    assert client.credits(van.url)["total"] == 3
    assert client.available() == 5
    returned = client.return_disconnected(van.url, van.system_id, assignment["id"])
    assert returned["returned"] == [assignment["id"]] and client.available() == 8


def test_a_revoke_of_a_disconnected_home_waits_for_proof(flex_world: World, client: LicensingClient) -> None:
    van = flex_world.start_home("OB Van 3", account=flex_world.accounts[0], online=False)
    assignment = client.provision_disconnected(van.url, van.system_id, 1)
    assert client.revoke(van.system_id, assignment["id"])["state"] == "revoke_pending"
    assert client.available() == 7 and client.credits(van.url)["total"] == 1


def test_credits_of_an_unreachable_home_come_back_when_their_copy_expires(
    flex_world: World, client: LicensingClient
) -> None:
    van = flex_world.start_home("OB Van 3", account=flex_world.accounts[0], online=False)
    client.provision_disconnected(van.url, van.system_id, 2)
    flex_world.advance(days=31)
    assert client.available() == 8 and client.credits(van.url)["total"] == 0


def test_auto_revoke_ends_an_online_assignment_at_its_time(flex_world: World, client: LicensingClient) -> None:
    studio = flex_world.start_home("Studio A", account=flex_world.accounts[0])
    when = flex_world.now() + timedelta(days=3)
    client.assign(studio.system_id, 2, auto_revoke_at=when.strftime("%Y-%m-%dT%H:%M:%SZ"))
    client.wait_for_total(studio.url, 2)
    flex_world.advance(to=when - timedelta(seconds=1))
    assert client.credits(studio.url)["total"] == 2
    flex_world.advance(seconds=1)
    client.wait_for_total(studio.url, 0)
    assert client.available() == 8


@pytest.mark.parametrize(("fault", "code"), sorted(BAD_FILES.items()))
def test_every_bad_file_is_refused_with_its_code(
    flex_world: World, client: LicensingClient, fault: str, code: str
) -> None:
    account = flex_world.accounts[0]
    van = flex_world.start_home("OB Van 3", account=account, online=False)
    client.provision_disconnected(van.url, van.system_id, 1)
    if fault == "stale":
        client.provision_disconnected(van.url, van.system_id, 1)
    with pytest.raises(LicensingError) as refused:
        client.upload(van.url, account.download(van, fault=fault))  # type: ignore[arg-type]
    assert refused.value.code == code
    assert client.credits(van.url)["total"] == (2 if fault == "stale" else 1)


def test_a_lost_receipt_is_recovered_by_the_cloud(flex_world: World, client: LicensingClient) -> None:
    studio = flex_world.start_home("Studio A", account=flex_world.accounts[0])
    assignment = client.assign(studio.system_id, 2)
    client.wait_for_total(studio.url, 2)
    studio.set_link_faults(drop_next="receipt")
    assert client.revoke(studio.system_id, assignment["id"])["state"] == "revoke_pending"
    studio.settle()  # the cloud pushes the copy again; HOME answers again
    assert client.assignments(studio.system_id)[0]["state"] == "ended" and client.available() == 8


def test_a_cut_link_catches_up_once_mended(flex_world: World, client: LicensingClient) -> None:
    studio = flex_world.start_home("Studio A", account=flex_world.accounts[0])
    studio.cut_link()
    studio.wait_for_link("offline")
    client.assign(studio.system_id, 1)
    assert client.credits(studio.url)["total"] == 0
    studio.mend_link()
    client.wait_for_total(studio.url, 1)


def test_my_client_retries_a_503_with_retry_after(flex_world: World, client: LicensingClient) -> None:
    studio = flex_world.start_home("Studio A", account=flex_world.accounts[0])
    flex_world.fail_requests("/api/v1/accounts/*", method="POST", status=503, retry_after=1, times=1)
    client.assign(studio.system_id, 2)
    posts = flex_world.requests(path="/api/v1/accounts/", method="POST")
    assert [post["status"] for post in posts] == [503, 201]
    assert posts[1]["json"]["credits"] == 2 and posts[1]["headers"]["Authorization"] == "Bearer ***"


def test_my_client_gives_up_after_repeated_503s(flex_world: World, client: LicensingClient) -> None:
    studio = flex_world.start_home("Studio A", account=flex_world.accounts[0])
    flex_world.fail_requests("/api/v1/accounts/*", method="POST", status=502)
    with pytest.raises(LicensingError) as failed:
        client.assign(studio.system_id, 2)
    assert (failed.value.status, failed.value.code) == (502, "injected_fault")
    assert client.assignments(studio.system_id) == []  # never ran


def test_my_client_survives_a_reset_connection_on_home(flex_world: World, client: LicensingClient) -> None:
    studio = flex_world.start_home("Studio A", account=flex_world.accounts[0])
    studio.reset_requests("/api/v1/licenses/credits", times=1)
    assert client.credits(studio.url)["total"] == 0
    assert [entry["status"] for entry in studio.requests(path="/api/v1/licenses/credits")] == [None, 200]


def test_my_client_times_out_on_a_hung_or_slow_home(flex_world: World, client: LicensingClient) -> None:
    studio = flex_world.start_home("Studio A", account=flex_world.accounts[0])
    client.timeout = 0.3
    studio.hang_requests("/api/v1/licenses/credits", times=1)
    with pytest.raises(LicensingError, match="timeout"):
        client.credits(studio.url)
    studio.delay_requests("/api/v1/licenses/credits", latency_ms=3000, times=1)
    with pytest.raises(LicensingError, match="timeout"):
        client.credits(studio.url)
    assert client.credits(studio.url)["total"] == 0


def test_a_stopped_cloud_is_unreachable_while_home_goes_on(flex_world: World, client: LicensingClient) -> None:
    studio = flex_world.start_home("Studio A", account=flex_world.accounts[0])
    client.assign(studio.system_id, 2)
    client.wait_for_total(studio.url, 2)
    flex_world.stop_cloud()
    with pytest.raises(LicensingError) as down:
        client.assign(studio.system_id, 1)
    assert down.value.code == "unreachable"
    assert client.credits(studio.url)["total"] == 2  # HOME keeps what it holds
    flex_world.start_cloud()  # same address: the client needs nothing new
    client.assign(studio.system_id, 1)
    client.wait_for_total(studio.url, 3)


def test_a_restarted_home_keeps_its_address_and_credits(flex_world: World, client: LicensingClient) -> None:
    studio = flex_world.start_home("Studio A", account=flex_world.accounts[0])
    client.assign(studio.system_id, 2)
    client.wait_for_total(studio.url, 2)
    url = studio.url
    studio.restart()
    flex_world.restart_cloud()
    assert studio.url == url and client.credits(url)["total"] == 2
    client.assign(studio.system_id, 1)
    client.wait_for_total(url, 3)


@pytest.mark.flex_world(mode="subprocess")
def test_the_same_with_services_as_processes(flex_world: World, client: LicensingClient) -> None:
    studio = flex_world.start_home("Studio A", account=flex_world.accounts[0])
    assignment = client.assign(studio.system_id, 2)
    client.wait_for_total(studio.url, 2)
    flex_world.restart_cloud(kill=True)
    client.revoke(studio.system_id, assignment["id"])
    studio.settle()
    client.wait_for_total(studio.url, 0)
