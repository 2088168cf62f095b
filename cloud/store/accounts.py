"""SQL for accounts, their members, users and sign-in sessions."""

from datetime import datetime

from flex_emulator.cloud.domain.models import Account, Invitation, Member, Membership, User
from flex_emulator.shared.sql import Dialect, Row, Sql
from flex_emulator.shared.timefmt import epoch, from_epoch

_INVITATIONS = (
    "SELECT i.id, i.account_id, a.name AS account_name, i.email, i.role, i.invited_by, i.created_at "
    "FROM invitations i JOIN accounts a ON a.id = i.account_id "
)


def _invitation(row: Row) -> Invitation:
    return Invitation(
        row["id"],
        row["account_id"],
        row["account_name"],
        row["email"],
        row["role"],
        row["invited_by"],
        from_epoch(row["created_at"]),
    )


class AccountQueries:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def create(self, account_id: str, name: str, now: datetime) -> Account:
        await self._sql.run(
            "INSERT INTO accounts (id, name, created_at) VALUES (?, ?, ?)", (account_id, name, epoch(now))
        )
        return Account(account_id, name)

    async def get(self, account_id: str) -> Account | None:
        row = await self._sql.one("SELECT id, name FROM accounts WHERE id = ?", (account_id,))
        return None if row is None else Account(row["id"], row["name"])

    async def add_member(self, account_id: str, user_id: str, role: str) -> None:
        await self._sql.run(
            "INSERT INTO memberships (account_id, user_id, role) VALUES (?, ?, ?) "
            "ON CONFLICT(account_id, user_id) DO UPDATE SET role = excluded.role",
            (account_id, user_id, role),
        )

    async def remove_member(self, account_id: str, user_id: str) -> bool:
        return (
            await self._sql.run("DELETE FROM memberships WHERE account_id = ? AND user_id = ?", (account_id, user_id))
            > 0
        )

    async def members(self, account_id: str) -> list[Member]:
        rows = await self._sql.all(
            "SELECT u.id AS user_id, u.email, m.role FROM memberships m JOIN users u ON u.id = m.user_id "
            "WHERE m.account_id = ? ORDER BY u.email",
            (account_id,),
        )
        return [Member(row["user_id"], row["email"], row["role"]) for row in rows]

    async def invite(
        self, invitation_id: str, account_id: str, email: str, role: str, invited_by: str, now: datetime
    ) -> str:
        """One open invitation per account and email: inviting again changes its role. Returns its id."""
        await self._sql.run(
            "INSERT INTO invitations (id, account_id, email, role, invited_by, created_at) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(account_id, email) DO UPDATE SET role = excluded.role, invited_by = excluded.invited_by",
            (invitation_id, account_id, email, role, invited_by, epoch(now)),
        )
        row = await self._sql.one("SELECT id FROM invitations WHERE account_id = ? AND email = ?", (account_id, email))
        assert row is not None
        return str(row["id"])

    async def invitation(self, invitation_id: str) -> Invitation | None:
        row = await self._sql.one(_INVITATIONS + "WHERE i.id = ?", (invitation_id,))
        return None if row is None else _invitation(row)

    async def invitations_of(self, account_id: str) -> list[Invitation]:
        rows = await self._sql.all(_INVITATIONS + "WHERE i.account_id = ? ORDER BY i.email", (account_id,))
        return [_invitation(row) for row in rows]

    async def invitations_for(self, email: str) -> list[Invitation]:
        rows = await self._sql.all(_INVITATIONS + "WHERE i.email = ? ORDER BY a.name", (email,))
        return [_invitation(row) for row in rows]

    async def drop_invitation(self, invitation_id: str) -> bool:
        return await self._sql.run("DELETE FROM invitations WHERE id = ?", (invitation_id,)) > 0


class UserQueries:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def create(self, user_id: str, email: str, password_hash: str, now: datetime) -> User:
        await self._sql.run(
            "INSERT INTO users (id, email, password_hash, created_at) VALUES (?, ?, ?, ?)",
            (user_id, email, password_hash, epoch(now)),
        )
        return User(user_id, email, password_hash)

    async def by_email(self, email: str) -> User | None:
        # Emails match without regard to case: a NOCASE column in SQLite, an index on lower(email) in PostgreSQL.
        match = "email = ?" if self._sql.dialect == Dialect.SQLITE else "lower(email) = lower(?)"
        row = await self._sql.one(f"SELECT id, email, password_hash FROM users WHERE {match}", (email,))
        return None if row is None else User(row["id"], row["email"], row["password_hash"])

    async def memberships(self, user_id: str) -> list[Membership]:
        rows = await self._sql.all(
            "SELECT a.id, a.name, m.role FROM memberships m JOIN accounts a ON a.id = m.account_id "
            "WHERE m.user_id = ? ORDER BY a.name, a.id",
            (user_id,),
        )
        return [Membership(row["id"], row["name"], row["role"]) for row in rows]

    async def account_passwords(self, user_id: str) -> list[tuple[str, str]]:
        """The passwords accounts chose for this login, as (account id, hash)."""
        rows = await self._sql.all(
            "SELECT account_id, password_hash FROM account_passwords WHERE user_id = ? ORDER BY account_id",
            (user_id,),
        )
        return [(str(row["account_id"]), str(row["password_hash"])) for row in rows]

    async def set_account_password(self, user_id: str, account_id: str, password_hash: str, now: datetime) -> None:
        """The password ``account_id`` chose for this login (choosing again replaces that account's own)."""
        await self._sql.run(
            "INSERT INTO account_passwords (user_id, account_id, password_hash, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(user_id, account_id) DO UPDATE SET password_hash = excluded.password_hash",
            (user_id, account_id, password_hash, epoch(now)),
        )

    async def start_session(
        self, token_hash: str, user_id: str, now: datetime, reaches: frozenset[str] | None = None
    ) -> None:
        """A session of ``user_id``; ``reaches`` limits it to those accounts (None: all of the user's)."""
        await self._sql.run(
            "INSERT INTO sessions (token_hash, user_id, created_at) VALUES (?, ?, ?)", (token_hash, user_id, epoch(now))
        )
        if reaches is not None:
            await self._sql.many(
                "INSERT INTO session_accounts (token_hash, account_id) VALUES (?, ?)",
                [(token_hash, account_id) for account_id in sorted(reaches)],
            )

    async def for_session(self, token_hash: str) -> User | None:
        row = await self._sql.one(
            "SELECT u.id, u.email, u.password_hash FROM sessions s JOIN users u ON u.id = s.user_id "
            "WHERE s.token_hash = ?",
            (token_hash,),
        )
        if row is None:
            return None
        scoped = await self._sql.all("SELECT account_id FROM session_accounts WHERE token_hash = ?", (token_hash,))
        reaches = frozenset(str(item["account_id"]) for item in scoped) if scoped else None
        return User(row["id"], row["email"], row["password_hash"], reaches)

    async def signed_in(self, token_hash: str) -> tuple[User, list[Membership]] | None:
        """The session's user (as ``for_session``) and their memberships (as ``memberships``), in one statement:
        every request of a signed-in caller reads them."""
        # The session's accounts as one text (ids never hold a comma): no row per account, none for a session that
        # reaches every account of its user.
        joined = "group_concat" if self._sql.dialect == Dialect.SQLITE else "string_agg"
        rows = await self._sql.all(
            f"SELECT u.id, u.email, u.password_hash, (SELECT {joined}(x.account_id, ',') FROM session_accounts x "
            "WHERE x.token_hash = s.token_hash) AS reaches, "
            "a.id AS account_id, a.name AS account_name, m.role FROM sessions s JOIN users u ON u.id = s.user_id "
            "LEFT JOIN memberships m ON m.user_id = u.id LEFT JOIN accounts a ON a.id = m.account_id "
            "WHERE s.token_hash = ? ORDER BY a.name, a.id",
            (token_hash,),
        )
        if not rows:
            return None
        first = rows[0]
        reaches = frozenset(str(first["reaches"]).split(",")) if first["reaches"] is not None else None
        user = User(first["id"], first["email"], first["password_hash"], reaches)
        return user, [
            Membership(row["account_id"], row["account_name"], row["role"]) for row in rows if row["account_id"]
        ]

    async def end_session(self, token_hash: str) -> None:
        await self._sql.run("DELETE FROM session_accounts WHERE token_hash = ?", (token_hash,))
        await self._sql.run("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))
