"""Runs work whose due time (stored in the jobs table) has come, in due order, in batches.

One background task serves every pending item. Due items are fetched a batch at a time and handed to
their kind's handler as runs of the same kind, in due order, inside one transaction: a handler loads
what its run needs in a fixed number of statements, applies the rules in memory and writes the
outcome set-based. A handler stops early after an item that issued a snapshot (the batch commits and
the snapshot is delivered before anything later runs) or that scheduled something due before the
next item. A virtual clock is advanced through ``advance_to``, which steps time to each item's due
time so everything happens in order. If a batch fails, it is rolled back and its items run one at a
time, so one failing item is retried alone (with back-off) and cannot hold the others up.
"""

import asyncio
import contextlib
import gc
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any

import structlog

from flex_emulator.cloud.domain.models import IssuedSnapshot, Job
from flex_emulator.cloud.store import Database, Queries
from flex_emulator.shared.clock import Clock, VirtualClock
from flex_emulator.shared.timefmt import epoch, from_epoch, iso

# Where a virtual clock kept in memory is written down (the cloud's meta table): with every piece of due work
# run on the way and at the end of each advance, so a restart resumes there (app.restore_virtual_time).
VIRTUAL_NOW_META = "virtual_now"

log = structlog.get_logger()


@dataclass(frozen=True)
class Due:
    """One due item as its handler sees it: what it is about, and the time it runs at."""

    ref: str
    now: datetime


@dataclass
class Handled:
    """How many items of the run (from its front) a handler handled, and the snapshots they issued."""

    count: int
    issued: list[IssuedSnapshot] = field(default_factory=list)


JobHandler = Callable[[Queries, list[Due]], Awaitable[Handled]]
Deliver = Callable[[IssuedSnapshot], Awaitable[object]]
# A batch grows while whole batches run (fewer statements, and each index page rewritten once per batch
# rather than once per item) and falls back when a snapshot or an earlier item cuts it short.
SMALLEST_BATCH = 250
LARGEST_BATCH = 10_000
WALL_POLL_SECONDS = 1.0
RETRY_AFTER = timedelta(minutes=1)
MAX_RETRY_AFTER = timedelta(days=1)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off for one batch. A batch keeps every object it makes (a record, a change and
    a statement's parameters per item) until its commit, so the collector would walk them all, and the rest of
    the heap, several times per batch to find nothing: reference counting frees them when the batch ends."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class Scheduler:
    def __init__(self, db: Database, clock: Clock, handlers: dict[str, JobHandler], deliver: Deliver) -> None:
        self.db = db
        self.clock = clock
        self.handlers = handlers
        self.deliver = deliver
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._failures: dict[tuple[str, str], int] = {}

    def wake(self) -> None:
        self._wake.set()

    async def run_due(self) -> int:
        """Handle everything due at the clock's current time; returns how many items ran. One process of the
        cloud runs due work at a time: while another does, this one leaves it to that one."""
        async with self._lock, self.db.exclusive("scheduler", wait=False) as held:
            return await self._run_until(self.clock.now(), step_clock=False) if held else 0

    async def advance_to(self, target: datetime) -> int:
        """Move a virtual clock forward to ``target``, running each due item at its own time."""
        assert isinstance(self.clock, VirtualClock)
        async with self._lock, self.db.exclusive("scheduler", wait=True):
            saved = await self.db.read.meta.get("virtual_now")  # another process may have moved it meanwhile
            if saved is not None and from_epoch(int(saved)) > self.clock.now():
                self.clock.set(from_epoch(int(saved)))
            if target > self.clock.now():
                moved: dict[str, Any] = {"from": iso(self.clock.now()), "to": iso(target)}
                self.db.journal.note("clock_advanced", **moved)
            handled = await self._run_until(target, step_clock=True)
            if target > self.clock.now():
                async with self.db.transaction() as tx:  # written down before anything can happen at that time
                    await tx.meta.set(VIRTUAL_NOW_META, str(epoch(target)))
                self.clock.set(target)
            handled += await self._run_until(target, step_clock=False)
            await self.db.bus.publish({"kind": "clock", "now": epoch(self.clock.now())})  # the other processes
        log.info("clock_advanced", now=str(self.clock.now()), handled=handled)
        return handled

    async def _run_until(self, until: datetime, step_clock: bool) -> int:
        handled, size = 0, SMALLEST_BATCH
        while True:
            issued: list[IssuedSnapshot] = []
            with _collector_paused():  # only while the batch decides and writes, not while it delivers
                jobs = await self.db.read.jobs.due(until, size)
                if not jobs:
                    return handled
                due = self._due(jobs, step_clock)
                try:
                    ran, issued = await self._run_batch(jobs, due, step_clock)
                except Exception:
                    log.warning("job_batch_failed", jobs=len(jobs), exc_info=True)
                    ran = 0
            if ran:
                for snapshot in issued:
                    await self.deliver(snapshot)
            else:
                ran = await self._run_each(jobs, due, step_clock)
            handled += ran
            size = min(size * 2, LARGEST_BATCH) if ran == len(jobs) else SMALLEST_BATCH
            await asyncio.sleep(0)  # SQLite runs on the loop's thread: let links and requests in between batches

    def _due(self, jobs: list[Job], step_clock: bool) -> list[Due]:
        """Each item runs at its due time when stepping a virtual clock, else at the clock's time; never earlier."""
        now = self.clock.now()
        due = []
        for job in jobs:
            if step_clock and job.due_at > now:
                now = job.due_at
            due.append(Due(job.ref, now))
        return due

    async def _run_batch(self, jobs: list[Job], due: list[Due], step_clock: bool) -> tuple[int, list[IssuedSnapshot]]:
        """Run ``jobs`` in order in one transaction, a run of one kind at a time, until a run stops early;
        returns how many ran and the snapshots they issued (the caller delivers them)."""
        position = 0
        issued: list[IssuedSnapshot] = []
        async with self.db.transaction() as tx:
            await tx.jobs.lock_systems_of(jobs)
            for kind, group in groupby(jobs, key=lambda job: job.kind):
                run = list(group)
                handler = self.handlers.get(kind)
                if handler is None:
                    raise LookupError(f"no handler for job kind {kind}")
                # Done once handled (a handler may schedule it again); what the handler leaves is put back.
                await tx.jobs.unschedule_many([(kind, job.ref) for job in run])
                outcome = await handler(tx, due[position : position + len(run)])
                if not 1 <= outcome.count <= len(run):
                    raise RuntimeError(f"the {kind} handler handled {outcome.count} of {len(run)} items")
                if outcome.count < len(run):
                    left = [(kind, job.ref, job.due_at) for job in run[outcome.count :]]
                    await tx.jobs.schedule_many(left, replace=False)
                position += outcome.count
                issued = outcome.issued
                if issued or outcome.count < len(run) or position == len(jobs):
                    break
                first = await tx.jobs.next_due()
                if first is not None and first < jobs[position].due_at:
                    break  # something is now due before the rest of this batch: fetch again
            if step_clock:  # the time this work ran at commits with it: a restart never goes back before it
                await tx.meta.set(VIRTUAL_NOW_META, str(epoch(due[position - 1].now)))
        if step_clock:
            self._step_to(due[position - 1].now)
        if self._failures:
            for job in jobs[:position]:
                self._failures.pop((job.kind, job.ref), None)
        return position, issued

    async def _run_each(self, jobs: list[Job], due: list[Due], step_clock: bool) -> int:
        """After a failed batch (rolled back whole): its items one at a time, so the failing one fails alone."""
        for position, job in enumerate(jobs):
            await self._run_alone(job, due[position], step_clock)
            if position + 1 < len(jobs):
                first = await self.db.read.jobs.next_due()
                if first is not None and first < jobs[position + 1].due_at:
                    return position + 1
        return len(jobs)

    async def _run_alone(self, job: Job, due: Due, step_clock: bool) -> None:
        """One item in its own savepoint; if it fails it backs off (1 min, 2, 4, ... up to a day), so an item
        that keeps failing cannot stall the others or a long clock advance."""
        if step_clock:
            self._step_to(due.now)
        handler = self.handlers.get(job.kind)
        issued: list[IssuedSnapshot] = []
        async with self.db.transaction() as tx:
            await tx.jobs.lock_systems_of([job])
            if step_clock:
                await tx.meta.set(VIRTUAL_NOW_META, str(epoch(due.now)))
            try:
                async with tx.savepoint():
                    await tx.jobs.unschedule(job.kind, job.ref)
                    if handler is None:
                        raise LookupError(f"no handler for job kind {job.kind}")
                    issued = (await handler(tx, [due])).issued
            except Exception:
                failures = self._failures.get((job.kind, job.ref), 0) + 1
                self._failures[(job.kind, job.ref)] = failures
                retry_at = due.now + min(RETRY_AFTER * 2 ** min(failures - 1, 20), MAX_RETRY_AFTER)
                log.exception(
                    "job_failed", kind=job.kind, ref=job.ref, failures=failures, retry_at=retry_at.isoformat()
                )
                await tx.jobs.schedule(job.kind, job.ref, retry_at)
            else:
                self._failures.pop((job.kind, job.ref), None)
        for snapshot in issued:
            await self.deliver(snapshot)

    def _step_to(self, moment: datetime) -> None:
        if moment > self.clock.now():
            assert isinstance(self.clock, VirtualClock)
            self.clock.set(moment)

    async def run_forever(self) -> None:
        while True:
            try:
                await self.run_due()
            except Exception:
                log.exception("scheduler_pass_failed")
            self._wake.clear()
            timeout = WALL_POLL_SECONDS
            if not self.clock.virtual:
                due = await self.db.read.jobs.next_due()
                if due is not None:
                    timeout = min(timeout, max(0.0, (due - self.clock.now()).total_seconds()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)
