"""What a piece of work decided, gathered in memory and written in a fixed number of statements.

Services decide item by item with the rules in ``rules.py`` and record each outcome here; ``write``
then stores them all at once (one statement per kind of change, whatever the number of items). Ledger
entries keep the order in which they were decided."""

import functools
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from flex_emulator.cloud.domain.models import Assignment, AssignmentState
from flex_emulator.cloud.store import Queries
from flex_emulator.cloud.store.ledger import LedgerEntry

log = structlog.get_logger()

LOGGED_ONE_BY_ONE = 20  # more returns than this in one write are logged as one line


@functools.cache
def _returned_detail(reason: str, via: str) -> str:
    return json.dumps({"reason": reason, "via": via})


@dataclass
class Changes:
    ended: dict[str, tuple[Assignment, str, datetime, str]] = field(default_factory=dict)
    pending: list[tuple[str, int, str]] = field(default_factory=list)
    given_back: Counter[str] = field(default_factory=Counter)
    unscheduled: list[tuple[str, str]] = field(default_factory=list)
    scheduled: list[tuple[str, str, datetime]] = field(default_factory=list)
    dirty: set[str] = field(default_factory=set)
    states: list[tuple[str, str, datetime | None, datetime | None, datetime | None]] = field(default_factory=list)
    ledger: list[LedgerEntry] = field(default_factory=list)
    first_due: datetime | None = None

    def end(self, item: Assignment, reason: str, at: datetime, actor: str, via: str) -> None:
        """End an open assignment and give its credits back to the original subscription, exactly once."""
        if item.id in self.ended or item.state == AssignmentState.ENDED:
            raise ValueError(f"assignment {item.id} is already ended")
        self.ended[item.id] = (item, reason, at, via)
        self.given_back[item.subscription_id] += item.quarters
        self.unscheduled += [("auto_revoke", item.id), ("validity_end", item.id)]
        self.ledger.append(
            LedgerEntry(
                at=at,
                kind="returned",
                actor=actor,
                account_id=item.account_id,
                subscription_id=item.subscription_id,
                system_id=item.system_id,
                assignment_id=item.id,
                quarters=item.quarters,
                detail=_returned_detail(reason, via),
            )
        )

    def await_proof(self, item: Assignment, after_seq: int, reason: str, at: datetime, actor: str) -> None:
        """HOME may still hold the credits: they come back with its proof (a receipt or revoke key) or when
        its copy ends. The request is in the ledger (the history and the inspector show it at its moment)."""
        self.pending.append((item.id, after_seq, reason))
        detail: dict[str, object] = {"after_seq": after_seq} | ({} if reason == "revoked" else {"reason": reason})
        self.ledger.append(
            LedgerEntry(
                at=at,
                kind="revoke_requested",
                actor=actor,
                account_id=item.account_id,
                subscription_id=item.subscription_id,
                system_id=item.system_id,
                assignment_id=item.id,
                quarters=item.quarters,
                detail=detail,
            )
        )

    def schedule(self, kind: str, ref: str, due_at: datetime) -> None:
        self.scheduled.append((kind, ref, due_at))
        if self.first_due is None or due_at < self.first_due:
            self.first_due = due_at

    def due_before(self, moment: datetime) -> bool:
        """Whether something scheduled here falls due before ``moment``: a run of due items stops there, so
        the scheduler runs that first (items run in due order, whatever batch they share)."""
        return self.first_due is not None and self.first_due < moment

    def unschedule(self, kind: str, ref: str) -> None:
        self.unscheduled.append((kind, ref))

    def mark_dirty(self, system_id: str) -> None:
        self.dirty.add(system_id)

    def set_state(
        self,
        sub_id: str,
        state: str,
        term_start: datetime | None,
        term_end: datetime | None,
        cancelled_at: datetime | None,
    ) -> None:
        self.states.append((sub_id, state, term_start, term_end, cancelled_at))

    def record(self, entry: LedgerEntry) -> None:
        self.ledger.append(entry)

    async def write(self, tx: Queries) -> list[Assignment]:
        """Store everything gathered (then start empty again); returns the assignments ended."""
        ended = [item for item, _, _, _ in self.ended.values()]
        if self.ended:
            changed = await tx.assignments.end([(item.id, reason, at) for item, reason, at, _ in self.ended.values()])
            if changed != len(self.ended):  # one had ended meanwhile: roll back rather than return it twice
                raise RuntimeError(
                    f"{len(self.ended) - changed} of {len(self.ended)} assignments to end had already ended"
                )
            await tx.subscriptions.give_back_quarters(dict(self.given_back))
        if self.pending:
            await tx.assignments.set_revoke_pending(self.pending)
        if self.states:
            await tx.subscriptions.set_states(self.states)
        await tx.jobs.unschedule_many(self.unscheduled)
        await tx.jobs.schedule_many(self.scheduled)
        if self.dirty:
            await tx.systems.mark_dirty(sorted(self.dirty))
        if self.ledger:
            await tx.ledger.append_many(self.ledger)
        self._log_returns()
        self.clear()
        return ended

    def clear(self) -> None:
        fresh = Changes()
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(fresh, name))

    def _log_returns(self) -> None:
        if len(self.ended) > LOGGED_ONE_BY_ONE:
            log.info("credits_returned", assignments=len(self.ended), quarters=sum(self.given_back.values()))
            return
        for item, reason, _, via in self.ended.values():
            log.info(
                "credits_returned",
                assignment_id=item.id,
                system_id=item.system_id,
                quarters=item.quarters,
                reason=reason,
                via=via,
            )
