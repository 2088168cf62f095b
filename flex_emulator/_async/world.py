"""A world: one cloud and any number of HOME nodes on one virtual clock, fresh for each test."""

import asyncio
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from flex_emulator import answers, servers, transport
from flex_emulator._async.client import AsyncCloudClient, AsyncHomeClient

START = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)  # a Saturday morning; every world starts here unless told otherwise
PASSWORD = "emulator-password"
POLL_SECONDS = 0.01


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "home"


@dataclass
class AsyncAccount:
    """An account in the cloud with a signed-in admin; ``cloud`` is a client acting as that admin."""

    world: "AsyncWorld" = field(repr=False)
    id: str
    name: str
    email: str
    token: str
    cloud: AsyncCloudClient = field(repr=False)
    subscriptions: list[answers.Subscription] = field(default_factory=list)

    async def add_subscription(
        self, credits: float, *, duration: answers.Duration = "monthly", active: bool = True
    ) -> answers.Subscription:
        sub = await self.world.cloud.create_subscription(self.id, credits, duration=duration, active=active)
        self.subscriptions.append(sub)
        return sub

    async def subscription(self, subscription: answers.Subscription | str | None = None) -> answers.Subscription:
        """The subscription as the cloud shows it now (the first one when none is named)."""
        return await self.cloud.subscription(self.id, self._sub_id(subscription))

    def _sub_id(self, subscription: answers.Subscription | str | None) -> str:
        if subscription is None:
            if not self.subscriptions:
                raise ValueError(
                    "This account has no subscription: create it with subscriptions=[...] or add_subscription()."
                )
            return self.subscriptions[0]["id"]
        return subscription if isinstance(subscription, str) else subscription["id"]

    async def add_member(self, email: str, role: answers.Role = "operator") -> AsyncCloudClient:
        """A new user in this account with ``role``, signed in: a client acting as them."""
        await self.world.cloud.create_user(self.id, email, role, PASSWORD)
        signed = await self.world.cloud.sign_in(email, PASSWORD)
        return self.cloud.with_token(str(signed["token"]))

    async def link(self, home: "AsyncHome") -> answers.System:
        """Link ``home`` to this account (as an admin pasting its registration code)."""
        system = await self.cloud.link_system(self.id, home.registration_code)
        home.account = self
        return system

    async def assign(
        self,
        home: "AsyncHome",
        credits: float | str,
        *,
        subscription: answers.Subscription | str | None = None,
        auto_revoke_at: datetime | None = None,
    ) -> answers.Assignment:
        """Assign credits from ``subscription`` (default: the first) to ``home``; an online HOME gets them pushed."""
        when = iso(auto_revoke_at) if auto_revoke_at is not None else None
        return await self.cloud.assign(
            self.id, home.system_id, self._sub_id(subscription), credits, auto_revoke_at=when
        )

    async def revoke(self, home: "AsyncHome", assignment: answers.Assignment | str) -> answers.Assignment:
        assignment_id = assignment if isinstance(assignment, str) else assignment["id"]
        return await self.cloud.revoke(self.id, home.system_id, assignment_id)

    async def download(self, home: "AsyncHome", *, fault: answers.Fault | None = None) -> str:
        """The system's credits file; ``fault`` gives a deliberately bad one that HOME must refuse."""
        return await self.cloud.download(self.id, home.system_id, fault=fault)

    async def enter_revoke_key(self, home: "AsyncHome", revoke_key: str) -> answers.RevokeKeyResult:
        return await self.cloud.enter_revoke_key(self.id, home.system_id, revoke_key)

    async def system(self, home: "AsyncHome") -> answers.SystemDetail:
        return await self.cloud.system(self.id, home.system_id)

    async def assignments(self, home: "AsyncHome") -> list[answers.Assignment]:
        return (await self.system(home))["assignments"]


@dataclass
class AsyncHome:
    """One running HOME node; ``client`` reaches its whole API."""

    world: "AsyncWorld" = field(repr=False)
    name: str
    label: str
    url: str
    client: AsyncHomeClient = field(repr=False)
    system_id: str
    registration_code: str = field(repr=False)
    account: AsyncAccount | None = None
    running: bool = True

    async def credits(self) -> answers.HomeCredits:
        return await self.client.credits()

    async def upload(self, file: str | bytes, *, expect: int = 200) -> answers.FileResult:
        return await self.client.upload(file, expect=expect)

    async def link_state(self) -> str:
        return str((await self.client.system())["cloud"]["state"])

    async def go_online(self, *, timeout: float = 10.0) -> None:
        """Switch the cloud link on and wait until it is online."""
        await self.client.set_cloud_link(True)
        await self.wait_for_link("online", timeout=timeout)

    async def go_offline(self) -> None:
        """Switch the cloud link off (HOME goes on using what it holds)."""
        await self.client.set_cloud_link(False)

    async def wait_for_link(self, state: answers.LinkState, *, timeout: float = 10.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while (current := await self.link_state()) != state:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{self.label}: the cloud link is {current}, not {state}, after {timeout} s")
            await asyncio.sleep(POLL_SECONDS)

    async def settle(self, *, timeout: float = 5.0) -> answers.Settled:
        """Wait until this (online) HOME has applied the latest copy the cloud issued to it."""
        return await self.world.cloud.settled(self.system_id, timeout=timeout)

    async def events(self, *, after: str | None = None) -> answers.Events:
        return await self.client.events(after=after)

    async def set_link_faults(self, **faults: Any) -> dict[str, Any]:
        """Faults on this system's link in the cloud: ``cut=True``, ``latency_ms=…``, ``drop_next="snapshot"``,
        ``duplicate_next="receipt"``, ``clear=True`` (see docs/contract.md)."""
        return await self.world.cloud.set_link_faults(self.system_id, **faults)

    async def cut_link(self) -> dict[str, Any]:
        return await self.set_link_faults(cut=True)

    async def mend_link(self) -> dict[str, Any]:
        return await self.set_link_faults(clear=True)

    async def stop(self) -> None:
        """Stop the service (its data stays; ``restart`` brings it back)."""
        await self.world._servers.stop_home(self.name)
        self.running = False

    async def restart(self, *, online: bool = True) -> None:
        await self.stop()
        self.url = await self.world._servers.start_home(self.name, self.world.cloud.url, offline=True)
        self.client = AsyncHomeClient(self.url, transport=self.world.transport)
        self.running = True
        if online:
            await self.go_online()


class AsyncWorld:
    """One cloud and any number of HOME nodes on one virtual clock. Start it with ``AsyncWorld.start(folder)``.

    ``mode="inprocess"`` (default) runs every service in this process; ``mode="subprocess"`` runs each
    as ``python -m flex_emulator.cloud`` / ``python -m flex_emulator.home`` on a free port. The interface is the same.
    """

    def __init__(
        self, launched: servers.AsyncServers, cloud_url: str, http: transport.AsyncTransport, mode: servers.Mode
    ) -> None:
        self._servers = launched
        self.transport = http
        self.mode = mode
        self.cloud = AsyncCloudClient(cloud_url, transport=http)
        self.accounts: list[AsyncAccount] = []
        self.homes: list[AsyncHome] = []

    @classmethod
    @asynccontextmanager
    async def start(
        cls, folder: Path, *, mode: servers.Mode = "inprocess", start: datetime = START, check: bool = True
    ) -> AsyncIterator["AsyncWorld"]:
        """Run a fresh world with its data in ``folder``; on a clean exit ``check`` asserts the invariant."""
        launched = servers.make_async_servers(mode, Path(folder), start)
        http = transport.AsyncTransport()
        try:
            world = cls(launched, await launched.start_cloud(), http, mode)
            yield world
            if check:
                await world.check_invariant()
        finally:
            await http.close()
            await launched.close()

    # --- accounts and HOMEs ----------------------------------------------------------------------

    async def create_account(
        self,
        name: str = "Acme Broadcast",
        *,
        subscriptions: Sequence[float] = (8,),
        duration: answers.Duration = "monthly",
        email: str | None = None,
        password: str = PASSWORD,
    ) -> AsyncAccount:
        """A new account with an admin and one active subscription per entry of ``subscriptions`` (credits)."""
        email = email or f"admin{len(self.accounts) + 1}@{_slug(name)}.test"
        answer = await self.cloud.create_account(name, email, password)
        account = AsyncAccount(
            self, answer["account"]["id"], name, email, answer["token"], self.cloud.with_token(answer["token"])
        )
        for credits in subscriptions:
            await account.add_subscription(credits, duration=duration)
        self.accounts.append(account)
        return account

    async def start_home(
        self, label: str = "Studio A", *, account: AsyncAccount | None = None, online: bool = True
    ) -> AsyncHome:
        """Start a HOME node; with ``account`` it is linked to it, and with ``online`` (default) connected too."""
        name = f"home-{len(self.homes) + 1}-{_slug(label)}"
        url = await self._servers.start_home(name, self.cloud.url, label=label, offline=True)
        client = AsyncHomeClient(url, transport=self.transport)
        system = await client.system()
        home = AsyncHome(self, name, label, url, client, system["system_id"], system["registration_code"])
        self.homes.append(home)
        if account is not None:
            await account.link(home)
        if online and account is not None:
            await home.go_online()
        return home

    def app(self, home: AsyncHome | None = None) -> web.Application:
        """The aiohttp application of the cloud (or of ``home``), for white-box checks in in-process worlds."""
        return self._servers.app("cloud" if home is None else home.name)

    async def restart_cloud(self, *, kill: bool = False) -> None:
        """Stop the cloud and start it again on the same data and address; HOMEs reconnect by themselves.
        ``kill=True`` (subprocess mode) stops it with SIGKILL, as a crash would."""
        await self._servers.restart_cloud(kill=kill)
        await self.cloud.healthz()

    # --- time ----------------------------------------------------------------------------------

    async def now(self) -> datetime:
        return parse_iso((await self.cloud.clock())["now"])

    async def advance(
        self, *, days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0, settle: bool = True
    ) -> datetime:
        """Move the one clock forward; the cloud runs everything that fell due, in order. With ``settle``,
        wait until every online HOME has applied what the cloud issued meanwhile."""
        step = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds).total_seconds()
        moved = await self.cloud.move_clock(advance_seconds=step)
        if settle:
            await self.settle()
        return parse_iso(moved["now"])

    async def settle(self, *, timeout: float = 5.0) -> None:
        """Wait until every running, linked and online HOME acknowledged the latest copy issued to it."""
        for home in self.homes:
            if home.running and home.account is not None and await home.link_state() == "online":
                await home.settle(timeout=timeout)

    # --- journal, invariant ------------------------------------------------------------------------

    async def events(self, *, after: str | None = None) -> answers.Events:
        """The cloud's event journal (each HOME has its own: ``home.events()``)."""
        return await self.cloud.events(after=after)

    async def check_invariant(self) -> None:
        """Assert the one invariant: every balance adds up, and no HOME still uses credits the cloud gave back."""
        verdict = await self.cloud.invariant()
        assert verdict["ok"], f"the cloud's balances do not add up: {verdict['violations']}"
        for home in self.homes:
            if not home.running or home.account is None:
                continue
            now = await self.now()
            held = {
                entry["assignment_id"]
                for entry in (await home.credits()).get("entries", [])
                if not entry.get("expired") and parse_iso(entry["valid_until"]) > now
            }
            ended = {item["id"] for item in await home.account.assignments(home) if item["state"] == "ended"}
            assert not held & ended, f"{home.label} still uses credits the cloud gave back: {sorted(held & ended)}"
