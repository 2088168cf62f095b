"""Runs work whose due time (stored in the jobs table) has come, in due order, in batches.

One background task serves every pending item. Items share a transaction (each in its own
savepoint, so one failing item is retried alone) until one issues a snapshot: then the batch
commits and the snapshot is delivered before the next item runs. A virtual clock is advanced
through ``advance_to``, which steps time to each item's due time so everything happens in order.
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import structlog

from cloud.models import IssuedSnapshot, Job
from cloud.store import Database, Queries
from shared.clock import Clock, VirtualClock
from shared.timefmt import epoch

log = structlog.get_logger()

JobHandler = Callable[[Queries, str, datetime], Awaitable[list[IssuedSnapshot]]]
Deliver = Callable[[IssuedSnapshot], Awaitable[object]]
BATCH = 500
WALL_POLL_SECONDS = 1.0
RETRY_AFTER = timedelta(minutes=1)
MAX_RETRY_AFTER = timedelta(days=1)


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
        """Handle everything due at the clock's current time; returns how many items ran."""
        async with self._lock:
            return await self._run_until(self.clock.now(), step_clock=False)

    async def advance_to(self, target: datetime) -> int:
        """Move a virtual clock forward to ``target``, running each due item at its own time."""
        assert isinstance(self.clock, VirtualClock)
        async with self._lock:
            handled = await self._run_until(target, step_clock=True)
            if target > self.clock.now():
                self.clock.set(target)
            handled += await self._run_until(target, step_clock=False)
            async with self.db.transaction() as tx:
                await tx.meta.set("virtual_now", str(epoch(self.clock.now())))
        log.info("clock_advanced", now=str(self.clock.now()), handled=handled)
        return handled

    async def _run_until(self, until: datetime, step_clock: bool) -> int:
        handled = 0
        while True:
            jobs = await self.db.read.jobs.due(until, BATCH)
            if not jobs:
                return handled
            handled += await self._run_batch(jobs, step_clock)

    async def _run_batch(self, jobs: list[Job], step_clock: bool) -> int:
        """Run ``jobs`` in order; stop early when a handler scheduled something before the next one."""
        position = 0
        while position < len(jobs):
            issued: list[IssuedSnapshot] = []
            refetch = False
            async with self.db.transaction() as tx:
                while position < len(jobs) and not issued and not refetch:
                    job = jobs[position]
                    if step_clock and job.due_at > self.clock.now():
                        assert isinstance(self.clock, VirtualClock)
                        self.clock.set(job.due_at)
                    issued = await self._handle(tx, job)
                    position += 1
                    if position < len(jobs):
                        first = await tx.jobs.next_due()
                        refetch = first is not None and first < jobs[position].due_at
            for snapshot in issued:
                await self.deliver(snapshot)
            if refetch:
                break
        return position

    async def _handle(self, tx: Queries, job: Job) -> list[IssuedSnapshot]:
        now = self.clock.now()
        handler = self.handlers.get(job.kind)
        try:
            async with tx.savepoint():
                await tx.jobs.unschedule(job.kind, job.ref)  # done once handled; a handler may schedule it again
                if handler is None:
                    raise LookupError(f"no handler for job kind {job.kind}")
                issued = await handler(tx, job.ref, now)
        except Exception:
            # back off (1 min, 2, 4, ... up to a day), so a job that keeps failing cannot stall a long clock advance
            failures = self._failures.get((job.kind, job.ref), 0) + 1
            self._failures[(job.kind, job.ref)] = failures
            retry_at = now + min(RETRY_AFTER * 2 ** min(failures - 1, 20), MAX_RETRY_AFTER)
            log.exception("job_failed", kind=job.kind, ref=job.ref, failures=failures, retry_at=retry_at.isoformat())
            await tx.jobs.schedule(job.kind, job.ref, retry_at)
            return []
        self._failures.pop((job.kind, job.ref), None)
        return issued

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
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)
            except TimeoutError:
                pass
