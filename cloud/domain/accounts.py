"""Accounts and their people: sign-in and sign-out, members and roles, invitations, new accounts.

Joining an account needs the user's consent: an admin invites an email, and its user accepts
the invitation when signed in. Inviting answers the same whether or not the email has a user,
so an outsider cannot use it to learn who is registered.

Whose password reaches what: a user's own password reaches every account they belong to. A password an
admin chose with an invitation (for an email without a password of its own) belongs to that admin's
account: signed in with it, a session sees, accepts and reaches that account alone, so the admin who
chose it, who knows it too, gains nothing anywhere else. Each inviting account may choose its own.
"""

import asyncio
import string
from collections.abc import Awaitable, Callable
from datetime import datetime

from flex_emulator.cloud.domain import rules
from flex_emulator.cloud.domain.ids import new_id
from flex_emulator.cloud.domain.models import Invitation, Member, Membership, User
from flex_emulator.cloud.domain.ownership import owned_by
from flex_emulator.cloud.domain.passwords import hash_password, new_token, token_digest, verify_password
from flex_emulator.cloud.store import Database, Queries
from flex_emulator.shared.clock import Clock
from flex_emulator.shared.errors import BadRequest, Conflict, NotFound, Unauthorized

UNKNOWN_USER_HASH = hash_password(new_token())
NO_OWN_PASSWORD = ""  # a login made through an invitation: verify_password matches nothing against it
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def normal_email(email: str) -> str:
    """An email in its one stored form: trimmed, its letters A-Z lower-case. Emails match whatever the case of
    those letters (sign-in, new accounts, members, invitations alike); other characters match as written, as
    SQLite, PostgreSQL and the migration that lower-cased older rows all read them the same way."""
    return email.strip().translate(_ASCII_LOWER)


class Accounts:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def sign_in(self, email: str, password: str) -> tuple[str, list[Membership]]:
        """Check the password and open a session: the session token and the accounts it reaches."""
        user = await self.db.read.users.by_email(normal_email(email))
        # scrypt takes tens of milliseconds: off the event loop, and as long for an unknown email as for a known one
        stored = user.password_hash if user is not None and user.password_hash else UNKNOWN_USER_HASH
        own = await asyncio.to_thread(verify_password, password, stored)
        reaches = None if own or user is None else await self._chosen_by(user, password)
        if user is None or not (own or reaches):
            raise Unauthorized("The email or password is not right.", code="bad_credentials")
        token = new_token()
        async with self.db.transaction() as tx:
            await tx.users.start_session(token_digest(token), user.id, self.clock.now(), reaches)
        return token, await self.memberships(User(user.id, user.email, user.password_hash, reaches))

    async def _chosen_by(self, user: User, password: str) -> frozenset[str]:
        """The accounts that chose ``password`` for this login (when two chose the same one, both know it)."""
        chosen = await self.db.read.users.account_passwords(user.id)
        return frozenset(
            [account_id for account_id, stored in chosen if await asyncio.to_thread(verify_password, password, stored)]
        )

    async def signed_in(self, token: str) -> tuple[User, list[Membership]] | None:
        """The user of a session token and the accounts the session reaches (None: no such session)."""
        found = await self.db.read.users.signed_in(token_digest(token))
        if found is None:
            return None
        user, memberships = found
        return user, [item for item in memberships if user.may_reach(item.account_id)]

    async def memberships(self, user: User) -> list[Membership]:
        """The accounts of ``user`` that the session in hand reaches."""
        return [item for item in await self.db.read.users.memberships(user.id) if user.may_reach(item.account_id)]

    async def sign_out(self, token: str) -> None:
        async with self.db.transaction() as tx:
            await tx.users.end_session(token_digest(token))

    async def create(
        self,
        name: str,
        admin_email: str,
        admin_password: object,
        *,
        cheap_hash: bool = False,
        within: Callable[[Queries, str, datetime], Awaitable[object]] | None = None,
    ) -> tuple[str, str]:
        """A new account with its first admin, signed in, all or nothing: the account id and the admin's token.
        An email that has a login already is its user only with that login's own password. ``within(tx,
        account_id, now)`` adds to the same transaction (the account's first subscriptions, say)."""
        account_id, now, token = new_id("acc"), self.clock.now(), new_token()
        admin_email = normal_email(admin_email)
        existing = await self.db.read.users.by_email(admin_email)
        if existing is not None and not (
            isinstance(admin_password, str)
            and existing.password_hash
            and await asyncio.to_thread(verify_password, admin_password, existing.password_hash)
        ):
            raise Conflict(
                f"{admin_email} already has a login: give its own password to make it the admin of another account.",
                code="email_taken",
            )
        async with self.db.transaction() as tx:
            await tx.accounts.create(account_id, name, now)
            user_id = await add_member_in(
                tx, account_id, admin_email, admin_password, "admin", now, cheap_hash=cheap_hash
            )
            await tx.users.start_session(token_digest(token), user_id, now)
            if within is not None:
                await within(tx, account_id, now)
        return account_id, token

    async def add_member(
        self, account_id: str, email: str, password: object, role: str, *, cheap_hash: bool = False
    ) -> None:
        """Make ``email`` a member with ``role``, creating the user when new (then a password is needed)."""
        async with self.db.transaction() as tx:
            await add_member_in(tx, account_id, email, password, role, self.clock.now(), cheap_hash=cheap_hash)

    async def invite(self, account_id: str, email: str, password: object, role: str, invited_by: str) -> Invitation:
        """Invite ``email`` with ``role``. A password is this account's for that email's login, made when new (so a
        new colleague can sign in and accept), and reaches this account only; for a user with a password of their
        own it is ignored (they accept while signed in with theirs). Either way the same answer."""
        email = normal_email(email)
        check_member_fields(email, password, role)
        # Hash whether or not it is used: the answer takes as long for a registered email as for a new one.
        hashed = await asyncio.to_thread(hash_password, password) if isinstance(password, str) else None
        now = self.clock.now()
        async with self.db.transaction() as tx:
            if email in {item.email for item in await tx.accounts.members(account_id)}:
                raise Conflict(f"{email} is already a member of this account.", code="already_member")
            user = await tx.users.by_email(email)
            if hashed is not None and user is None:
                user = await tx.users.create(new_id("usr"), email, NO_OWN_PASSWORD, now)
            if hashed is not None and user is not None and not user.password_hash:
                await tx.users.set_account_password(user.id, account_id, hashed, now)
            invitation_id = await tx.accounts.invite(new_id("inv"), account_id, email, role, invited_by, now)
        invitation = await self.db.read.accounts.invitation(invitation_id)
        assert invitation is not None
        return invitation

    async def invitations_for(self, user: User) -> list[Invitation]:
        """The open invitations to ``user``'s email from the accounts the session in hand reaches."""
        invitations = await self.db.read.accounts.invitations_for(user.email)
        return [item for item in invitations if user.may_reach(item.account_id)]

    async def _open_invitation(self, tx: Queries, user: User, invitation_id: str) -> Invitation:
        invitation = await tx.accounts.invitation(invitation_id)
        if invitation is None or invitation.email != user.email or not user.may_reach(invitation.account_id):
            raise NotFound(f"There is no invitation {invitation_id} for you.")
        return invitation

    async def accept(self, user: User, invitation_id: str) -> Membership:
        """The signed-in ``user`` joins the account that invited them, with the role offered."""
        async with self.db.transaction() as tx:
            invitation = await self._open_invitation(tx, user, invitation_id)
            await tx.accounts.add_member(invitation.account_id, user.id, invitation.role)
            await tx.accounts.drop_invitation(invitation.id)
        return Membership(invitation.account_id, invitation.account_name, invitation.role)

    async def decline(self, user: User, invitation_id: str) -> None:
        async with self.db.transaction() as tx:
            invitation = await self._open_invitation(tx, user, invitation_id)
            await tx.accounts.drop_invitation(invitation.id)

    async def withdraw(self, account_id: str, invitation_id: str) -> Invitation:
        """An admin takes back an invitation the user has not answered yet."""
        async with self.db.transaction() as tx:
            invitation = owned_by(account_id, await tx.accounts.invitation(invitation_id), "invitation", invitation_id)
            await tx.accounts.drop_invitation(invitation.id)
        return invitation

    async def member(self, account_id: str, user_id: str) -> Member:
        """A member of the account; 404 for anyone else."""
        for item in await self.db.read.accounts.members(account_id):
            if item.user_id == user_id:
                return item
        raise NotFound(f"There is no user {user_id} in this account.")

    async def remove_member(self, account_id: str, user_id: str) -> None:
        """Take a user out of the account; the last admin stays."""
        async with self.db.transaction() as tx:
            members = await tx.accounts.members(account_id)
            if user_id not in {item.user_id for item in members}:
                raise NotFound(f"There is no user {user_id} in this account.")
            admins = [item for item in members if item.role == "admin"]
            if [item.user_id for item in admins] == [user_id]:
                raise Conflict("An account keeps at least one admin.", code="last_admin")
            await tx.accounts.remove_member(account_id, user_id)


async def add_member_in(
    tx: Queries, account_id: str, email: str, password: object, role: str, now: datetime, *, cheap_hash: bool = False
) -> str:
    """``add_member`` inside a caller's transaction: a refusal raises, so the caller's writes roll back too.
    Returns the user's id; ``cheap_hash`` is for users the emulator API makes in test worlds (see passwords.py).
    Only the emulator's control routes add members directly; people are invited (``Accounts.invite``)."""
    if role not in rules.ROLES:
        raise BadRequest("The role must be 'admin' or 'operator'.", code="invalid_role")
    email = normal_email(email)
    if "@" not in email:
        raise BadRequest("That is not an email address.", code="invalid_email")
    if password is not None and not isinstance(password, str):
        raise BadRequest("The field 'password' must be text.", code="wrong_type")
    user = await tx.users.by_email(email)
    if user is None:
        if not password or len(password) < 8:
            raise BadRequest("A new user needs a password of at least 8 characters.", code="invalid_password")
        hashed = hash_password(password, cheap=True) if cheap_hash else await asyncio.to_thread(hash_password, password)
        user = await tx.users.create(new_id("usr"), email, hashed, now)
    await tx.accounts.add_member(account_id, user.id, role)
    return user.id


def check_member_fields(email: str, password: object, role: str) -> None:
    """What an invitation needs, checked before the email is looked up (so a refusal says nothing about it)."""
    if role not in rules.ROLES:
        raise BadRequest("The role must be 'admin' or 'operator'.", code="invalid_role")
    if "@" not in email or len(email) > 320:
        raise BadRequest("That is not an email address.", code="invalid_email")
    if password is not None and not isinstance(password, str):
        raise BadRequest("The field 'password' must be text.", code="wrong_type")
    if isinstance(password, str) and not 8 <= len(password) <= 1024:
        raise BadRequest("A password has at least 8 characters.", code="invalid_password")
