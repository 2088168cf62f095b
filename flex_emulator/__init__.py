"""flex-emulator for your tests: a fresh licensing cloud and HOME nodes per test, and typed clients.

With the package installed, pytest offers the fixtures ``flex_world`` (blocking) and
``async_flex_world`` (async, with pytest-asyncio)::

    def test_online_home_gets_its_credits(flex_world):
        account = flex_world.create_account(subscriptions=[8])
        studio = flex_world.start_home("Studio A", account=account)
        account.assign(studio, 2)
        studio.settle()
        assert studio.credits()["total"] == 2

Outside pytest, ``World.start(folder)`` / ``AsyncWorld.start(folder)`` are context managers, and
``CloudClient`` / ``HomeClient`` (``Async…`` for async code) talk to any running service.
"""

from flex_emulator._async.client import AsyncCloudClient, AsyncHomeClient
from flex_emulator._async.world import AsyncAccount, AsyncHome, AsyncWorld
from flex_emulator._sync.client import CloudClient, HomeClient
from flex_emulator._sync.world import START, Account, Home, World
from flex_emulator.transport import ApiError

__all__ = [
    "START",
    "Account",
    "ApiError",
    "AsyncAccount",
    "AsyncCloudClient",
    "AsyncHome",
    "AsyncHomeClient",
    "AsyncWorld",
    "CloudClient",
    "Home",
    "HomeClient",
    "World",
]
