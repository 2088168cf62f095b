"""The World as a test author uses it, beyond the examples: async mode, white-box access, clients."""

from pathlib import Path

import pytest

from flex_emulator import ApiError, AsyncCloudClient, AsyncWorld, CloudClient, HomeClient, World
from flex_emulator.cloud.appkeys import DB, HUB
from flex_emulator.cloud.config import Config as CloudConfig
from flex_emulator.home.appkeys import LINK, NODE
from flex_emulator.home.config import Config as HomeConfig
from flex_emulator.servers import Mode
from tests.kit.postgres import SessionPostgres


async def test_async_world_gives_in_process_apps_and_a_client_from_a_bare_url(tmp_path: Path) -> None:
    async with AsyncWorld.start(tmp_path) as world:
        account = await world.create_account(subscriptions=[4])
        studio = await world.start_home("Studio A", account=account)
        assert world.app()[HUB].is_online(studio.system_id)
        assert world.app(studio)[LINK].state == "online"
        another = AsyncCloudClient(world.cloud.url, token=account.token)
        assert [item["id"] for item in await another.systems(account.id)] == [studio.system_id]
        answer = await another.raw("GET", f"/api/v1/accounts/{account.id}/systems/nope")
        assert answer.status == 404 and answer.json()["error"]["code"] == "not_found"
        try:
            await account.assign(studio, 5)
        except ApiError as refused:
            if (refused.status, refused.code) != (409, "insufficient_credits"):
                raise
        else:
            raise AssertionError("assigning more than the subscription holds must be refused")
        await another.close()


async def test_a_blocking_client_works_inside_an_async_test(async_flex_world: AsyncWorld) -> None:
    account = await async_flex_world.create_account(subscriptions=[8])
    studio = await async_flex_world.start_home("Studio A", account=account)
    await account.assign(studio, 2)
    await studio.settle()
    blocking = HomeClient(studio.url)  # urllib: it holds this test's loop while it waits for the answer
    assert blocking.credits()["total"] == 2
    assert CloudClient(async_flex_world.cloud_url, token=account.token).systems(account.id)[0]["online"] is True


def test_an_entry_says_how_it_renews_online_by_itself_and_disconnected_only_by_a_new_file(
    flex_world: World,
) -> None:
    account = flex_world.create_account(subscriptions=[8])
    studio = flex_world.start_home("Studio A", account=account)
    van = flex_world.start_home("OB Van 3", account=account, online=False)
    account.assign(studio, 1)
    studio.settle()
    account.assign(van, 1)
    van.upload(account.download(van))
    assert [entry["renewal"] for entry in studio.credits()["entries"]] == ["automatic"]
    assert [entry["renewal"] for entry in van.credits()["entries"]] == ["by_file"]
    studio.go_offline()
    assert [entry["renewal"] for entry in studio.credits()["entries"]] == ["by_file"]


def test_the_check_fails_when_a_home_applied_a_copy_newer_than_the_cloud_issued(flex_world: World) -> None:
    account = flex_world.create_account(subscriptions=[8])
    van = flex_world.start_home("OB Van 3", account=account, online=False)
    before = flex_world.cloud.dump_state()
    item = account.assign(van, 2)
    van.upload(account.download(van))
    account.revoke(van, item)
    van.upload(account.download(van))  # HOME holds nothing now, at copy 2
    flex_world.cloud.restore_state(before)  # a cloud that issued no copy at all
    with pytest.raises(AssertionError, match="applied copy 2, but the cloud issued it copies up to 0 only"):
        flex_world.check_invariant()
    van.client.reset()  # HOME forgets its copies: the world the fixture checks at the end is whole again


@pytest.mark.slow  # a PostgreSQL server, and subprocesses
@pytest.mark.parametrize("mode", ["inprocess", "subprocess"])
async def test_a_world_runs_its_cloud_on_postgresql_when_given_a_database(
    tmp_path: Path, postgres: SessionPostgres, mode: Mode
) -> None:
    url = await postgres.fresh()
    try:
        async with AsyncWorld.start(tmp_path, mode=mode, database=url) as world:
            account = await world.create_account(subscriptions=[4])
            studio = await world.start_home("Studio A", account=account)
            item = await account.assign(studio, 2)
            await studio.settle()
            assert [entry["assignment_id"] for entry in (await studio.credits())["entries"]] == [item["id"]]
            await account.revoke(studio, item)
            await studio.settle()
        assert not (tmp_path / "cloud" / "cloud.sqlite3").exists()  # the cloud kept everything in PostgreSQL
    finally:
        await postgres.drop(url)


def test_an_in_process_worlds_databases_never_wait_for_the_disk_and_the_services_own_do(flex_world: World) -> None:
    studio = flex_world.start_home("Studio A", account=flex_world.create_account())
    assert flex_world.app()[DB].durable is False
    assert flex_world.app(studio)[NODE].db.durable is False
    assert CloudConfig(data_dir=Path("x")).durable and HomeConfig(data_dir=Path("x")).durable  # scripts/run, CLIs


def test_events_of_some_kinds_are_chosen_by_the_service_page_by_page(flex_world: World) -> None:
    account = flex_world.create_account(subscriptions=[8])
    studio = flex_world.start_home("Studio A", account=account)
    for _ in range(3):
        item = account.assign(studio, 1)
        studio.settle()
        account.revoke(studio, item)
        studio.settle()
    wanted = ["assigned", "receipt_accepted"]
    everything = flex_world.events()
    kept = [event for event in everything if event["kind"] in wanted]
    assert len(kept) == 3 + 6 and len(everything) > len(kept)  # 3 assigns; a copy and its receipt each, and per revoke
    assert flex_world.events(kind=wanted) == kept
    first = flex_world.cloud.events(kind=wanted, limit=2)
    assert first["events"] == kept[:2]  # a page of matching events only; `next` is the last one's cursor
    assert flex_world.cloud.events(kind=wanted, after=first["next"], limit=100)["events"] == kept[2:]
    applied = [event for event in studio.events() if event["kind"] == "snapshot_applied"]
    assert studio.events(kind="snapshot_applied") == applied and len(applied) == 6
    for bad in (["link up"], ["x" * 65], [f"kind_{n}" for n in range(21)], ["٣"]):
        for client in (flex_world.cloud, studio.client):
            with pytest.raises(ApiError) as refused:
                client.events(kind=bad)
            assert (refused.value.status, refused.value.code) == (400, "invalid_value")
