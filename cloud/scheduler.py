"""Runs work whose due time (stored in the jobs table) has come, in due order, in batches.

One background task serves every pending item; a virtual clock is advanced through ``advance_to``,
which steps time from one due item to the next so everything happens in order and at its moment.
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import structlog

from cloud.db import Database
from cloud.models import Job
from shared.clock import Clock, VirtualClock
from shared.timefmt import epoch

log = structlog.get_logger()

JobHandler = Callable[[str, datetime], Awaitable[None]]
BATCH = 500
WALL_POLL_SECONDS = 1.0
RETRY_AFTER = timedelta(minutes=1)


class Scheduler:
    def __init__(self, db: Database, clock: Clock, handlers: dict[str, JobHandler]) -> None:
        self.db = db
        self.clock = clock
        self.handlers = handlers
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run_due(self) -> int:
        """Handle everything due at the clock's current time; returns how many items ran."""
        async with self._lock:
            return await self._run_due_locked()

    async def _run_due_locked(self) -> int:
        return await self._run_until(self.clock.now(), step_clock=False)

    async def _run_until(self, until: datetime, step_clock: bool) -> int:
        """Handle items due by ``until`` in due order; with ``step_clock`` the clock moves to each one's time."""
        handled = 0
        while True:
            jobs = await self.db.read.due_jobs(until, BATCH)
            if not jobs:
                return handled
            for position, job in enumerate(jobs):
                if step_clock and job.due_at > self.clock.now():
                    assert isinstance(self.clock, VirtualClock)
                    self.clock.set(job.due_at)
                await self._handle(job)
                handled += 1
                following = jobs[position + 1] if position + 1 < len(jobs) else None
                if following is not None:
                    first = await self.db.read.next_due()
                    if first is not None and first < following.due_at:
                        break  # the handler scheduled something earlier: fetch again, in order

    async def _handle(self, job: Job) -> None:
        now = self.clock.now()
        handler = self.handlers.get(job.kind)
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {job.kind}")
            await handler(job.ref, now)
        except Exception:
            log.exception("job_failed", kind=job.kind, ref=job.ref)
            async with self.db.transaction() as tx:
                await tx.schedule(job.kind, job.ref, now + RETRY_AFTER)

    async def advance_to(self, target: datetime) -> int:
        """Move a virtual clock forward to ``target``, running each due item at its own time."""
        assert isinstance(self.clock, VirtualClock)
        async with self._lock:
            handled = await self._run_until(target, step_clock=True)
            if target > self.clock.now():
                self.clock.set(target)
            handled += await self._run_due_locked()
            async with self.db.transaction() as tx:
                await tx.set_meta("virtual_now", str(epoch(self.clock.now())))
        log.info("clock_advanced", now=str(self.clock.now()), handled=handled)
        return handled

    async def run_forever(self) -> None:
        while True:
            try:
                await self.run_due()
            except Exception:
                log.exception("scheduler_pass_failed")
            self._wake.clear()
            timeout = WALL_POLL_SECONDS
            if not self.clock.virtual:
                due = await self.db.read.next_due()
                if due is not None:
                    timeout = min(timeout, max(0.0, (due - self.clock.now()).total_seconds()))
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)
            except TimeoutError:
                pass
