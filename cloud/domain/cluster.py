"""What makes several cloud processes on one PostgreSQL database one cloud, and what a lone process does in
their place.

Each process holds the links of the HOMEs that connected to it; the ``systems`` table records which process
holds which (``online_via``), so a change made through any process is decided on the same facts and ordered
by the system's row. What is not in the tables travels on the database's bus (``shared/bus.py``): snapshots to
push and receipts, refusals, links and faults (``LinkHub.heard``), the virtual clock, a changed signing key, a
reset. Every process registers itself; one whose server connection is gone (it stopped, or was killed) is
forgotten by the next sweep of any other, and the links it held are released (HOMEs then show Offline until
they reconnect, through any process). A lone SQLite process only releases, at start, what its last run held.
"""

import asyncio
import contextlib
import json
import uuid
from pathlib import Path

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from flex_emulator.cloud.domain.scheduler import Scheduler
from flex_emulator.cloud.domain.signer import Signer
from flex_emulator.cloud.link.faults import SystemFaults
from flex_emulator.cloud.link.hub import LinkHub
from flex_emulator.cloud.store import Database
from flex_emulator.shared.bus import Message
from flex_emulator.shared.clock import Clock, VirtualClock
from flex_emulator.shared.keys import key_from_pem, private_pem
from flex_emulator.shared.timefmt import from_epoch

log = structlog.get_logger()

SWEEP_SECONDS = 2.0
FLUSH_WAIT_SECONDS = 1.0
VIRTUAL_NOW_META = "virtual_now"
CLOUD_KEY = "cloud_key"
PAGE_SECRET = "page_secret"


async def shared_signer(db: Database, data_dir: Path, made: str) -> Signer:
    """The signing key of a cloud on PostgreSQL: the first process stores ``made``, every other uses that."""
    async with db.transaction() as tx:
        pem = await tx.cluster.secret(CLOUD_KEY, made)
    return Signer.shared(pem, data_dir)


async def shared_page_secret(db: Database, made: bytes) -> bytes:
    """The pages' secret (CSRF tokens, flash cookies) all processes of a cloud on PostgreSQL sign with."""
    async with db.transaction() as tx:
        return bytes.fromhex(await tx.cluster.secret(PAGE_SECRET, made.hex()))


class Cluster:
    def __init__(self, db: Database, hub: LinkHub, clock: Clock, signer: Signer, scheduler: Scheduler) -> None:
        self.db = db
        self.hub = hub
        self.clock = clock
        self.signer = signer
        self.scheduler = scheduler
        self._sweeper: asyncio.Task[None] | None = None
        self._flushes: dict[str, tuple[set[str], asyncio.Event]] = {}
        self._alone = True  # no other process seen by the last sweep: nothing to catch up with

    @property
    def shared(self) -> bool:
        return self.db.bus.shared

    async def start(self) -> None:
        if not self.shared:
            async with self.db.transaction() as tx:
                await tx.systems.release_links([])  # one process per SQLite database: what it held last run is gone
            return
        self.hub.latest_snapshot = self._latest_snapshot
        self.hub.save_faults = self._save_faults
        self.db.bus.subscribe(self.heard)
        async with self.db.transaction() as tx:
            await tx.cluster.register_process(self.hub.process_id, self.db.bus.backend_pid)
            armed = await tx.cluster.link_faults()
        for system_id, faults in armed.items():
            self.hub.faults.replace(system_id, json.loads(faults))
        await self.sweep()
        await self.db.bus.publish({"kind": "hello"})  # the others catch up with the clock from now on
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="cloud-cluster-sweep")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
        if self.shared and self.db.is_open:
            with contextlib.suppress(Exception):
                async with self.db.transaction() as tx:
                    await tx.cluster.leave(self.hub.process_id)

    async def sweep(self) -> list[str]:
        """Forget processes that are gone and release the links they held; returns those systems."""
        async with self.db.transaction() as tx:
            live = await tx.cluster.live_processes()
            released = await tx.systems.release_links(live)
        self._alone = live == [self.hub.process_id]
        for system_id in released:
            log.info("link_released", system_id=system_id, reason="process_gone")
            await self.hub.heard({"kind": "link", "system_id": system_id, "online": False})
            await self.db.bus.publish({"kind": "link", "system_id": system_id, "online": False})
        return released

    async def push_what_never_came(self) -> None:
        """A copy issued through another process reaches a HOME linked here by a message that process sends after
        its commit; killed between the two, it never sends it, and HOME would wait for that copy (and the cloud
        for its receipt) until it next connects. So each sweep pushes the latest copy of each HOME linked here
        that was issued and never pushed from here (pushed twice, HOME answers it as unchanged)."""
        for system_id, seq in await self.db.read.systems.unacknowledged_via(self.hub.process_id):
            if not self.hub.is_online(system_id) or self.hub.pushed_seq(system_id) >= seq:
                continue
            latest = await self._latest_snapshot(system_id)
            if latest is not None and latest[1] > self.hub.pushed_seq(system_id):
                log.info("snapshot_pushed_by_sweep", system_id=system_id, seq=latest[1])
                await self.hub.push_snapshot(system_id, *latest)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                await self.sweep()
                await self.push_what_never_came()
            except Exception:
                log.exception("cluster_sweep_failed")

    async def heard(self, message: Message) -> None:
        kind = message.get("kind")
        if kind == "clock":
            self._clock_told(message)
        elif kind == "keys":
            pem = await self.db.read.cluster.get_secret(CLOUD_KEY)
            if pem is not None:
                self.signer.use(key_from_pem(pem))
        elif kind == "hello":
            self._alone = False
        elif kind == "flush":
            await self.db.write_journal()
            await self.db.bus.publish({"kind": "flushed", "request": message.get("request")})
        elif kind == "flushed":
            waiting = self._flushes.get(str(message.get("request")))
            if waiting is not None:
                waiting[0].discard(str(message.get("from")))
                if not waiting[0]:
                    waiting[1].set()
        elif kind == "reset":
            self._clock_told(message)
            await self.hub.close_all()
            self.hub.forget()
            self.scheduler.wake()
        else:
            await self.hub.heard(message)

    def _clock_told(self, message: Message) -> None:
        now = message.get("now")
        if not isinstance(self.clock, VirtualClock) or not isinstance(now, int):
            return
        moment = from_epoch(now)
        if message.get("rewind"):
            self.clock.rewind(moment)
        elif moment > self.clock.now():
            self.clock.set(moment)

    async def write_journals(self) -> None:
        """Every process writes the facts it noted so far, then this one (a reader of the journal sees what
        happened before it asked, whichever process noted it); a process that does not answer in a second is
        not waited for."""
        if self.shared:
            others = set(await self.db.read.cluster.processes()) - {self.hub.process_id}
            if others:
                request = uuid.uuid4().hex
                done = asyncio.Event()
                self._flushes[request] = (others, done)
                try:
                    await self.db.bus.publish({"kind": "flush", "request": request})
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(done.wait(), FLUSH_WAIT_SECONDS)
                finally:
                    del self._flushes[request]
        await self.db.write_journal()

    async def catch_up_clock(self) -> None:
        """A virtual clock moved by another process: take its time before answering (the bus may be a moment
        behind the client that moved it)."""
        if self.shared and isinstance(self.clock, VirtualClock) and not self._alone:
            saved = await self.db.read.meta.get(VIRTUAL_NOW_META)
            if saved is not None and from_epoch(int(saved)) > self.clock.now():
                self.clock.set(from_epoch(int(saved)))

    async def share_key(self) -> None:
        """This process replaced the signing key (a restored state): store it and have the others take it."""
        if self.shared:
            async with self.db.transaction() as tx:
                await tx.cluster.replace_secret(CLOUD_KEY, self.signer.private_pem())
            await self.db.bus.publish({"kind": "keys"})

    async def _latest_snapshot(self, system_id: str) -> tuple[str, int] | None:
        latest = await self.db.read.snapshots.latest(system_id)
        return None if latest is None else (latest.token, latest.seq)

    async def _save_faults(self, system_id: str, faults: SystemFaults | None) -> None:
        async with self.db.transaction() as tx:
            await tx.cluster.set_link_faults(system_id, None if faults is None else json.dumps(faults.json()))


def made_key_pem() -> str:
    return private_pem(Ed25519PrivateKey.generate())
