"""The World as a test author uses it, beyond the examples: async mode, white-box access, clients."""

from pathlib import Path

from flex_emulator import ApiError, AsyncCloudClient, AsyncWorld
from flex_emulator.cloud.appkeys import HUB
from flex_emulator.home.appkeys import LINK


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
