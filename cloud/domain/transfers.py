"""Moving credits: assign, revoke, issue snapshots, accept receipts. Every path that returns credits
goes through ``_end`` and every path that issues a snapshot through ``issue``, inside one transaction."""

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

import structlog

from flex_emulator.cloud.domain import rules
from flex_emulator.cloud.domain.changes import Changes
from flex_emulator.cloud.domain.errors import AssignmentConflict
from flex_emulator.cloud.domain.models import Assignment, AssignmentState, IssuedSnapshot, Subscription, System
from flex_emulator.cloud.domain.ownership import owned_by
from flex_emulator.cloud.domain.signer import Signer
from flex_emulator.cloud.link.hub import LinkHub
from flex_emulator.cloud.store import Database, Queries
from flex_emulator.cloud.store.ledger import LedgerEntry
from flex_emulator.cloud.store.transfers import SnapshotRecord
from flex_emulator.shared.clock import Clock
from flex_emulator.shared.errors import BadRequest, Conflict, NotFound, TokenError
from flex_emulator.shared.journal import token_fields
from flex_emulator.shared.keys import public_from_raw
from flex_emulator.shared.quarters import format_credits
from flex_emulator.shared.snapshot_claims import MAX_ACTIVE_ASSIGNMENTS, SnapshotEntry
from flex_emulator.shared.timefmt import epoch, from_epoch, iso
from flex_emulator.shared.tokens import COPY_VALIDITY, SKEW_TOLERANCE, Snapshot, new_jti, verify_receipt

log = structlog.get_logger()


class ReceiptSource(StrEnum):
    """How a receipt reached the cloud (recorded as the ledger's ``via``)."""

    LINK = "link"
    REVOKE_KEY = "revoke_key"


@dataclass(frozen=True)
class Assigned:
    """A new assignment as its assign stored it, and the subscription it came from."""

    assignment: Assignment
    subscription: Subscription


@dataclass(frozen=True)
class ReceiptOutcome:
    seq: int
    returned: list[Assignment]


class Transfers:
    def __init__(self, db: Database, signer: Signer, hub: LinkHub, clock: Clock, ack_wait_seconds: float) -> None:
        self.db = db
        self.signer = signer
        self.hub = hub
        self.clock = clock
        self.ack_wait_seconds = ack_wait_seconds

    # --- snapshots ------------------------------------------------------------------------

    async def issue(
        self, tx: Queries, system: System, now: datetime, via: str, actor: str, floor_seq: int = 0
    ) -> IssuedSnapshot:
        """Sign the system's complete current set of assignments as the next ``seq`` and record it
        (a fixed number of statements, whatever the number of assignments)."""
        held = await tx.transfers.held_on(system.id)
        record = self.snapshot_of(system, held.items, held.subscriptions, now, via, actor, floor_seq)
        await tx.transfers.record_snapshot(record)
        return record.issued

    def snapshot_of(
        self,
        system: System,
        items: list[Assignment],
        subs: dict[str, Subscription],
        now: datetime,
        via: str,
        actor: str,
        floor_seq: int = 0,
    ) -> SnapshotRecord:
        """The next snapshot of ``system``, signed, holding ``items`` (its active assignments, in order), and what
        issuing it writes."""
        entries: list[SnapshotEntry] = []
        validity: list[tuple[datetime, datetime | None]] = []
        delivered: list[tuple[str, datetime]] = []
        ends: list[tuple[str, datetime]] = []
        for item in items:
            sub = subs[item.subscription_id]
            cap = rules.validity_cap(sub, item.auto_revoke_at)
            until = rules.copy_valid_until(now, cap)
            if until <= now:
                continue  # its end is due now; the scheduler returns it
            entries.append(
                SnapshotEntry(
                    item.id, item.quarters, item.assigned_at, until, cap, sub.id, sub.order_id, sub.duration, sub.state
                )
            )
            validity.append((until, cap))
            delivered.append((item.id, until))
            ends.append((item.id, max(until, item.valid_until or until) + SKEW_TOLERANCE))
        seq = max(system.seq, system.acked_seq, floor_seq) + 1
        snapshot = Snapshot(system.id, seq, now, now + COPY_VALIDITY, new_jti(), system.account_id, tuple(entries))
        issued = IssuedSnapshot(
            system_id=system.id,
            seq=seq,
            issued_at=now,
            expires_at=snapshot.expires_at,
            check_in_at=rules.check_in_at(validity),
            token=self.signer.snapshot(snapshot),
        )
        entry = LedgerEntry(
            at=now,
            kind="snapshot_issued",
            actor=actor,
            account_id=system.account_id,
            system_id=system.id,
            detail={"seq": seq, "via": via, "assignments": [entry.assignment_id for entry in entries]},
        )
        log.info("snapshot_issued", system_id=system.id, seq=seq, via=via, assignments=len(entries))
        return SnapshotRecord(issued, delivered, ends, entry)

    async def issue_if_online(
        self, tx: Queries, system: System, now: datetime, actor: str, *, locked: bool = False
    ) -> IssuedSnapshot | None:
        """After a change to a system's credits: issue at once if it is online, else mark it to be issued when
        it connects. ``locked``: ``system`` was read with its row locked in this transaction (so it is current)."""
        fresh = system if locked else await tx.systems.lock(system.id)
        assert fresh is not None
        if fresh.online:
            return await self.issue(tx, fresh, now, "link", actor)
        await tx.systems.mark_dirty([system.id])
        return None

    async def push(self, issued: IssuedSnapshot | None, wait: bool = False) -> bool:
        """Send an issued snapshot (after commit); with ``wait``, until HOME's receipt is back."""
        if issued is None or not await self.hub.push_snapshot(issued.system_id, issued.token, issued.seq):
            return False
        if wait:
            return await self.hub.wait_for_ack(issued.system_id, issued.seq, self.ack_wait_seconds)
        return True

    # --- returning credits ----------------------------------------------------------------------

    async def end(self, tx: Queries, item: Assignment, reason: str, now: datetime, actor: str, via: str) -> None:
        """End one open assignment and give its credits back to the original subscription, exactly once."""
        changes = Changes()
        changes.end(item, reason, now, actor, via)
        await changes.write(tx)

    # --- user actions -----------------------------------------------------------------------------

    async def assign(
        self,
        account_id: str,
        system_id: str,
        subscription_id: str,
        quarters: int,
        auto_revoke_at: datetime | None,
        actor: str,
    ) -> Assigned:
        now = self.clock.now()
        if auto_revoke_at is not None:
            # Kept to the second, as it is stored: 0.4 s past now would be kept as now itself.
            auto_revoke_at = from_epoch(epoch(auto_revoke_at))
        if auto_revoke_at is not None and epoch(auto_revoke_at) <= epoch(now):
            raise AssignmentConflict(
                "The Auto Revoke time must be in the future.", code="auto_revoke_in_past", status=400
            )
        async with self.db.transaction() as tx:
            system = await self._system(tx, account_id, system_id)
            # Online, the snapshot holds every active assignment: one read gives those, their subscriptions and the
            # one to take from; offline, their count and that subscription.
            held = await tx.transfers.held_on(system.id, subscription_id, listed=system.online)
            if held.count >= MAX_ACTIVE_ASSIGNMENTS:
                raise AssignmentConflict(
                    f"{system.label} already holds {MAX_ACTIVE_ASSIGNMENTS:,} active assignments, the most one system "
                    "can hold: revoke some before you assign more.",
                    code="too_many_assignments",
                )
            sub = owned_by(account_id, held.subscriptions.get(subscription_id), "subscription", subscription_id)
            if not rules.is_selectable(sub, now):
                raise AssignmentConflict(
                    f"Subscription {sub.order_id} is {sub.state}; credits can only come from an active subscription.",
                    code="subscription_not_selectable",
                )
            if sub.quarters_available < quarters:  # as read: the guarded take below is what decides
                raise self._insufficient(sub.order_id, sub.quarters_available)
            item = Assignment.new(
                account_id=account_id,
                system_id=system.id,
                subscription_id=sub.id,
                quarters=quarters,
                assigned_at=now,
                auto_revoke_at=auto_revoke_at,
            )
            assigned = LedgerEntry(
                at=now,
                kind="assigned",
                actor=actor,
                account_id=account_id,
                subscription_id=sub.id,
                system_id=system.id,
                assignment_id=item.id,
                quarters=quarters,
                detail={"auto_revoke_at": iso(auto_revoke_at)},
            )
            record = None
            if system.online:  # the row is locked: it stays online or offline until the commit
                items = sorted([*held.items, item], key=lambda each: (each.assigned_at, each.id))
                record = self.snapshot_of(system, items, held.subscriptions, now, "link", actor)
            # The credits are taken last: on PostgreSQL the subscription's row stays locked from there to the commit,
            # and every assign from it waits for that lock (concurrent ones would otherwise wait for the whole
            # transaction). Without them, nothing of this is kept.
            if not await tx.transfers.record_assign(item, assigned, auto_revoke_at, record):
                fresh = await tx.subscriptions.get(sub.id)
                raise self._insufficient(sub.order_id, fresh.quarters_available if fresh else 0)
        log.info(
            "credits_assigned", assignment_id=item.id, system_id=system.id, subscription_id=sub.id, quarters=quarters
        )
        issued = record.issued if record is not None else None
        await self.push(issued)
        # The assignment as this transaction stored it (delivered by its snapshot when online): no read after commit.
        until = dict(record.delivered).get(item.id) if record is not None else None
        if until is not None:
            item = replace(item, downloaded=True, valid_until=until)
        return Assigned(item, sub)

    async def revoke(
        self, account_id: str, system_id: str, assignment_id: str, actor: str, confirm: object
    ) -> Assignment:
        """Revoke, once the person typed the confirmation word; ended at once when HOME provably cannot use the
        credits, otherwise ``revoke_pending`` until a receipt proves it or the copy's validity ends."""
        if not rules.revoke_confirmed(confirm):
            raise BadRequest(
                "Type the word confirm (exactly, in small letters) to revoke.", code="confirmation_required"
            )
        now = self.clock.now()
        async with self.db.transaction() as tx:
            system = await self._system(tx, account_id, system_id)
            item = await tx.assignments.get(assignment_id)
            if item is None or item.system_id != system.id:
                raise NotFound(f"There is no assignment {assignment_id} on this system.")
            if item.state == AssignmentState.ENDED:
                raise AssignmentConflict("This assignment has already ended.", code="already_ended")
            sub = await tx.subscriptions.get(item.subscription_id)
            assert sub is not None
            issued = None
            if item.state == AssignmentState.ACTIVE and rules.may_return_now(item, sub, now):
                await self.end(tx, item, "revoked", now, actor, "portal")
            elif item.state == AssignmentState.ACTIVE:
                changes = Changes()
                changes.await_proof(item, system.seq, "revoked", now, actor)
                await changes.write(tx)
                issued = await self.issue_if_online(tx, system, now, actor, locked=True)
        await self.push(issued, wait=True)
        return await self._reread(assignment_id)

    async def download(self, account_id: str, system_id: str, actor: str) -> tuple[System, IssuedSnapshot]:
        now = self.clock.now()
        async with self.db.transaction() as tx:
            system = await self._system(tx, account_id, system_id)
            issued = await self.issue(tx, system, now, "file", actor)
            self.db.journal.note("file_downloaded", system.id, seq=issued.seq, **token_fields(issued.token))
        await self.push(issued)
        return system, issued

    # --- receipts (link acknowledgement or pasted revoke key) ----------------------------------------

    async def accept_link_receipt(self, system_id: str, token: object) -> ReceiptOutcome:
        """HOME's receipt over the link: it proves what HOME holds, and completes each revoke it proves in the
        name of the person who asked for it."""
        return await self._accept_receipt(system_id, token, ReceiptSource.LINK, f"system:{system_id}")

    async def accept_revoke_key(self, system_id: str, revoke_key: object, actor: str) -> ReceiptOutcome:
        """A revoke key a person copied from HOME into the portal: the same proof, carried by hand. A key made
        before the revoke it should prove is refused; the same key twice returns nothing more."""
        return await self._accept_receipt(system_id, revoke_key, ReceiptSource.REVOKE_KEY, actor)

    async def _accept_receipt(self, system_id: str, token: object, via: ReceiptSource, actor: str) -> ReceiptOutcome:
        system = await self.db.read.systems.get(system_id)
        if system is None:
            raise NotFound(f"There is no system {system_id}.")
        receipt = verify_receipt(token, system_id, public_from_raw(system.public_key))
        now = self.clock.now()
        async with self.db.transaction() as tx:
            current = await tx.systems.lock(system_id)
            assert current is not None
            if receipt.seq > current.seq:
                raise TokenError("bad_revoke_key", "This revoke key refers to a credits file the cloud never issued.")
            # No touch_system: a pasted key is a person's doing, not contact from HOME (the link records its own).
            await tx.systems.record_ack(system_id, receipt.seq)
            if receipt.in_use is not None:
                await tx.systems.record_home_usage(system_id, receipt.in_use, receipt.issued_at)
            if receipt.seq == current.seq:
                await tx.assignments.home_holds_latest_copy(system_id)
            pending = await tx.assignments.on_system(system_id, (AssignmentState.REVOKE_PENDING,))
            proven = [item for item in pending if rules.receipt_proves_dropped(item, receipt.seq, receipt.held)]
            repeated = via == ReceiptSource.REVOKE_KEY and await tx.ledger.revoke_key_entered_before(receipt.jti)
            if via == ReceiptSource.REVOKE_KEY and pending and not proven and not repeated:
                raise AssignmentConflict(
                    "This revoke key was made before the revoke: download the latest credits file, upload it into "
                    "HOME, and copy the revoke key HOME shows then.",
                    code="revoke_key_outdated",
                )
            # HOME's receipt over the link only completes a person's revoke: the history names that person
            requesters = (
                await tx.ledger.revoke_requesters([item.id for item in proven]) if via == ReceiptSource.LINK else {}
            )
            changes = Changes()
            for item in proven:
                reason = item.pending_reason or "revoked"
                by = (requesters.get(item.id) or actor) if reason == "revoked" else actor
                changes.end(item, reason, now, by, via)
            # Noted before the returns it causes (and committed with them): the inspector shows the proof first.
            kept = token_fields(token) if isinstance(token, str) else {}  # it is: it verified
            self.db.journal.note(
                "receipt_accepted", system_id, seq=receipt.seq, via=via, returned=[i.id for i in proven], **kept
            )
            returned = await changes.write(tx)
            if via == ReceiptSource.REVOKE_KEY and (returned or not repeated):
                await tx.ledger.record_revoke_key(receipt.jti, system_id, receipt.seq, now)
                await tx.ledger.append(
                    now,
                    "revoke_key_entered",
                    actor,
                    system.account_id,
                    system_id=system_id,
                    quarters=sum(item.quarters for item in returned),
                    detail={"seq": receipt.seq, "returned": [item.id for item in returned]},
                )
        await self.hub.acknowledged(system_id, receipt.seq)
        log.info("receipt_accepted", system_id=system_id, seq=receipt.seq, via=via, returned=len(returned))
        return ReceiptOutcome(receipt.seq, returned)

    async def on_connect(self, system_id: str, home_seq: int, receipt: str | None) -> None:
        """A HOME (re)connected: take its last receipt, then send a snapshot if it is behind or due one."""
        if receipt is not None:
            try:
                await self.accept_link_receipt(system_id, receipt)
            except (TokenError, Conflict, NotFound) as exc:
                log.warning("receipt_refused", system_id=system_id, error=str(exc))
        now = self.clock.now()
        issued = None
        async with self.db.transaction() as tx:
            system = await tx.systems.lock(system_id)
            if system is None:
                return
            await tx.systems.touch(system_id, now)
            latest = await tx.snapshots.latest(system_id)
            check_in_due = latest is not None and latest.check_in_at is not None and latest.check_in_at <= now
            if home_seq > system.seq:
                log.warning("home_ahead_of_cloud", system_id=system_id, home_seq=home_seq, cloud_seq=system.seq)
            if system.dirty or home_seq != system.seq or check_in_due:
                issued = await self.issue(tx, system, now, "link", f"system:{system_id}", floor_seq=home_seq)
        await self.push(issued)

    # --- helpers -------------------------------------------------------------------------------------

    def _insufficient(self, order_id: str, available: int) -> AssignmentConflict:
        return AssignmentConflict(
            f"Subscription {order_id} has only {format_credits(available)} credits available.",
            code="insufficient_credits",
        )

    async def _system(self, tx: Queries, account_id: str, system_id: str) -> System:
        """The account's system, its row locked first (see ``SystemQueries.lock``)."""
        return owned_by(account_id, await tx.systems.lock(system_id), "system", system_id)

    async def _reread(self, assignment_id: str) -> Assignment:
        item = await self.db.read.assignments.get(assignment_id)
        assert item is not None
        return item
