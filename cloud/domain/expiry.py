"""Time-driven ends of assignments: Auto Revoke, the end of a copy's validity, and online check-in.

Each handler gets a run of due items of its kind inside the scheduler's transaction, loads what they
need in a fixed number of statements, decides each with the rules in memory and writes the outcome
through ``Changes``. It stops after an item that issued a snapshot (the scheduler delivers it, and
waits for HOME's receipt, before anything later runs) or that scheduled something before the next item.
"""

import structlog

from flex_emulator.cloud.domain import rules
from flex_emulator.cloud.domain.changes import Changes
from flex_emulator.cloud.domain.models import AssignmentState, JobKind
from flex_emulator.cloud.domain.scheduler import Due, Handled
from flex_emulator.cloud.domain.transfers import Transfers
from flex_emulator.cloud.store import Queries

log = structlog.get_logger()


class Expiry:
    def __init__(self, transfers: Transfers) -> None:
        self.transfers = transfers

    async def auto_revoke(self, tx: Queries, due: list[Due]) -> Handled:
        """At the Auto Revoke time: return at once if HOME cannot hold a copy, else revoke and await proof."""
        items = await tx.assignments.get_many([d.ref for d in due])
        subs = await tx.subscriptions.get_many([item.subscription_id for item in items.values()])
        systems = await tx.systems.get_many([item.system_id for item in items.values()])
        changes = Changes()
        for position, d in enumerate(due):
            if changes.due_before(d.now):
                await changes.write(tx)
                return Handled(position)
            item = items.get(d.ref)
            if item is None or item.state != AssignmentState.ACTIVE or item.auto_revoke_at is None:
                continue
            if item.auto_revoke_at > d.now:
                changes.schedule(JobKind.AUTO_REVOKE, item.id, item.auto_revoke_at)
                continue
            if rules.may_return_now(item, subs[item.subscription_id], d.now):
                changes.end(item, "auto_revoked", d.now, "scheduler", "scheduler")
                continue
            system = systems[item.system_id]
            changes.await_proof(item, system.seq, "auto_revoked", d.now, "scheduler")
            if not system.online:
                changes.mark_dirty(system.id)
                continue
            await changes.write(tx)
            issued = await self.transfers.issue_if_online(tx, system, d.now, "scheduler")
            return Handled(position + 1, [issued] if issued else [])
        await changes.write(tx)
        return Handled(len(due))

    async def validity_end(self, tx: Queries, due: list[Due]) -> Handled:
        """Every copy HOME could hold has expired (plus skew): the credits come back with no proof."""
        items = await tx.assignments.get_many([d.ref for d in due])
        subs = await tx.subscriptions.get_many([item.subscription_id for item in items.values()])
        changes = Changes()
        for position, d in enumerate(due):
            if changes.due_before(d.now):
                await changes.write(tx)
                return Handled(position)
            item = items.get(d.ref)
            if item is None or item.state == AssignmentState.ENDED:
                continue
            until = rules.returns_at(item, subs[item.subscription_id])
            if until is None:
                continue
            if until > d.now:
                changes.schedule(JobKind.VALIDITY_END, item.id, until)
                continue
            reason = "expired" if item.state == AssignmentState.ACTIVE else (item.pending_reason or "revoked")
            changes.end(item, reason, d.now, "scheduler", "expiry")
            changes.mark_dirty(item.system_id)
        await changes.write(tx)
        return Handled(len(due))

    async def check_in(self, tx: Queries, due: list[Due]) -> Handled:
        """An online HOME gets a renewed copy within the last 24 hours of validity."""
        systems = await tx.systems.get_many([d.ref for d in due])
        online = [system.id for system in systems.values() if system.online]  # on reconnect, on_connect renews if due
        latest = await tx.snapshots.latest_many(online)
        changes = Changes()
        for position, d in enumerate(due):
            if changes.due_before(d.now):
                await changes.write(tx)
                return Handled(position)
            snapshot, system = latest.get(d.ref), systems.get(d.ref)
            if system is None or snapshot is None or snapshot.check_in_at is None or not system.online:
                continue
            if snapshot.check_in_at > d.now:
                changes.schedule(JobKind.CHECK_IN, d.ref, snapshot.check_in_at)
                continue
            await changes.write(tx)
            issued = await self.transfers.issue(tx, system, d.now, "check_in", "scheduler")
            log.info("check_in", system_id=d.ref, seq=issued.seq)
            return Handled(position + 1, [issued])
        await changes.write(tx)
        return Handled(len(due))
