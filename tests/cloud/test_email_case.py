"""One rule for an email's case: it matches whatever the case of its letters A-Z, everywhere (sign-in, new
accounts, members, invitations), and is stored with them lower-case; rows from before are lower-cased too."""

import sqlite3
from pathlib import Path

from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from flex_emulator.cloud.app import create_app
from flex_emulator.cloud.config import Config
from flex_emulator.cloud.store.migrations import MIGRATIONS
from flex_emulator.shared.clock import VirtualClock
from tests.kit.api import Tenant, call, cloud_api, new_tenant, sign_in


async def member_emails(tenant: Tenant) -> list[str]:
    return sorted(item["email"] for item in (await tenant.get("/users"))["users"])


async def test_an_email_is_stored_lower_case_and_signs_in_whatever_its_case(cloud: TestClient) -> None:
    acme = await new_tenant(cloud, "Acme Broadcast", "Ada.Admin@Example.COM", "ada password")
    assert await member_emails(acme) == ["ada.admin@example.com"]
    for typed in ("ada.admin@example.com", "ADA.ADMIN@EXAMPLE.COM", "  Ada.Admin@example.com "):
        assert await sign_in(cloud, typed, "ada password")
    # The same person again, in another case, is the same login: a new account needs that login's own password.
    again = await cloud_api(cloud).create_account("Acme Two", "ADA.admin@example.com", "ada password")
    second = Tenant(cloud, again["account"]["id"], await sign_in(cloud, "ada.ADMIN@example.com", "ada password"))
    assert await member_emails(second) == ["ada.admin@example.com"]
    accounts = (await call(cloud, "GET", "/api/v1/accounts", token=second.token))["accounts"]
    assert {item["id"] for item in accounts} == {acme.account_id, second.account_id}


async def test_an_invitation_in_any_case_reaches_the_user_it_names_and_makes_no_second_login(
    cloud: TestClient,
) -> None:
    acme = await new_tenant(cloud)
    rival = await new_tenant(cloud, "Rival Media", "Boss@Rival.test", "rival password")
    invited = await acme.post(
        "/users", {"email": "BOSS@rival.TEST", "role": "operator", "password": "x" * 12}, expect=202
    )
    assert invited["invitation"]["email"] == "boss@rival.test"
    mine = (await call(cloud, "GET", "/api/v1/invitations", token=rival.token))["invitations"]
    assert [item["id"] for item in mine] == [invited["invitation"]["id"]]
    await call(cloud, "POST", f"/api/v1/invitations/{mine[0]['id']}/accept", token=rival.token)
    assert "boss@rival.test" in await member_emails(acme)
    # The password acme chose was for a login of that email only if it had none: it has, so it opens nothing.
    refused = await cloud_api(cloud).call(
        "POST", "/api/v1/auth/token", json={"email": "boss@rival.test", "password": "x" * 12}, expect=401
    )
    assert refused["error"]["code"] == "bad_credentials"


async def test_emails_stored_before_the_rule_are_lower_cased_by_the_migration(
    aiohttp_client: AiohttpClient, tmp_path: Path, clock: VirtualClock
) -> None:
    """A database from before: a user stored as typed; the service opens it, and that user signs in in any case."""
    path = tmp_path / "cloud" / "cloud.sqlite3"
    path.parent.mkdir()
    lower_case = next(script for script in MIGRATIONS if "lower(email)" in script)
    config = Config(data_dir=tmp_path / "cloud", emulator_api=True, virtual_clock=True)
    client = await aiohttp_client(create_app(config, clock))
    tenant = await new_tenant(client, "Old Co", "old@example.com", "old password")
    await client.close()
    with sqlite3.connect(path) as db:  # as an older version stored it (as typed), then that migration on it
        db.execute("UPDATE users SET email = 'Old.Mixed@Example.COM' WHERE email = 'old@example.com'")
        db.executescript(lower_case)  # run alone: the migrations after it change the schema, not emails
    client = await aiohttp_client(create_app(config, clock))
    assert await sign_in(client, "OLD.MIXED@example.com", "old password")
    assert await member_emails(Tenant(client, tenant.account_id, tenant.token)) == ["old.mixed@example.com"]
