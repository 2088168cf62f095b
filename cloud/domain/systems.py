"""Linked systems: link a HOME by its registration code, unlink it, enter a revoke key, record last seen."""

from flex_emulator.cloud.domain.models import Assignment, AssignmentState, System
from flex_emulator.cloud.domain.ownership import owned_by
from flex_emulator.cloud.domain.transfers import Transfers
from flex_emulator.cloud.link.hub import LinkHub
from flex_emulator.cloud.store import Database
from flex_emulator.shared.clock import Clock
from flex_emulator.shared.errors import ApiError, Conflict, NotFound
from flex_emulator.shared.journal import token_fields
from flex_emulator.shared.keys import raw_public
from flex_emulator.shared.tokens import verify_registration


class Systems:
    def __init__(self, db: Database, hub: LinkHub, transfers: Transfers, clock: Clock) -> None:
        self.db = db
        self.hub = hub
        self.transfers = transfers
        self.clock = clock

    async def owned(self, account_id: str, system_id: str) -> System:
        """The system, when it belongs to the account; otherwise 404 (never say whose it is)."""
        return owned_by(account_id, await self.db.read.systems.get(system_id), "system", system_id)

    async def quarters_held(self, system: System) -> int:
        """Credits (quarters) of the system's active assignments: what an online HOME holds."""
        return sum(
            item.quarters for item in await self.db.read.assignments.on_system(system.id, (AssignmentState.ACTIVE,))
        )

    async def assignment(self, system: System, assignment_id: str) -> Assignment:
        """One of the system's assignments (found through an owned system, so the account's own); 404 otherwise."""
        item = await self.db.read.assignments.get(assignment_id)
        if item is None or item.system_id != system.id:
            raise NotFound(f"There is no assignment {assignment_id} on this system.")
        return item

    async def link(self, account_id: str, code: str, label: str | None, actor: str) -> System:
        """Link a HOME system by its registration code; a system belongs to one account only."""
        registration = verify_registration(code)
        now = self.clock.now()
        name = (label or registration.label or registration.system_id)[:100]
        async with self.db.transaction() as tx:
            existing = await tx.systems.get(registration.system_id)
            if existing is not None:
                where = "this account" if existing.account_id == account_id else "another account"
                raise Conflict(f"System {registration.system_id} is already linked to {where}.", code="already_linked")
            await tx.systems.insert(registration.system_id, account_id, name, raw_public(registration.public_key), now)
            await tx.ledger.append(
                now, "system_linked", actor, account_id, system_id=registration.system_id, detail={"label": name}
            )
        system = await self.db.read.systems.get(registration.system_id)
        assert system is not None
        return system

    async def unlink(self, account_id: str, system_id: str, actor: str) -> None:
        """Forget a system that holds no credits, and close its link."""
        async with self.db.transaction() as tx:
            owned_by(account_id, await tx.systems.lock(system_id), "system", system_id)
            if await tx.assignments.on_system(system_id, (AssignmentState.ACTIVE, AssignmentState.REVOKE_PENDING)):
                raise Conflict("Revoke every assignment of this system before unlinking it.", code="system_has_credits")
            await tx.systems.delete(system_id)
            await tx.ledger.append(self.clock.now(), "system_unlinked", actor, account_id, system_id=system_id)
        await self.hub.disconnect(system_id)

    async def enter_revoke_key(self, account_id: str, system_id: str, key: str, actor: str) -> list[Assignment]:
        """HOME's proof that it dropped revoked credits, typed in by a person: the assignments it returned."""
        await self.owned(account_id, system_id)
        try:
            outcome = await self.transfers.accept_revoke_key(system_id, key, actor)
        except ApiError as exc:
            self.db.journal.note("revoke_key_refused", system_id, code=exc.code, **token_fields(key))
            raise
        return outcome.returned

    async def connected(self, system_id: str) -> None:
        """Its link is up, through this process: from now on a change to its credits is pushed at once, by
        whichever process makes it (committed before HOME is welcomed, so HOME online means the cloud knows)."""
        async with self.db.transaction() as tx:
            await tx.systems.connected(system_id, self.hub.process_id, self.clock.now())

    async def seen(self, system_id: str) -> None:
        """Record that the system was connected until now (its last seen time) and its link here is down."""
        async with self.db.transaction() as tx:
            await tx.systems.disconnected(system_id, self.hub.process_id, self.clock.now())
