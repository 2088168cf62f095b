"""Faults on demand: a lost receipt, a cut link and a bad file, and how cloud and HOME converge after each."""

import pytest

from flex_emulator import ApiError, World


def test_a_lost_receipt_does_not_leave_the_revoke_pending(flex_world: World) -> None:
    account = flex_world.create_account(subscriptions=[8])
    studio = flex_world.start_home("Studio A", account=account)
    item = account.assign(studio, 2)
    studio.settle()
    studio.set_link_faults(drop_next="receipt")
    account.revoke(studio, item)  # HOME's proof is lost; the cloud pushes the copy again and HOME answers again
    studio.settle()
    assert studio.credits()["total"] == 0
    assert account.subscription()["credits_available"] == 8
    kinds = [event["kind"] for event in flex_world.events()]
    assert kinds.count("fault_dropped") == 1 and kinds.count("returned") == 1


def test_a_cut_link_catches_up_once_mended(flex_world: World) -> None:
    account = flex_world.create_account(subscriptions=[8])
    studio = flex_world.start_home("Studio A", account=account)
    studio.cut_link()  # closed now, and refused until mended
    studio.wait_for_link("offline")
    account.assign(studio, 1)
    assert studio.credits()["total"] == 0
    studio.mend_link()
    studio.wait_for_link("online")  # HOME reconnects on its own and gets the latest copy
    studio.settle()
    assert studio.credits()["total"] == 1


def test_a_bad_file_is_refused_and_the_current_one_still_applies(flex_world: World) -> None:
    account = flex_world.create_account(subscriptions=[8])
    van = flex_world.start_home("OB Van 3", account=account, online=False)
    account.assign(van, 1)
    with pytest.raises(ApiError) as refused:
        van.upload(account.download(van, fault="expired"))
    assert refused.value.code == "expired"
    van.upload(account.download(van))
    assert van.credits()["total"] == 1


@pytest.mark.flex_world(mode="subprocess")
def test_faults_work_the_same_on_real_processes(flex_world: World) -> None:
    account = flex_world.create_account(subscriptions=[8])
    studio = flex_world.start_home("Studio A", account=account)
    studio.set_link_faults(duplicate_next="snapshot")
    account.assign(studio, 2)
    studio.settle()
    assert studio.credits()["total"] == 2
    applied = [event["kind"] for event in studio.events(kind=["snapshot_applied", "snapshot_unchanged"])]
    assert applied == ["snapshot_applied", "snapshot_unchanged"]  # the second copy changed nothing
