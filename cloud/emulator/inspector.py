"""The inspector (``/_emulator/inspector``, only with --emulator-api): one system's timeline of what crossed
between the cloud and its HOME, read from the cloud's journal and HOME's own (through HOME's control route),
and the demo controls that act on both (link on and off, the clock).

The two journals are put in order by each event's time and, within a second (under a virtual clock a whole
step happens in one), by ``noted_at``, the machine's clock each service writes on every event: both run on
this machine (the cloud reads only loopback HOMEs unless told otherwise).
"""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from flex_emulator.cloud.domain.models import System
from flex_emulator.cloud.domain.scheduler import Scheduler
from flex_emulator.cloud.domain.signer import Signer
from flex_emulator.cloud.emulator.home_addresses import HomeAddresses
from flex_emulator.cloud.emulator.home_client import HomeClient, HomeRefused
from flex_emulator.cloud.emulator.timeline import CLOUD, HOME, Item, Timeline
from flex_emulator.cloud.emulator.token_view import describe_token
from flex_emulator.cloud.link.hub import LinkHub
from flex_emulator.cloud.store import Database
from flex_emulator.shared.clock import Clock, VirtualClock
from flex_emulator.shared.errors import ApiError, BadRequest, Conflict, NotFound
from flex_emulator.shared.keys import public_from_raw
from flex_emulator.shared.timefmt import iso
from flex_emulator.shared.web import clock_target

PAGE = 1000
POLL_SECONDS = 0.3
STATUS_EVERY_POLLS = 3
MAX_SYSTEMS_LISTED = 500


@dataclass
class View:
    """What one reader of a timeline has seen: the cursor of each journal, and what the timeline remembers."""

    system_id: str
    cloud_after: int = 0
    home_after: int = 0
    home_url: str | None = None  # the address the HOME cursor belongs to
    timeline: Timeline = field(default_factory=Timeline)

    @property
    def cursor(self) -> str:
        return f"{self.cloud_after}.{self.home_after}"


def parse_view(system_id: str, cursor: str | None) -> View:
    """A view resuming after ``cursor`` (``CLOUD.HOME``, as answered in ``next`` or an SSE id); 400 otherwise."""
    view = View(system_id)
    if cursor:
        cloud, _, home = cursor.partition(".")
        if not (cloud.isascii() and cloud.isdigit() and home.isascii() and home.isdigit()) or len(cursor) > 40:
            raise BadRequest("'after' must be a cursor from an earlier answer's 'next'.", code="invalid_cursor")
        view.cloud_after, view.home_after = int(cloud), int(home)
    return view


class Inspector:
    def __init__(
        self,
        db: Database,
        hub: LinkHub,
        signer: Signer,
        clock: Clock,
        scheduler: Scheduler,
        addresses: HomeAddresses,
    ) -> None:
        self.db = db
        self.hub = hub
        self.signer = signer
        self.clock = clock
        self.scheduler = scheduler
        self.addresses = addresses
        self.home = HomeClient()
        self._closing = asyncio.Event()

    async def close(self) -> None:
        """End every open stream (the server waits for its handlers when it stops) and the HTTP session."""
        self._closing.set()
        await self.home.close()

    async def systems(self) -> list[System]:
        return await self.db.read.systems.listing(MAX_SYSTEMS_LISTED)

    async def system(self, system_id: str) -> System:
        system = await self.db.read.systems.get(system_id)
        if system is None:
            raise NotFound(f"There is no linked system {system_id}.")
        return system

    # --- the timeline ------------------------------------------------------------------------------

    async def read(self, view: View) -> tuple[list[dict[str, Any]], str | None]:
        """The items new since ``view`` last read, in the order they happened, and why HOME's lane could not be
        read (None when it was)."""
        system = await self.system(view.system_id)
        await self.db.write_journal()
        items: list[Item] = []
        while True:
            events = await self.db.read.journal.after(view.cloud_after, PAGE, view.system_id)
            for event in events:
                view.cloud_after = int(event["cursor"])
                item = view.timeline.item(CLOUD, event)
                if item is not None:
                    items.append(item)
            if len(events) < PAGE:
                break
        problem = None
        try:
            items.extend(await self._home_items(view))
        except ApiError as exc:
            problem = exc.message
        items.sort(key=order)
        home_key = public_from_raw(system.public_key)
        cloud_keys = self.signer.public_keys()
        return [self._json(item, cloud_keys, home_key) for item in items], problem

    async def _home_items(self, view: View) -> list[Item]:
        address = self.addresses.get(view.system_id)
        if address is None:
            return []
        if address.url != view.home_url:
            await self.home.system(address.url, view.system_id)
            if view.home_url is not None:  # HOME moved to another address since this view read it: from the start
                view.home_after = 0
            view.home_url = address.url
        items = []
        for event in await self.home.events(address.url, view.home_after):
            view.home_after = int(str(event.get("cursor")))
            item = view.timeline.item(HOME, event)
            if item is not None:
                items.append(item)
        return items

    def _json(self, item: Item, cloud_keys: dict[str, Any], home_key: Any) -> dict[str, Any]:
        answer = item.json()
        answer["token"] = describe_token(item.token, cloud_keys, home_key) if item.token else None
        return answer

    async def follow(self, view: View) -> AsyncIterator[tuple[str, Any]]:
        """What a live page gets: ``("item", item)`` as events happen, ``("status", status)`` when it changes,
        until the server stops."""
        last_status: dict[str, Any] | None = None
        polls = 0
        while not self._closing.is_set():
            items, problem = await self.read(view)
            for item in items:
                yield "item", item
            if polls % STATUS_EVERY_POLLS == 0 or items:
                status = await self.status(view.system_id, problem)
                if status != last_status:
                    last_status = status
                    yield "status", status
            polls += 1
            try:
                await asyncio.wait_for(self._closing.wait(), POLL_SECONDS)
            except TimeoutError:
                continue

    # --- status and controls -------------------------------------------------------------------------

    async def status(self, system_id: str, problem: str | None = None) -> dict[str, Any]:
        """The system as each side sees it now: link, faults, both clocks, HOME's address."""
        system = await self.system(system_id)
        address = self.addresses.get(system_id)
        home: dict[str, Any] = {"url": None, "source": None, "reachable": False, "problem": problem}
        if address is not None:
            home |= {"url": address.url, "source": address.source}
            try:
                told = await self.home.system(address.url, system_id)
                clock = await self.home.clock(address.url)
                home |= {
                    "reachable": True,
                    "label": told.get("label"),
                    "link": told.get("cloud"),
                    "clock": {"now": clock.get("now"), "virtual": clock.get("virtual")},
                }
            except ApiError as exc:
                home["problem"] = exc.message
        return {
            "system": {
                "id": system.id,
                "label": system.label,
                "online": system.online,
                "seq": system.seq,
                "acked_seq": system.acked_seq,
            },
            "faults": self.hub.faults.of(system.id).json(),
            "cloud_clock": {"now": iso(self.clock.now()), "virtual": self.clock.virtual},
            "home": home,
        }

    async def set_address(self, system_id: str, url: str) -> dict[str, Any]:
        """Where the system's HOME answers, checked by asking that HOME who it is."""
        await self.system(system_id)
        checked = self.addresses.check(url)
        await self.home.system(checked, system_id)
        address = self.addresses.set(system_id, checked, "told")
        await self.addresses.share(system_id)
        return {"system_id": system_id, "url": address.url, "source": address.source}

    async def address(self, system_id: str) -> dict[str, Any]:
        await self.system(system_id)
        address = self.addresses.get(system_id)
        return {
            "system_id": system_id,
            "url": address.url if address else None,
            "source": address.source if address else None,
        }

    async def set_link(self, system_id: str, enabled: bool) -> dict[str, Any]:
        """Switch the cloud link on HOME itself (what HOME's Settings page does), through HOME's API."""
        url = await self._home_url(system_id)
        await self.home.system(url, system_id)
        cloud = await self.home.set_link(url, enabled)
        return {"system_id": system_id, "cloud": cloud}

    async def advance_clock(self, system_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Move the cloud's virtual clock (it runs what fell due on the way), then HOME's to the same time."""
        await self.system(system_id)
        if not isinstance(self.clock, VirtualClock):
            raise Conflict(
                "The clock is the wall clock; start the cloud with --virtual-clock to move it.",
                code="clock_not_virtual",
            )
        if set(body) != {"advance_seconds"}:
            raise BadRequest("Send {advance_seconds}: how far to move the clock.", code="invalid_value")
        target = clock_target(body, self.clock.now())
        handled = await self.scheduler.advance_to(target)
        now = iso(self.clock.now()) or ""
        return {
            "cloud": {"now": now, "virtual": True, "handled": handled},
            "home": await self._move_home_clock(system_id, now),
        }

    async def _move_home_clock(self, system_id: str, now: str) -> dict[str, Any]:
        """HOME's clock to the cloud's time: one after the other, two clocks end as if they were one."""
        address = self.addresses.get(system_id)
        if address is None:
            return {"moved": False, "note": "The cloud does not know where HOME answers; HOME's clock is its own."}
        try:
            await self.home.system(address.url, system_id)
            moved = await self.home.move_clock(address.url, now)
        except HomeRefused as exc:
            if exc.code == "clock_shared":
                return {"moved": True, "note": "HOME shares the cloud's clock."}
            return {"moved": False, "note": exc.message}
        except ApiError as exc:
            return {"moved": False, "note": exc.message}
        return {"moved": True, "now": moved.get("now"), "note": "HOME's own clock moved to the same time."}

    async def _home_url(self, system_id: str) -> str:
        await self.system(system_id)
        address = self.addresses.get(system_id)
        if address is None:
            raise Conflict(
                f"The cloud does not know where the HOME of {system_id} answers: tell it with "
                f"PUT /_emulator/systems/{system_id}/home-address {{url}}.",
                code="home_unknown",
            )
        return address.url


def order(item: Item) -> tuple[str, str, int]:
    """By each side's own time (both read one clock here: the machine's, or one virtual clock), and within the
    same second by the machine's clock in microseconds, which is the order they were noted in. A HOME that
    notices a copy's end later than it happened (its time is read lazily) still shows it when it happened."""
    return item.at, item.noted_at or "", 0 if item.lane == CLOUD else 1
