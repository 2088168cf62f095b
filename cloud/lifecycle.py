"""Time-driven ends of assignments: Auto Revoke, the end of a copy's validity, and online check-in."""

from datetime import datetime

import structlog

from cloud import rules
from cloud.db import Database
from cloud.transfers import Transfers

log = structlog.get_logger()


class Lifecycle:
    def __init__(self, db: Database, transfers: Transfers) -> None:
        self.db = db
        self.transfers = transfers

    async def auto_revoke(self, assignment_id: str, now: datetime) -> None:
        """At the Auto Revoke time: return at once if HOME cannot hold a copy, else revoke and await proof."""
        issued = None
        async with self.db.transaction() as tx:
            await tx.unschedule("auto_revoke", assignment_id)
            item = await tx.get_assignment(assignment_id)
            if item is None or item.state != "active" or item.auto_revoke_at is None:
                return
            if item.auto_revoke_at > now:
                await tx.schedule("auto_revoke", item.id, item.auto_revoke_at)
                return
            if rules.may_return_now(item, now):
                await self.transfers.end(tx, item, "auto_revoked", now, "scheduler", "scheduler")
                return
            system = await tx.get_system(item.system_id)
            assert system is not None
            await tx.set_revoke_pending(item.id, system.seq, "auto_revoked")
            issued = await self.transfers.settle(tx, system, now, "scheduler")
        await self.transfers.push(issued, wait=True)

    async def validity_end(self, assignment_id: str, now: datetime) -> None:
        """Every copy HOME could hold has expired (plus skew): the credits come back with no proof."""
        async with self.db.transaction() as tx:
            await tx.unschedule("validity_end", assignment_id)
            item = await tx.get_assignment(assignment_id)
            if item is None or item.state == "ended":
                return
            until = rules.returns_at(item)
            if until is None:
                return
            if until > now:
                await tx.schedule("validity_end", item.id, until)
                return
            reason = "expired" if item.state == "active" else (item.pending_reason or "revoked")
            await self.transfers.end(tx, item, reason, now, "scheduler", "expiry")
            await tx.mark_dirty(item.system_id)

    async def check_in(self, system_id: str, now: datetime) -> None:
        """An online HOME gets a renewed copy within the last 24 hours of validity."""
        if not self.transfers.hub.is_online(system_id):
            async with self.db.transaction() as tx:
                await tx.unschedule("check_in", system_id)  # on reconnect, on_connect renews if due
            return
        issued = None
        async with self.db.transaction() as tx:
            latest = await tx.latest_snapshot(system_id)
            system = await tx.get_system(system_id)
            if system is None or latest is None or latest.check_in_at is None:
                await tx.unschedule("check_in", system_id)
                return
            if latest.check_in_at > now:
                await tx.schedule("check_in", system_id, latest.check_in_at)
                return
            issued = await self.transfers.issue(tx, system, now, "check_in", "scheduler")
        log.info("check_in", system_id=system_id, seq=issued.seq)
        await self.transfers.push(issued, wait=True)
