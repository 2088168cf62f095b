"""Accounts made through the emulator API and the demo seed: all or nothing."""

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from flex_emulator.cloud.app import create_app
from flex_emulator.cloud.config import Config
from flex_emulator.cloud.domain.demo import DEMO_ADMIN, seed_demo
from flex_emulator.cloud.domain.signer import Signer
from flex_emulator.cloud.domain.subscriptions import Subscriptions
from flex_emulator.cloud.domain.transfers import Transfers
from flex_emulator.cloud.link.hub import LinkHub
from flex_emulator.cloud.store import SqliteStore
from flex_emulator.cloud.store.subscriptions import SubscriptionQueries
from flex_emulator.shared.clock import VirtualClock
from tests.kit import START, TENANT_ADMIN
from tests.kit.api import assert_error, call, sign_in


async def test_emulator_account_with_a_bad_admin_is_refused_and_leaves_nothing(
    cloud: TestClient, cloud_config: Config
) -> None:
    cases = [
        ({"email": "not-an-email", "password": "long enough"}, "invalid_email"),
        ({"email": TENANT_ADMIN[0], "password": "short"}, "invalid_password"),
        ({"email": TENANT_ADMIN[0]}, "invalid_password"),
        ({"email": TENANT_ADMIN[0], "password": 12345678}, "wrong_type"),
    ]
    for admin, code in cases:
        refused = await call(cloud, "POST", "/_emulator/accounts", json={"name": "Acme", "admin": admin}, expect=400)
        assert_error(refused, code)
        assert account_names(cloud_config) == []
    await call(
        cloud,
        "POST",
        "/_emulator/accounts",
        json={"name": "Acme", "admin": {"email": TENANT_ADMIN[0], "password": "long enough"}},
        expect=201,
    )
    assert account_names(cloud_config) == ["Acme"]


def account_names(config: Config) -> list[str]:
    with sqlite3.connect(f"file:{config.data_dir / 'cloud.sqlite3'}?mode=ro", uri=True) as conn:
        return [row[0] for row in conn.execute("SELECT name FROM accounts ORDER BY name")]


async def test_a_demo_seed_that_fails_part_way_is_seeded_whole_on_the_next_start(
    aiohttp_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "cloud"
    clock = VirtualClock(start=START)
    db = SqliteStore(data / "cloud.sqlite3")
    await db.open()
    subscriptions = Subscriptions(db, Transfers(db, Signer.load(data), LinkHub(), clock, 1.0), clock)
    real = SubscriptionQueries.set_state

    async def crash_on_cancel(self: SubscriptionQueries, sub_id: str, state: str, *args: Any) -> None:
        if state == "cancelled":
            raise RuntimeError("the process died here")
        await real(self, sub_id, state, *args)

    monkeypatch.setattr(SubscriptionQueries, "set_state", crash_on_cancel)
    with pytest.raises(RuntimeError):
        await seed_demo(db, subscriptions, clock)
    monkeypatch.undo()
    await db.close()

    client = await aiohttp_client(
        create_app(Config(data_dir=data, emulator_api=True, virtual_clock=True, demo=True), clock)
    )
    token = await sign_in(client, *DEMO_ADMIN)
    [account] = (await call(client, "GET", "/api/v1/accounts", token=token))["accounts"]
    subs = (await call(client, "GET", f"/api/v1/accounts/{account['id']}/subscriptions", token=token))["subscriptions"]
    assert {item["order_id"]: item["state"] for item in subs} == {
        "SO-2026-00042": "active",
        "SO-2026-00043": "active",
        "SO-2026-00044": "cancelled",
        "SO-2026-00045": "inactive",
    }


async def test_a_new_account_for_a_registered_email_needs_its_own_password(cloud: TestClient) -> None:
    """Never an existing user's session for a wrong password: 409 ``email_taken`` and nothing made."""
    first = await call(
        cloud,
        "POST",
        "/_emulator/accounts",
        json={"name": "Acme", "admin": {"email": "a@acme.test", "password": "the real one"}},
        expect=201,
    )
    for password in ("not the one", "The Real One"):
        refused = await call(
            cloud,
            "POST",
            "/_emulator/accounts",
            json={"name": "Takeover", "admin": {"email": "a@acme.test", "password": password}},
            expect=409,
        )
        assert_error(refused, "email_taken")
    # a login made through an invitation has no password of its own: the one its inviter chose is not it
    await call(
        cloud,
        "POST",
        f"/api/v1/accounts/{first['account']['id']}/invitations",
        token=first["token"],
        json={"email": "new@acme.test", "role": "admin", "password": "chosen by acme"},
        expect=202,
    )
    refused = await call(
        cloud,
        "POST",
        "/_emulator/accounts",
        json={"name": "Takeover", "admin": {"email": "new@acme.test", "password": "chosen by acme"}},
        expect=409,
    )
    assert_error(refused, "email_taken")
    token = await sign_in(cloud, "a@acme.test", "the real one")
    accounts = (await call(cloud, "GET", "/api/v1/accounts", token=token))["accounts"]
    assert [item["id"] for item in accounts] == [first["account"]["id"]]
    # the same person with their own password makes another account of theirs
    second = await call(
        cloud,
        "POST",
        "/_emulator/accounts",
        json={"name": "Acme Two", "admin": {"email": "a@acme.test", "password": "the real one"}},
        expect=201,
    )
    accounts = (await call(cloud, "GET", "/api/v1/accounts", token=second["token"]))["accounts"]
    assert {item["id"] for item in accounts} == {first["account"]["id"], second["account"]["id"]}


async def test_an_emulator_account_comes_with_its_first_subscriptions_in_one_request(cloud: TestClient) -> None:
    asked = [{"duration": "monthly", "credits": 8, "state": "active"}, {"duration": "annual", "credits": "2.25"}]
    body = {"name": "Acme", "admin": {"email": TENANT_ADMIN[0], "password": TENANT_ADMIN[1]}, "subscriptions": asked}
    made = await call(cloud, "POST", "/_emulator/accounts", json=body, expect=201)
    account_id, token = made["account"]["id"], made["token"]
    assert [(sub["duration"], sub["credits_total"], sub["state"]) for sub in made["subscriptions"]] == [
        ("monthly", 8, "active"),
        ("annual", 2.25, "inactive"),
    ]
    listed = await call(cloud, "GET", f"/api/v1/accounts/{account_id}/subscriptions", token=token)
    assert [sub["id"] for sub in listed["subscriptions"]] == [sub["id"] for sub in made["subscriptions"]]
    events = await call(cloud, "GET", "/_emulator/events")
    assert [event["kind"] for event in events["events"]].count("subscription_created") == 2
    without = {"name": "Beta", "admin": {"email": "b@beta.test", "password": "long enough"}}
    assert "subscriptions" not in await call(cloud, "POST", "/_emulator/accounts", json=without, expect=201)


async def test_an_emulator_account_with_a_bad_subscription_is_refused_and_leaves_nothing(
    cloud: TestClient, cloud_config: Config
) -> None:
    good = {"duration": "monthly", "credits": 8}
    cases = [
        ("monthly", "wrong_type"),
        (["monthly"], "wrong_type"),
        ([good, {"duration": "weekly", "credits": 8}], "invalid_duration"),
        ([good, {"duration": "monthly", "credits": 0.1}], "invalid_credits"),
        ([good, {"duration": "monthly"}], "missing_field"),
        ([good, {**good, "state": "ended"}], "invalid_state"),
        ([good] * 101, "out_of_range"),
    ]
    admin = {"email": TENANT_ADMIN[0], "password": TENANT_ADMIN[1]}
    for subscriptions, code in cases:
        body = {"name": "Acme", "admin": admin, "subscriptions": subscriptions}
        assert_error(await call(cloud, "POST", "/_emulator/accounts", json=body, expect=400), code)
        assert account_names(cloud_config) == []
    admin["password"] = "another long one"  # no admin was made either: the email is free for any password
    await call(cloud, "POST", "/_emulator/accounts", json={"name": "Acme", "admin": admin}, expect=201)
