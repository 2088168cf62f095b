"""A subscription's life: created (inactive or active), activated, cancelled, renewed, expired."""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog

from flex_emulator.cloud.domain import rules
from flex_emulator.cloud.domain.changes import Changes
from flex_emulator.cloud.domain.errors import AssignmentConflict
from flex_emulator.cloud.domain.ids import new_id
from flex_emulator.cloud.domain.models import (
    Assignment,
    AssignmentState,
    IssuedSnapshot,
    JobKind,
    Subscription,
    SubscriptionState,
    System,
)
from flex_emulator.cloud.domain.ownership import owned_by
from flex_emulator.cloud.domain.scheduler import Due, Handled
from flex_emulator.cloud.domain.transfers import Transfers
from flex_emulator.cloud.store import Database, Queries
from flex_emulator.cloud.store.ledger import LedgerEntry
from flex_emulator.shared.clock import Clock
from flex_emulator.shared.timefmt import iso

log = structlog.get_logger()


@dataclass(frozen=True)
class NewSubscription:
    """A subscription to make, as the emulator API asks for it."""

    duration: str
    quarters: int
    state: str
    order_id: str | None


class Subscriptions:
    def __init__(self, db: Database, transfers: Transfers, clock: Clock) -> None:
        self.db = db
        self.transfers = transfers
        self.clock = clock

    async def create(
        self, account_id: str, duration: str, quarters: int, state: str, order_id: str | None, actor: str
    ) -> Subscription:
        async with self.db.transaction() as tx:
            return await self.insert(tx, account_id, duration, quarters, state, order_id, actor, self.clock.now())

    def for_new_account(
        self, asked: Sequence[NewSubscription], made: list[Subscription], actor: str
    ) -> Callable[[Queries, str, datetime], Awaitable[None]]:
        """What ``Accounts.create(within=...)`` runs to make a new account's first subscriptions in the same
        transaction (appended to ``made``)."""

        async def insert_all(tx: Queries, account_id: str, now: datetime) -> None:
            for sub in asked:
                made.append(
                    await self.insert(tx, account_id, sub.duration, sub.quarters, sub.state, sub.order_id, actor, now)
                )

        return insert_all

    async def insert(
        self,
        tx: Queries,
        account_id: str,
        duration: str,
        quarters: int,
        state: str,
        order_id: str | None,
        actor: str,
        now: datetime,
    ) -> Subscription:
        order = order_id or await self._next_order_id(tx, now)
        active = state == SubscriptionState.ACTIVE
        sub = Subscription(
            id=new_id("sub"),
            account_id=account_id,
            order_id=order,
            duration=duration,
            quarters_total=quarters,
            quarters_available=quarters,
            state=state,
            created_at=now,
            term_start=now if active else None,
            term_end=rules.term_end(now, duration) if active else None,
            cancelled_at=None,
            activated_at=now if active else None,
        )
        await tx.subscriptions.insert(sub)
        if active:
            assert sub.term_end is not None
            await tx.jobs.schedule(JobKind.TERM_END, sub.id, sub.term_end)
        else:
            await tx.jobs.schedule(JobKind.AUTO_ACTIVATE, sub.id, now + rules.AUTO_ACTIVATE_AFTER)
        await tx.ledger.append(
            now,
            "subscription_created",
            actor,
            account_id,
            subscription_id=sub.id,
            quarters=quarters,
            detail={"order_id": order, "duration": duration, "state": state},
        )
        log.info("subscription_created", subscription_id=sub.id, order_id=order, state=state)
        return sub

    async def activate(self, account_id: str, sub_id: str, actor: str) -> Subscription:
        now = self.clock.now()
        async with self.db.transaction() as tx:
            sub = await self._owned(tx, account_id, sub_id)
            if sub.state != SubscriptionState.INACTIVE:
                raise AssignmentConflict(
                    f"Subscription {sub.order_id} is {sub.state}; only an inactive one can be activated.",
                    code="not_inactive",
                )
            changes = Changes()
            self._activate(changes, sub, now, actor)
            await changes.write(tx)
        return await self._reread(sub_id)

    async def cancel(self, account_id: str, sub_id: str, actor: str) -> Subscription:
        """Cancelled subscriptions stay usable until the end of the current term; copies are capped there."""
        async with self.db.transaction() as tx:
            sub = await self._owned(tx, account_id, sub_id)
            issued = await self.cancel_in(tx, sub, self.clock.now(), actor)
        for snapshot in issued:
            await self.transfers.push(snapshot)
        return await self._reread(sub_id)

    async def cancel_in(self, tx: Queries, sub: Subscription, now: datetime, actor: str) -> list[IssuedSnapshot | None]:
        if sub.state != SubscriptionState.ACTIVE:
            raise AssignmentConflict(
                f"Subscription {sub.order_id} is {sub.state}; only an active one can be cancelled.", code="not_active"
            )
        system_ids = sorted({item.system_id for item in await tx.assignments.open_for_subscription(sub.id)})
        await tx.systems.lock_many(system_ids)  # systems first, then the subscription: the one order of locks
        await tx.subscriptions.set_state(sub.id, SubscriptionState.CANCELLED, sub.term_start, sub.term_end, now)
        await tx.ledger.append(
            now,
            "subscription_cancelled",
            actor,
            sub.account_id,
            subscription_id=sub.id,
            detail={"usable_until": iso(sub.term_end)},
        )
        systems = await tx.systems.get_many(system_ids)
        return [
            await self.transfers.issue_if_online(tx, systems[system_id], now, actor) for system_id in sorted(systems)
        ]

    # --- scheduled (inside the scheduler's transaction; see expiry.py) ----------------------

    async def auto_activate(self, tx: Queries, due: list[Due]) -> Handled:
        subs = await tx.subscriptions.get_many([d.ref for d in due])
        changes = Changes()
        for position, d in enumerate(due):
            if changes.due_before(d.now):
                await changes.write(tx)
                return Handled(position)
            sub = subs.get(d.ref)
            if sub is not None and sub.state == SubscriptionState.INACTIVE:
                self._activate(changes, sub, d.now, "scheduler")
        await changes.write(tx)
        return Handled(len(due))

    async def term_ended(self, tx: Queries, due: list[Due]) -> Handled:
        """Renew an active subscription; expire a cancelled one and end its assignments. One whose copy on
        HOME may outlast the term (issued before the cancel, never replaced) waits for proof or its end."""
        subs = await tx.subscriptions.get_many([d.ref for d in due])
        expiring = [sub.id for sub in subs.values() if sub.state == SubscriptionState.CANCELLED]
        held = await tx.assignments.open_for_subscriptions(expiring)
        systems = await tx.systems.get_many([item.system_id for item in held])
        changes = Changes()
        for position, d in enumerate(due):
            if changes.due_before(d.now):
                await changes.write(tx)
                return Handled(position)
            sub = subs.get(d.ref)
            if (
                sub is None
                or sub.term_end is None
                or sub.state not in (SubscriptionState.ACTIVE, SubscriptionState.CANCELLED)
            ):
                continue
            if sub.term_end > d.now:
                changes.schedule(JobKind.TERM_END, sub.id, sub.term_end)
                continue
            if sub.state == SubscriptionState.ACTIVE:
                start = sub.term_end
                end = rules.next_term_end(
                    sub.activated_at or sub.term_start or sub.term_end, sub.duration, sub.term_end
                )
                changes.set_state(sub.id, "active", start, end, None)
                changes.schedule(JobKind.TERM_END, sub.id, end)
                changes.record(
                    LedgerEntry(
                        at=d.now,
                        kind="subscription_renewed",
                        actor="scheduler",
                        account_id=sub.account_id,
                        subscription_id=sub.id,
                        detail={"term_end": iso(end)},
                    )
                )
                continue
            issued = await self._expire(
                tx, changes, sub, [item for item in held if item.subscription_id == sub.id], systems, d.now
            )
            if issued:
                return Handled(position + 1, issued)
        await changes.write(tx)
        return Handled(len(due))

    async def _expire(
        self,
        tx: Queries,
        changes: Changes,
        sub: Subscription,
        held: list[Assignment],
        systems: dict[str, System],
        now: datetime,
    ) -> list[IssuedSnapshot]:
        """A cancelled subscription's last term ended: credits no copy outlasts come back now, the others on proof."""
        changes.set_state(sub.id, "expired", sub.term_start, sub.term_end, sub.cancelled_at)
        changes.record(
            LedgerEntry(
                at=now,
                kind="subscription_expired",
                actor="scheduler",
                account_id=sub.account_id,
                subscription_id=sub.id,
            )
        )
        for item in held:
            if rules.may_return_now(item, sub, now):  # at the term end this covers every copy that ends with the term
                changes.end(item, "subscription_ended", now, "scheduler", "scheduler")
            elif item.state == AssignmentState.ACTIVE:
                changes.await_proof(item, systems[item.system_id].seq, "subscription_ended", now, "scheduler")
        touched = sorted({item.system_id for item in held})
        online = [system_id for system_id in touched if systems[system_id].online]
        for system_id in touched:
            if system_id not in online:
                changes.mark_dirty(system_id)
        log.info("subscription_expired", subscription_id=sub.id, systems=len(touched))
        if not online:
            return []
        await changes.write(tx)
        fresh = await tx.systems.get_many(online)
        return [await self.transfers.issue(tx, fresh[system_id], now, "link", "scheduler") for system_id in online]

    # --- helpers ---------------------------------------------------------------------------------

    def _activate(self, changes: Changes, sub: Subscription, now: datetime, actor: str) -> None:
        end = rules.term_end(now, sub.duration)
        changes.set_state(sub.id, "active", now, end, None)
        changes.unschedule(JobKind.AUTO_ACTIVATE, sub.id)
        changes.schedule(JobKind.TERM_END, sub.id, end)
        changes.record(
            LedgerEntry(
                at=now,
                kind="subscription_activated",
                actor=actor,
                account_id=sub.account_id,
                subscription_id=sub.id,
                detail={"term_end": iso(end)},
            )
        )
        log.info("subscription_activated", subscription_id=sub.id, actor=actor)

    async def _owned(self, tx: Queries, account_id: str, sub_id: str) -> Subscription:
        return owned_by(account_id, await tx.subscriptions.get(sub_id), "subscription", sub_id)

    async def owned(self, account_id: str, sub_id: str) -> Subscription:
        """The subscription, when it belongs to the account; otherwise 404."""
        return owned_by(account_id, await self.db.read.subscriptions.get(sub_id), "subscription", sub_id)

    async def _reread(self, sub_id: str) -> Subscription:
        sub = await self.db.read.subscriptions.get(sub_id)
        assert sub is not None
        return sub

    async def _next_order_id(self, tx: Queries, now: datetime) -> str:
        number = int(await tx.meta.get("order_counter") or "0") + 1
        await tx.meta.set("order_counter", str(number))
        return f"SO-{now.year}-{number:05d}"
