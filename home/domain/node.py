"""The HOME node's core: its identity, database, time and trusted keys, opened and closed together."""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

import structlog

from flex_emulator.home.config import DEFAULT_LABEL, Config
from flex_emulator.home.domain.expiries import Expiries
from flex_emulator.home.domain.identity import Identity, load_identity
from flex_emulator.home.domain.timekeeper import TimeKeeper
from flex_emulator.home.domain.trust import TrustedKeys
from flex_emulator.home.store import Database, Queries
from flex_emulator.shared.clock import Clock
from flex_emulator.shared.journal import Journal, token_fields
from flex_emulator.shared.timefmt import epoch, from_epoch

log = structlog.get_logger()

LABEL_META = "label"
TIME_MARK_META = "time_mark"


class Watch:
    """Lets tests and the link wait until some condition over changing state holds."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def changed(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_until(self, condition: Callable[[], bool], timeout: float) -> None:
        async with asyncio.timeout(timeout):
            while not condition():
                await self._event.wait()


class Node:
    def __init__(self, config: Config, clock: Clock) -> None:
        self.config = config
        self.clock = clock  # its timers wait on it: under a virtual clock they run when the clock is moved
        self.time = TimeKeeper(clock)
        self.journal = Journal(self.now, keep=config.journal_keep)
        self.expiries = Expiries(self.journal)
        self.db = Database(config.database_path, self.journal, durable=config.durable)
        self._key_shown_seq = 0
        self.trust = TrustedKeys(self.db, config.cloud_key_file)
        self._identity: Identity | None = None
        self.label = config.label or DEFAULT_LABEL
        self.applied_seq = 0
        self.applied = Watch()

    @property
    def identity(self) -> Identity:
        if self._identity is None:
            raise RuntimeError("the node has not started")
        return self._identity

    @property
    def system_id(self) -> str:
        return self.identity.system_id

    async def start(self) -> None:
        self._identity = load_identity(self.config.key_path)
        await self.db.open()
        async with self.db.transaction() as tx:
            stored_label = await tx.meta(LABEL_META)
            if stored_label is None or (self.config.label is not None and self.config.label != stored_label):
                await tx.set_meta(LABEL_META, self.label)
            else:
                self.label = stored_label
            mark = await tx.meta(TIME_MARK_META)
            self.applied_seq = await tx.applied_seq()
            entries = await tx.entries()
        if mark:
            self.time.restore(from_epoch(int(mark)))
        self.expiries.hold(self.applied_seq, entries, self.time.now())
        await self.trust.load()
        log.info("home_started", system_id=self.system_id, label=self.label, seq=self.applied_seq)

    async def close(self) -> None:
        await self.db.write_journal()
        await self.db.close()

    def now(self) -> datetime:
        """HOME's effective time: never earlier than a time it has already seen."""
        moment = self.time.now()
        self.expiries.notice(moment)
        return moment

    async def current_time(self, force_persist: bool = False) -> datetime:
        """The effective time, writing the high-water mark down if it moved on far enough."""
        mark = self.time.due_for_persisting(force=force_persist)
        if mark is not None:
            async with self.db.transaction() as tx:
                await tx.set_meta(TIME_MARK_META, str(epoch(mark)))
            self.time.persisted(mark)
        return self.now()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Queries]:
        """A write transaction that also records the time high-water mark."""
        async with self.db.transaction() as tx:
            yield tx
            mark = self.time.due_for_persisting(force=True)
            if mark is not None:
                await tx.set_meta(TIME_MARK_META, str(epoch(mark)))
        if mark is not None:
            self.time.persisted(mark)

    async def reset(self, new_identity: bool) -> None:
        """The emulator's reset: forget every license and resource; with ``new_identity``, become a new system."""
        async with self.write() as tx:
            await tx.forget_licenses()
        if new_identity:
            self.config.key_path.unlink(missing_ok=True)
            self._identity = load_identity(self.config.key_path)
        self.seq_applied(0)
        self.expiries.hold(0, [], self.now())
        self._key_shown_seq = 0
        self.journal.note("reset", identity=new_identity)
        log.info("home_reset", system_id=self.system_id, new_identity=new_identity)

    def revoke_key_shown(self, seq: int, key: str) -> None:
        """Journal the first time the revoke key of ``seq`` is shown (upload answer, Credits page or API)."""
        if seq > self._key_shown_seq:
            self._key_shown_seq = seq
            self.journal.note("revoke_key_shown", seq=seq, **token_fields(key))

    def seq_applied(self, seq: int) -> None:
        self.applied_seq = seq
        self.applied.changed()

    async def wait_for_seq(self, seq: int, timeout: float = 5.0) -> None:
        await self.applied.wait_until(lambda: self.applied_seq >= seq, timeout)
