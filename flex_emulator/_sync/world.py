# Generated from flex_emulator/_async/world.py by scripts/unasync.py: edit that file, then run the script.
"""A world: one cloud and any number of HOME nodes on one virtual clock, fresh for each test."""

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Collection, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from flex_emulator import answers, servers, transport
from flex_emulator._sync.client import CloudClient, HomeClient, _Base
from flex_emulator.details import AccountDetails, ConnectionDetails, HomeDetails
from flex_emulator.inprocess import PreparedWorld
from flex_emulator.service_logs import DEFAULT_LEVEL
from flex_emulator.shared.emulator_http import HARNESS_HEADER

START = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)  # a Saturday morning; every world starts here unless told otherwise
PASSWORD = "emulator-password"
PAGE = 1000
LINK_TIMEOUT = 10.0
# The header the world's own calls carry: the services never fault them, and requests() leaves them out.


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "home"


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _by_harness(entry: answers.RequestRecord) -> bool:
    return any(name.lower() == HARNESS_HEADER.lower() for name in entry.get("headers", {}))


class _Service(ABC):
    """What the cloud (through ``World``) and each HOME (``Home``) offer alike: faults on their HTTP
    API, and their request and event journals."""

    _archived: list[answers.RequestRecord]

    @abstractmethod
    def _control(self) -> _Base:
        """The client of this service's own routes (its control routes and journals)."""

    # --- faults on the service's HTTP API ---------------------------------------------------------

    def fail_requests(
        self,
        path: str,
        *,
        method: str | None = None,
        status: int = 503,
        retry_after: int | None = None,
        times: int | None = None,
    ) -> answers.HttpFault:
        """Answer requests to ``path`` (exact, or a prefix ending in ``*``) with ``status`` (500–599) in the
        contract's error shape (code ``injected_fault``, optional ``Retry-After``) without running them;
        ``times`` times, or until ``clear_http_faults()``."""
        return self._control().add_http_fault(
            path, "status", method=method, status=status, retry_after=retry_after, times=times
        )

    def delay_requests(
        self, path: str, latency_ms: int, *, method: str | None = None, times: int | None = None
    ) -> answers.HttpFault:
        """Answer requests to ``path`` ``latency_ms`` milliseconds late (real time: what your client's timeouts see)."""
        return self._control().add_http_fault(path, "latency", method=method, latency_ms=latency_ms, times=times)

    def reset_requests(
        self, path: str, *, method: str | None = None, times: int | None = None
    ) -> answers.HttpFault:
        """Close the connection of requests to ``path`` without an answer (a TCP reset); they are not run."""
        return self._control().add_http_fault(path, "reset", method=method, times=times)

    def hang_requests(
        self, path: str, *, method: str | None = None, times: int | None = None
    ) -> answers.HttpFault:
        """Answer requests to ``path`` with nothing until the client gives up (its timeout); they are not run."""
        return self._control().add_http_fault(path, "hang", method=method, times=times)

    def http_faults(self) -> list[answers.HttpFault]:
        """The HTTP faults armed now, with how many times each will still fire (``remaining``)."""
        return self._control().http_faults()

    def clear_http_faults(self) -> None:
        """Lift every HTTP fault of this service."""
        self._control().clear_http_faults()

    # --- journals -------------------------------------------------------------------------------

    def iter_requests(
        self, *, path: str | None = None, method: str | None = None, harness: bool = False
    ) -> Iterator[answers.RequestRecord]:
        """Every request the service answered, oldest first, page by page (see ``requests``)."""
        method = method.upper() if method else None
        for entry in self._archived:
            wanted = (path is None or entry["path"].startswith(path)) and (method is None or entry["method"] == method)
            if wanted and (harness or not _by_harness(entry)):
                yield entry
        after: str | None = None
        while True:
            page = self._control().requests(after=after, limit=PAGE, path=path, method=method)
            for entry in page["requests"]:
                if harness or not _by_harness(entry):
                    yield entry
            if len(page["requests"]) < PAGE:
                return
            after = page["next"]

    def requests(
        self, *, path: str | None = None, method: str | None = None, harness: bool = False
    ) -> list[answers.RequestRecord]:
        """Every request the service answered (all of them: this pages for you), oldest first, each with what
        the client sent (``json``, ``headers`` with secrets masked), its ``status`` and ``duration_ms``.
        ``path`` keeps paths starting with it, ``method`` one method. The world's own calls (``assign``,
        ``credits``, its checks) are left out unless ``harness=True``. Kept across restarts of the service."""
        found = []
        for entry in self.iter_requests(path=path, method=method, harness=harness):
            found.append(entry)
        return found

    def iter_events(
        self, *, kind: str | Collection[str] | None = None, after: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """The service's event journal, oldest first, page by page (see ``events``)."""
        while True:
            page = self._control().events(after=after, limit=PAGE, kind=kind)  # the service filters
            for event in page["events"]:
                yield event
            if len(page["events"]) < PAGE:
                return
            after = page["next"]

    def events(
        self, *, kind: str | Collection[str] | None = None, after: str | None = None
    ) -> list[dict[str, Any]]:
        """Every event of the service's journal (all of them: this pages for you), oldest first; ``kind`` keeps
        one kind (or several), ``after`` starts after an event's ``cursor``."""
        found = []
        for event in self.iter_events(kind=kind, after=after):
            found.append(event)
        return found

    def _archive_requests(self) -> None:
        """Keep what the running service recorded: its request journal lives in its memory."""
        with_all: list[answers.RequestRecord] = []
        after: str | None = None
        while True:
            page = self._control().requests(after=after, limit=PAGE)
            with_all += page["requests"]
            if len(page["requests"]) < PAGE:
                break
            after = page["next"]
        self._archived = self._archived + with_all


@dataclass
class Account:
    """An account in the cloud with a signed-in admin; ``cloud`` is a client acting as that admin."""

    world: "World" = field(repr=False)
    id: str
    name: str
    email: str
    token: str = field(repr=False)
    cloud: CloudClient = field(repr=False)
    subscriptions: list[answers.Subscription] = field(default_factory=list)
    password: str = field(default=PASSWORD, repr=False)

    def details(self) -> AccountDetails:
        """The account's id, its admin's email and password, and a bearer token of that admin."""
        return AccountDetails(self.id, self.name, self.email, self.password, self.token)

    def add_subscription(
        self, credits: float, *, duration: answers.Duration = "monthly", active: bool = True
    ) -> answers.Subscription:
        """A new subscription of ``credits`` for this account (active unless ``active=False``)."""
        sub = self.world.cloud.create_subscription(self.id, credits, duration=duration, active=active)
        self.subscriptions.append(sub)
        return sub

    def subscription(self, subscription: answers.Subscription | str | None = None) -> answers.Subscription:
        """The subscription as the cloud shows it now (the first one when none is named)."""
        return self.cloud.subscription(self.id, self._sub_id(subscription))

    def _sub_id(self, subscription: answers.Subscription | str | None) -> str:
        if subscription is None:
            if not self.subscriptions:
                raise ValueError(
                    "This account has no subscription: create it with subscriptions=[...] or add_subscription()."
                )
            return self.subscriptions[0]["id"]
        return subscription if isinstance(subscription, str) else subscription["id"]

    def add_member(self, email: str, role: answers.Role = "operator") -> CloudClient:
        """A new user in this account with ``role``, signed in: a client acting as them."""
        self.world.cloud.create_user(self.id, email, role, PASSWORD)
        signed = self.world.cloud.sign_in(email, PASSWORD)
        return self.cloud.with_token(str(signed["token"]))

    def link(self, home: "Home") -> answers.System:
        """Link ``home`` to this account (as an admin pasting its registration code)."""
        system = self.cloud.link_system(self.id, home.registration_code)
        home.account = self
        return system

    def assign(
        self,
        home: "Home",
        credits: float | str,
        *,
        subscription: answers.Subscription | str | None = None,
        auto_revoke_at: datetime | None = None,
    ) -> answers.Assignment:
        """Assign credits from ``subscription`` (default: the first) to ``home``; an online HOME gets them pushed."""
        when = iso(auto_revoke_at) if auto_revoke_at is not None else None
        return self.cloud.assign(
            self.id, home.system_id, self._sub_id(subscription), credits, auto_revoke_at=when
        )

    def revoke(self, home: "Home", assignment: answers.Assignment | str) -> answers.Assignment:
        """Revoke an assignment: ``ended`` at once when HOME proves it dropped it, else ``revoke_pending``."""
        assignment_id = assignment if isinstance(assignment, str) else assignment["id"]
        return self.cloud.revoke(self.id, home.system_id, assignment_id)

    def download(self, home: "Home", *, fault: answers.Fault | None = None) -> str:
        """The system's credits file; ``fault`` gives a deliberately bad one that HOME must refuse."""
        return self.cloud.download(self.id, home.system_id, fault=fault)

    def enter_revoke_key(self, home: "Home", revoke_key: str) -> answers.RevokeKeyResult:
        """Paste HOME's revoke key into the cloud: the assignments it proves dropped come back."""
        return self.cloud.enter_revoke_key(self.id, home.system_id, revoke_key)

    def system(self, home: "Home") -> answers.SystemDetail:
        """The system of ``home`` as the cloud shows it, with its assignments."""
        return self.cloud.system(self.id, home.system_id)

    def assignments(self, home: "Home") -> list[answers.Assignment]:
        """The assignments of ``home``'s system, every state included."""
        return (self.system(home))["assignments"]


@dataclass
class Home(_Service):
    """One HOME node; ``client`` reaches its whole API, ``url`` is its base URL (kept across restarts)."""

    world: "World" = field(repr=False)
    name: str
    label: str
    url: str
    client: HomeClient = field(repr=False)
    system_id: str
    registration_code: str = field(repr=False)
    account: Account | None = None
    running: bool = True
    online_wanted: bool = False  # whether its cloud link should be on (what go_online / go_offline last asked)
    _archived: list[answers.RequestRecord] = field(default_factory=list, repr=False)

    def _control(self) -> _Base:
        return self.client

    def details(self) -> HomeDetails:
        """Its label, base URL, system id and the id of the account it is linked to."""
        return HomeDetails(self.label, self.url, self.system_id, self.account.id if self.account else None)

    def credits(self) -> answers.HomeCredits:
        """What HOME holds now (``GET /api/v1/licenses/credits``)."""
        return self.client.credits()

    def upload(self, file: str | bytes, *, expect: int = 200) -> answers.FileResult:
        """Upload a credits file or a ``.lic`` file; a refusal raises ``ApiError`` with HOME's ``code``."""
        return self.client.upload(file, expect=expect)

    def link_state(self) -> str:
        """``online``, ``connecting``, ``offline``, ``disabled`` or ``not_linked``."""
        return str((self.client.system())["cloud"]["state"])

    def go_online(self, *, timeout: float = LINK_TIMEOUT) -> None:
        """Switch the cloud link on and wait until it is online."""
        self.online_wanted = True
        with self._link_in_time():
            self.client.switch_link(True, wait_for="online", timeout=timeout)

    def go_offline(self) -> None:
        """Switch the cloud link off (HOME goes on using what it holds)."""
        self.online_wanted = False
        self.client.set_cloud_link(False)

    def reconnect(self) -> None:
        """Have a HOME whose link is on try to connect now, not when its backoff (on the world's clock) ends."""
        if self.running and self.online_wanted:
            self.client.set_cloud_link(True)

    def wait_for_link(self, state: answers.LinkState, *, timeout: float = LINK_TIMEOUT) -> None:
        """Wait (real time, at most ``timeout`` seconds) until the cloud link is in ``state``: one request, which
        HOME answers as the link gets there."""
        with self._link_in_time():
            self.client.wait_for_link(state, timeout=timeout)

    @contextmanager
    def _link_in_time(self) -> Iterator[None]:
        """HOME's 504 ``timeout`` for a link not in the state waited for, as a failed expectation naming this HOME."""
        try:
            yield
        except transport.ApiError as late:
            if late.status != 504:
                raise
            raise AssertionError(f"{self.label}: {late.message}") from None

    def settle(self, *, timeout: float = 5.0) -> answers.Settled:
        """Wait until this (online) HOME has applied the latest copy the cloud issued to it. When a fault lost
        the copy or its receipt, the world's clock runs on to the cloud's re-push (2 s, then 4 ...), as the
        time the real system would take; ``timeout`` is real seconds."""
        return self.world.cloud.settled(self.system_id, timeout=timeout, advance=True)

    def set_link_faults(self, **faults: Any) -> dict[str, Any]:
        """Faults on this system's link in the cloud: ``cut=True``, ``latency_ms=…``, ``drop_next="snapshot"``,
        ``duplicate_next="receipt"``, ``clear=True`` (see docs/contract.md)."""
        return self.world.cloud.set_link_faults(self.system_id, **faults)

    def cut_link(self) -> dict[str, Any]:
        """Close this HOME's link now and refuse it until ``mend_link()``."""
        return self.set_link_faults(cut=True)

    def mend_link(self) -> dict[str, Any]:
        """Lift every link fault; HOME reconnects at once."""
        faults = self.set_link_faults(clear=True)
        self.reconnect()
        return faults

    def stop(self) -> None:
        """Stop the service and leave it down (connections to ``url`` are refused); its data stays."""
        if not self.running:
            return
        self._archive_requests()
        self.world._servers.stop(self.name)
        self.running = False

    def start(self, *, online: bool | None = None) -> None:
        """Start a stopped HOME again, on the same address and data; with ``online`` (default: as it was) its
        link is switched on and the call waits until it is online."""
        if self.running:
            raise RuntimeError(f"{self.label} is running: stop() it first (or use restart())")
        self.url = self.world._servers.start_home(
            self.name, self.world.cloud.url, label=self.label, offline=True, port=_port(self.url)
        )
        self.client = HomeClient(self.url, transport=self.world.transport)
        self.running = True
        if self.online_wanted if online is None else online:
            self.go_online()

    def restart(self, *, online: bool | None = None) -> None:
        """``stop()`` then ``start()``: the same address and data."""
        self.stop()
        self.start(online=online)


class World(_Service):
    """One cloud and any number of HOME nodes on one virtual clock. Start it with ``World.start(folder)``.

    ``mode="inprocess"`` (default) runs every service in this process (on a loop thread of their own);
    ``mode="subprocess"`` runs each as ``python -m flex_emulator.cloud`` / ``python -m flex_emulator.home``
    on a free port. The interface is the same. HTTP faults and the request and event journals of the
    cloud are the world's own methods (``fail_requests``, ``requests``, ``events`` ...); each HOME has them too.
    """

    def __init__(
        self, launched: servers.Servers, cloud_url: str, http: transport.Transport, mode: servers.Mode
    ) -> None:
        self._servers = launched
        self.transport = http
        self.mode = mode
        self.cloud = CloudClient(cloud_url, transport=http)
        self.cloud_running = True
        self.accounts: list[Account] = []
        self.homes: list[Home] = []
        self._archived: list[answers.RequestRecord] = []

    def _control(self) -> _Base:
        return self.cloud

    @classmethod
    @contextmanager
    def start(
        cls,
        folder: Path,
        *,
        mode: servers.Mode = "inprocess",
        start: datetime = START,
        check: bool = True,
        log_level: str = DEFAULT_LEVEL,
        database: str | None = None,
        prepared: PreparedWorld | None = None,
    ) -> Iterator["World"]:
        """Run a fresh world with its data (and a log file per service) in ``folder``; on a clean exit
        ``check`` asserts the invariant (see ``check_invariant``). ``database``: run the cloud on this (empty)
        PostgreSQL database, ``postgresql://...`` (needs ``flex-emulator[postgres]``), instead of SQLite.
        ``prepared``: a world ``prepare()`` started ahead in ``folder``, taken when its settings are these."""
        launched = servers.make_servers(mode, Path(folder), start, log_level, database, prepared)
        http = transport.Transport(headers={HARNESS_HEADER: "world"}, keep_alive=True)
        try:
            world = cls(launched, launched.start_cloud(), http, mode)
            yield world
            if check:
                world.check_invariant()
        finally:
            http.close()
            launched.close()

    @staticmethod
    def prepare(folder: Path, *, start: datetime = START, log_level: str = DEFAULT_LEVEL) -> PreparedWorld:
        """Start an in-process world's cloud and first HOME (``"Studio A"``, unlinked, its link off) in ``folder``
        (new or empty) ahead of time, in the background; ``start(folder, prepared=...)`` with the same settings
        takes it and waits only for what is not up yet. ``discard()`` one you do not use. The pytest fixtures do
        this for the next test that asks for an in-process world."""
        return PreparedWorld(Path(folder), start, log_level)

    # --- connection details --------------------------------------------------------------------

    @property
    def cloud_url(self) -> str:
        """The cloud's base URL (kept across restarts)."""
        return self.cloud.url

    def connection_details(self) -> ConnectionDetails:
        """Everything your own client needs: the cloud's URL, each account's id, sign-in and token, each HOME's URL."""
        return ConnectionDetails(
            self.cloud.url,
            [account.details() for account in self.accounts],
            [home.details() for home in self.homes],
        )

    # --- accounts and HOMEs ----------------------------------------------------------------------

    def create_account(
        self,
        name: str = "Acme Broadcast",
        *,
        subscriptions: Sequence[float] = (8,),
        duration: answers.Duration = "monthly",
        email: str | None = None,
        password: str = PASSWORD,
    ) -> Account:
        """A new account with an admin and one active subscription per entry of ``subscriptions`` (credits)."""
        email = email or f"admin{len(self.accounts) + 1}@{_slug(name)}.test"
        asked = [{"duration": duration, "credits": credits, "state": "active"} for credits in subscriptions]
        answer = self.cloud.create_account(name, email, password, subscriptions=asked)  # one request
        token = answer["token"]
        account = Account(
            self, answer["account"]["id"], name, email, token, self.cloud.with_token(token), password=password
        )
        account.subscriptions = list(answer["subscriptions"])
        self.accounts.append(account)
        return account

    def start_home(
        self, label: str = "Studio A", *, account: Account | None = None, online: bool = True
    ) -> Home:
        """Start a HOME node; with ``account`` it is linked to it, and with ``online`` (default) connected too."""
        name = f"home-{len(self.homes) + 1}-{_slug(label)}"
        url = self._servers.start_home(name, self.cloud.url, label=label, offline=True)
        client = HomeClient(url, transport=self.transport)
        system = self._servers.system_read_ahead(url) or client.system()
        home = Home(self, name, label, url, client, system["system_id"], system["registration_code"])
        self.homes.append(home)
        if account is not None:
            account.link(home)
        if online and account is not None:
            home.go_online()
        return home

    def app(self, home: Home | None = None) -> web.Application:
        """The aiohttp application of the cloud (or of ``home``), for white-box checks in in-process worlds."""
        return self._servers.app("cloud" if home is None else home.name)

    # --- the cloud's lifecycle -------------------------------------------------------------------

    def stop_cloud(self, *, kill: bool = False) -> None:
        """Stop the cloud and leave it down: connections to ``cloud_url`` are refused and HOMEs go offline
        (retrying on the world's clock). ``kill=True`` (subprocess mode only) stops it with SIGKILL."""
        if not self.cloud_running:
            return
        if kill and self.mode == "inprocess":
            self._servers.kill("cloud")  # raises: says why and what to do instead
        self._archive_requests()
        if kill:
            self._servers.kill("cloud")
        else:
            self._servers.stop("cloud")
        self.cloud_running = False

    def start_cloud(self) -> None:
        """Start the stopped cloud again on its address and data; waits until every HOME whose link is on is
        online again."""
        if self.cloud_running:
            raise RuntimeError("the cloud is running: stop_cloud() it first (or use restart_cloud())")
        self._servers.start_cloud(_port(self.cloud.url))
        self.cloud_running = True
        self.cloud.healthz()
        for home in self.homes:
            if home.running and home.online_wanted and home.account is not None:
                home.reconnect()
                home.wait_for_link("online")

    def restart_cloud(self, *, kill: bool = False) -> None:
        """Stop the cloud and start it again on the same data and address; HOMEs reconnect. ``kill=True``
        stops it with SIGKILL, as a crash would: subprocess mode only (in-process it raises)."""
        self.stop_cloud(kill=kill)
        self.start_cloud()

    # --- time ----------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The world's (virtual) time."""
        return parse_iso((self.cloud.clock())["now"])

    def advance(
        self,
        *,
        days: float = 0,
        hours: float = 0,
        minutes: float = 0,
        seconds: float = 0,
        to: datetime | None = None,
        settle: bool = True,
    ) -> datetime:
        """Move the one clock forward (by the sum of the steps, or ``to`` a moment); the cloud runs everything
        that fell due, in order, and every timer of the services runs at its moment. With ``settle``, wait
        until every online HOME has applied what the cloud issued meanwhile. Returns the new time."""
        if to is not None:
            if days or hours or minutes or seconds:
                raise ValueError("give either to=... or days/hours/minutes/seconds, not both")
            moved = self.cloud.move_clock(now=iso(to))
        else:
            step = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds).total_seconds()
            moved = self.cloud.move_clock(advance_seconds=step)
        if settle:
            self.settle()
        return parse_iso(moved["now"])

    def settle(self, *, timeout: float = 5.0) -> None:
        """Wait until every running, linked and online HOME acknowledged the latest copy issued to it."""
        for home in self.homes:
            if home.running and home.account is not None and home.link_state() == "online":
                home.settle(timeout=timeout)

    # --- invariant -----------------------------------------------------------------------------

    def check_invariant(self) -> None:
        """Assert what the fixtures check when a test ends: every balance in the cloud adds up; no HOME counts
        credits the cloud does not have as held there (ended, unknown, or of another system); and no HOME has
        applied a copy newer than the cloud issued to it (its ``seq`` ahead, e.g. after ``restore_state``)."""
        verdict = self.cloud.invariant()
        assert verdict["ok"], f"the cloud's balances do not add up: {verdict['violations']}"
        if not self.cloud_running:
            return
        now = self.now()
        for home in self.homes:
            if home.running and home.account is not None:
                self._check_home(home, home.account, now)

    def _check_home(self, home: Home, account: Account, now: datetime) -> None:
        credits = home.credits()
        held = {
            entry["assignment_id"]
            for entry in credits.get("entries", [])
            if not entry.get("expired") and parse_iso(entry["valid_until"]) > now
        }
        try:
            detail = account.system(home)
        except transport.ApiError as missing:
            if missing.status != 404:
                raise
            assert not held, f"{home.label} uses credits {sorted(held)} of a system the cloud does not have"
            return
        states = {item["id"]: item["state"] for item in detail["assignments"]}
        ended = sorted(key for key in held if states.get(key) == "ended")
        assert not ended, f"{home.label} still uses credits the cloud gave back: {ended}"
        unknown = sorted(key for key in held if key not in states)
        assert not unknown, f"{home.label} uses credits the cloud does not know as held there: {unknown}"
        issued = int(detail["system"].get("seq", 0))
        applied = int(credits.get("seq", 0))
        assert applied <= issued, (
            f"{home.label} applied copy {applied}, but the cloud issued it copies up to {issued} only"
        )
