"""Time-driven ends of assignments: Auto Revoke, the end of a copy's validity, and online check-in.

Each handler runs inside the scheduler's transaction and returns the snapshots it issued; the
scheduler delivers them after commit (and waits for HOME's receipt, so virtual time stays in order).
"""

from datetime import datetime

import structlog

from cloud import rules
from cloud.models import IssuedSnapshot
from cloud.store import Queries
from cloud.transfers import Transfers

log = structlog.get_logger()


class Expiry:
    def __init__(self, transfers: Transfers) -> None:
        self.transfers = transfers

    async def auto_revoke(self, tx: Queries, assignment_id: str, now: datetime) -> list[IssuedSnapshot]:
        """At the Auto Revoke time: return at once if HOME cannot hold a copy, else revoke and await proof."""
        item = await tx.assignments.get(assignment_id)
        if item is None or item.state != "active" or item.auto_revoke_at is None:
            return []
        if item.auto_revoke_at > now:
            await tx.jobs.schedule("auto_revoke", item.id, item.auto_revoke_at)
            return []
        sub = await tx.subscriptions.get(item.subscription_id)
        assert sub is not None
        if rules.may_return_now(item, sub, now):
            await self.transfers.end(tx, item, "auto_revoked", now, "scheduler", "scheduler")
            return []
        system = await tx.systems.get(item.system_id)
        assert system is not None
        await tx.assignments.set_revoke_pending(item.id, system.seq, "auto_revoked")
        issued = await self.transfers.settle(tx, system, now, "scheduler")
        return [issued] if issued else []

    async def validity_end(self, tx: Queries, assignment_id: str, now: datetime) -> list[IssuedSnapshot]:
        """Every copy HOME could hold has expired (plus skew): the credits come back with no proof."""
        item = await tx.assignments.get(assignment_id)
        if item is None or item.state == "ended":
            return []
        sub = await tx.subscriptions.get(item.subscription_id)
        assert sub is not None
        until = rules.returns_at(item, sub)
        if until is None:
            return []
        if until > now:
            await tx.jobs.schedule("validity_end", item.id, until)
            return []
        reason = "expired" if item.state == "active" else (item.pending_reason or "revoked")
        await self.transfers.end(tx, item, reason, now, "scheduler", "expiry")
        await tx.systems.mark_dirty(item.system_id)
        return []

    async def check_in(self, tx: Queries, system_id: str, now: datetime) -> list[IssuedSnapshot]:
        """An online HOME gets a renewed copy within the last 24 hours of validity."""
        if not self.transfers.hub.is_online(system_id):
            return []  # on reconnect, on_connect renews if due
        latest = await tx.snapshots.latest(system_id)
        system = await tx.systems.get(system_id)
        if system is None or latest is None or latest.check_in_at is None:
            return []
        if latest.check_in_at > now:
            await tx.jobs.schedule("check_in", system_id, latest.check_in_at)
            return []
        issued = await self.transfers.issue(tx, system, now, "check_in", "scheduler")
        log.info("check_in", system_id=system_id, seq=issued.seq)
        return [issued]
