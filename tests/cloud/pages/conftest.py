"""Fixtures for the portal page tests: a real cloud on real SQLite with the demo account, browsed as HTML."""

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from flex_emulator.cloud.app import create_app
from flex_emulator.cloud.config import Config
from flex_emulator.shared.clock import VirtualClock
from tests.kit.portal import ADMIN, Client, Home, Portal, SignIn, csrf_in


@pytest.fixture
def make_client(aiohttp_client: Any, tmp_path: Path, clock: VirtualClock) -> Callable[[], Awaitable[Client]]:
    async def make() -> Client:
        config = Config(data_dir=tmp_path / "cloud", emulator_api=True, demo=True, ack_wait_seconds=2.0)
        client: Client = await aiohttp_client(create_app(config, clock), headers={"Accept": "text/html"})
        return client

    return make


@pytest.fixture
async def client(make_client: Callable[[], Awaitable[Client]]) -> Client:
    return await make_client()


@pytest.fixture
def sign_in(client: Client) -> SignIn:
    async def sign_in_as(email: str = ADMIN[0], password: str = ADMIN[1]) -> Portal:
        client.session.cookie_jar.clear()  # a new browser: the sign-in page sends a signed-in user onwards
        form = await client.get("/signin")
        response = await client.post(
            "/signin",
            data={"csrf": csrf_in(await form.text()), "email": email, "password": password, "next": "/"},
            allow_redirects=False,
        )
        assert response.status == 303, await response.text()
        landing = await client.get(response.headers["Location"])
        account_id = landing.url.path.split("/")[2]
        return Portal(client, account_id)

    return sign_in_as


@pytest.fixture
async def admin(sign_in: SignIn) -> Portal:
    return await sign_in()


@pytest.fixture
async def token(client: Client) -> str:
    """A bearer token for the admin, to set up state and check it through the JSON API."""
    response = await client.post("/api/v1/auth/token", json={"email": ADMIN[0], "password": ADMIN[1]})
    return str((await response.json())["token"])


@pytest.fixture
async def subs(admin: Portal, token: str) -> dict[str, dict[str, Any]]:
    """The demo subscriptions by order id."""
    _, body = await admin.api("GET", f"{admin.base.replace('/accounts', '/api/v1/accounts')}/subscriptions", token)
    return {item["order_id"]: item for item in body["subscriptions"]}


@pytest.fixture
async def studio(admin: Portal, token: str) -> Home:
    """A HOME system linked to the demo account (offline)."""
    home = Home("Studio A")
    status, _ = await admin.api(
        "POST", f"/api/v1/accounts/{admin.account_id}/systems", token, {"registration_code": home.registration_code}
    )
    assert status == 201
    return home
