"""All of the cloud's SQL, as methods named for domain actions. Bound to the reader or to a transaction.
The write-once record (ledger, revoke keys, audit) lives in store_ledger.py and is part of ``Queries``."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from cloud.models import (
    Account,
    Assignment,
    IssuedSnapshot,
    Job,
    Member,
    Membership,
    Subscription,
    System,
    User,
)
from cloud.rows import (
    ASSIGNMENT_COLUMNS,
    SUBSCRIPTION_COLUMNS,
    SYSTEM_COLUMNS,
    assignment_row,
    dt,
    subscription_row,
    system_row,
    ts,
)
from cloud.store_ledger import LedgerQueries
from cloud.store_state import StateQueries
from shared.timefmt import epoch, from_epoch


class Queries(LedgerQueries, StateQueries):
    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A nested step inside a transaction that can fail alone (one scheduled item of a batch)."""
        await self._run("SAVEPOINT step")
        try:
            yield
        except Exception:
            await self._run("ROLLBACK TO step")
            await self._run("RELEASE step")
            raise
        await self._run("RELEASE step")

    # --- meta -------------------------------------------------------------------------------

    async def get_meta(self, key: str) -> str | None:
        row = await self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else str(row[0])

    async def set_meta(self, key: str, value: str) -> None:
        await self._run("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = ?", (key, value, value))

    # --- accounts, users, sessions ------------------------------------------------------------

    async def create_account(self, account_id: str, name: str, now: datetime) -> Account:
        await self._run("INSERT INTO accounts (id, name, created_at) VALUES (?, ?, ?)", (account_id, name, epoch(now)))
        return Account(account_id, name)

    async def get_account(self, account_id: str) -> Account | None:
        row = await self._one("SELECT id, name FROM accounts WHERE id = ?", (account_id,))
        return None if row is None else Account(row[0], row[1])

    async def create_user(self, user_id: str, email: str, password_hash: str, now: datetime) -> User:
        await self._run(
            "INSERT INTO users (id, email, password_hash, created_at) VALUES (?, ?, ?, ?)",
            (user_id, email, password_hash, epoch(now)),
        )
        return User(user_id, email, password_hash)

    async def user_by_email(self, email: str) -> User | None:
        row = await self._one("SELECT id, email, password_hash FROM users WHERE email = ?", (email,))
        return None if row is None else User(row[0], row[1], row[2])

    async def add_membership(self, account_id: str, user_id: str, role: str) -> None:
        await self._run(
            "INSERT INTO memberships (account_id, user_id, role) VALUES (?, ?, ?) "
            "ON CONFLICT(account_id, user_id) DO UPDATE SET role = excluded.role",
            (account_id, user_id, role),
        )

    async def remove_membership(self, account_id: str, user_id: str) -> bool:
        return await self._run("DELETE FROM memberships WHERE account_id = ? AND user_id = ?", (account_id, user_id)) > 0

    async def memberships(self, user_id: str) -> list[Membership]:
        rows = await self._all(
            "SELECT a.id, a.name, m.role FROM memberships m JOIN accounts a ON a.id = m.account_id "
            "WHERE m.user_id = ? ORDER BY a.name, a.id",
            (user_id,),
        )
        return [Membership(row[0], row[1], row[2]) for row in rows]

    async def members(self, account_id: str) -> list[Member]:
        rows = await self._all(
            "SELECT u.id, u.email, m.role FROM memberships m JOIN users u ON u.id = m.user_id "
            "WHERE m.account_id = ? ORDER BY u.email",
            (account_id,),
        )
        return [Member(row[0], row[1], row[2]) for row in rows]

    async def create_session(self, token_hash: str, user_id: str, now: datetime) -> None:
        await self._run("INSERT INTO sessions (token_hash, user_id, created_at) VALUES (?, ?, ?)", (token_hash, user_id, epoch(now)))

    async def user_for_session(self, token_hash: str) -> User | None:
        row = await self._one(
            "SELECT u.id, u.email, u.password_hash FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?",
            (token_hash,),
        )
        return None if row is None else User(row[0], row[1], row[2])

    async def delete_session(self, token_hash: str) -> None:
        await self._run("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))

    # --- subscriptions ----------------------------------------------------------------------

    async def insert_subscription(self, sub: Subscription) -> None:
        await self._run(
            f"INSERT INTO subscriptions ({SUBSCRIPTION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (sub.id, sub.account_id, sub.order_id, sub.duration, sub.quarters_total, sub.quarters_available,
             sub.state, epoch(sub.created_at), ts(sub.term_start), ts(sub.term_end), ts(sub.cancelled_at),
             ts(sub.activated_at)),
        )  # fmt: skip

    async def get_subscription(self, sub_id: str) -> Subscription | None:
        row = await self._one(f"SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = ?", (sub_id,))
        return None if row is None else subscription_row(row)

    async def list_subscriptions(self, account_id: str) -> list[Subscription]:
        rows = await self._all(
            f"SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE account_id = ? ORDER BY created_at, order_id", (account_id,)
        )
        return [subscription_row(row) for row in rows]

    async def set_subscription_state(
        self, sub_id: str, state: str, term_start: datetime | None, term_end: datetime | None, cancelled_at: datetime | None
    ) -> None:
        # The first term's start is kept as activated_at: every later term end is counted from it.
        await self._run(
            "UPDATE subscriptions SET state = ?, term_start = ?, term_end = ?, cancelled_at = ?, "
            "activated_at = COALESCE(activated_at, ?) WHERE id = ?",
            (state, ts(term_start), ts(term_end), ts(cancelled_at), ts(term_start), sub_id),
        )

    async def take_quarters(self, sub_id: str, quarters: int) -> bool:
        """Take credits out of a subscription; False when it does not have them (never over-assigns)."""
        changed = await self._run(
            "UPDATE subscriptions SET quarters_available = quarters_available - ? WHERE id = ? AND quarters_available >= ?",
            (quarters, sub_id, quarters),
        )
        return changed == 1

    async def give_back_quarters(self, sub_id: str, quarters: int) -> None:
        await self._run("UPDATE subscriptions SET quarters_available = quarters_available + ? WHERE id = ?", (quarters, sub_id))

    # --- systems ----------------------------------------------------------------------------

    async def insert_system(self, system_id: str, account_id: str, label: str, public_key: bytes, now: datetime) -> None:
        await self._run(
            "INSERT INTO systems (id, account_id, label, public_key, linked_at, seq) VALUES (?, ?, ?, ?, ?, "
            "COALESCE((SELECT seq FROM system_seq_floors WHERE system_id = ?), 0))",
            (system_id, account_id, label, public_key, epoch(now), system_id),
        )

    async def get_system(self, system_id: str) -> System | None:
        row = await self._one(f"SELECT {SYSTEM_COLUMNS} FROM systems WHERE id = ?", (system_id,))
        return None if row is None else system_row(row)

    async def list_systems(self, account_id: str) -> list[System]:
        rows = await self._all(f"SELECT {SYSTEM_COLUMNS} FROM systems WHERE account_id = ? ORDER BY label, id", (account_id,))
        return [system_row(row) for row in rows]

    async def delete_system(self, system_id: str) -> None:
        await self._run(
            "INSERT INTO system_seq_floors (system_id, seq) SELECT id, MAX(seq, acked_seq) FROM systems WHERE id = ? "
            "ON CONFLICT(system_id) DO UPDATE SET seq = MAX(seq, excluded.seq)",
            (system_id,),
        )
        for table in ("snapshots", "assignments"):
            await self._run(f"DELETE FROM {table} WHERE system_id = ?", (system_id,))
        await self._run("DELETE FROM jobs WHERE kind = 'check_in' AND ref = ?", (system_id,))
        await self._run("DELETE FROM systems WHERE id = ?", (system_id,))

    async def touch_system(self, system_id: str, now: datetime) -> None:
        await self._run("UPDATE systems SET last_seen = MAX(COALESCE(last_seen, 0), ?) WHERE id = ?", (epoch(now), system_id))

    async def set_system_seq(self, system_id: str, seq: int) -> None:
        await self._run("UPDATE systems SET seq = ?, dirty = 0 WHERE id = ?", (seq, system_id))

    async def record_ack(self, system_id: str, seq: int) -> None:
        await self._run("UPDATE systems SET acked_seq = MAX(acked_seq, ?) WHERE id = ?", (seq, system_id))

    async def mark_dirty(self, system_id: str) -> None:
        await self._run("UPDATE systems SET dirty = 1 WHERE id = ?", (system_id,))

    async def quarters_by_system(self, account_id: str) -> dict[str, int]:
        rows = await self._all(
            "SELECT system_id, SUM(quarters) FROM assignments WHERE account_id = ? AND state != 'ended' GROUP BY system_id",
            (account_id,),
        )
        return {row[0]: int(row[1]) for row in rows}

    # --- assignments --------------------------------------------------------------------------

    async def insert_assignment(self, item: Assignment) -> None:
        await self._run(
            f"INSERT INTO assignments ({ASSIGNMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (item.id, item.account_id, item.system_id, item.subscription_id, item.quarters, epoch(item.assigned_at),
             ts(item.auto_revoke_at), int(item.downloaded), ts(item.valid_until), item.state, item.end_reason,
             ts(item.ended_at), item.pending_after_seq, item.pending_reason),
        )  # fmt: skip

    async def count_active(self, system_id: str) -> int:
        row = await self._one("SELECT COUNT(*) FROM assignments WHERE system_id = ? AND state = 'active'", (system_id,))
        return 0 if row is None else int(row[0])

    async def get_assignment(self, assignment_id: str) -> Assignment | None:
        row = await self._one(f"SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE id = ?", (assignment_id,))
        return None if row is None else assignment_row(row)

    async def assignments_for_system(self, system_id: str, states: tuple[str, ...] = ("active", "revoke_pending", "ended")) -> list[Assignment]:
        marks = ", ".join("?" for _ in states)
        rows = await self._all(
            f"SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE system_id = ? AND state IN ({marks}) "
            "ORDER BY assigned_at, id",
            (system_id, *states),
        )
        return [assignment_row(row) for row in rows]

    async def open_assignments_for_subscription(self, sub_id: str) -> list[Assignment]:
        rows = await self._all(
            f"SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE subscription_id = ? AND state != 'ended' ORDER BY id", (sub_id,)
        )
        return [assignment_row(row) for row in rows]

    async def mark_delivered(self, assignment_id: str, valid_until: datetime) -> None:
        """Record a copy issued: HOME may hold it as well as any earlier copy it has not yet replaced."""
        await self._run(
            "UPDATE assignments SET downloaded = 1, valid_until = MAX(COALESCE(valid_until, 0), ?), issued_until = ? WHERE id = ?",
            (epoch(valid_until), epoch(valid_until), assignment_id),
        )

    async def home_holds_latest_copy(self, system_id: str) -> None:
        """HOME applied the latest snapshot and refuses older ones: only the latest copy's validity still counts."""
        await self._run(
            "UPDATE assignments SET valid_until = MIN(valid_until, issued_until) "
            "WHERE system_id = ? AND state = 'active' AND issued_until IS NOT NULL",
            (system_id,),
        )

    async def set_revoke_pending(self, assignment_id: str, after_seq: int, reason: str) -> None:
        await self._run(
            "UPDATE assignments SET state = 'revoke_pending', pending_after_seq = ?, pending_reason = ? "
            "WHERE id = ? AND state = 'active'",
            (after_seq, reason, assignment_id),
        )

    async def end_assignment(self, assignment_id: str, reason: str, now: datetime) -> bool:
        """End an open assignment; False when it had already ended (so nothing is returned twice)."""
        changed = await self._run(
            "UPDATE assignments SET state = 'ended', end_reason = ?, ended_at = ? WHERE id = ? AND state != 'ended'",
            (reason, epoch(now), assignment_id),
        )
        return changed == 1

    # --- snapshots ----------------------------------------------------------------------------

    async def insert_snapshot(self, snap: IssuedSnapshot) -> None:
        await self._run(
            "INSERT INTO snapshots (system_id, seq, issued_at, expires_at, check_in_at, token) VALUES (?, ?, ?, ?, ?, ?)",
            (snap.system_id, snap.seq, epoch(snap.issued_at), epoch(snap.expires_at), ts(snap.check_in_at), snap.token),
        )

    async def latest_snapshot(self, system_id: str) -> IssuedSnapshot | None:
        row = await self._one(
            "SELECT system_id, seq, issued_at, expires_at, check_in_at, token FROM snapshots "
            "WHERE system_id = ? ORDER BY seq DESC LIMIT 1",
            (system_id,),
        )
        if row is None:
            return None
        return IssuedSnapshot(row[0], row[1], from_epoch(row[2]), from_epoch(row[3]), dt(row[4]), row[5])

    # --- scheduled work ---------------------------------------------------------------------------

    async def schedule(self, kind: str, ref: str, due_at: datetime) -> None:
        await self._run(
            "INSERT INTO jobs (kind, ref, due_at) VALUES (?, ?, ?) ON CONFLICT(kind, ref) DO UPDATE SET due_at = excluded.due_at",
            (kind, ref, epoch(due_at)),
        )

    async def unschedule(self, kind: str, ref: str) -> None:
        await self._run("DELETE FROM jobs WHERE kind = ? AND ref = ?", (kind, ref))

    async def due_jobs(self, now: datetime, limit: int) -> list[Job]:
        rows = await self._all(
            "SELECT kind, ref, due_at FROM jobs WHERE due_at <= ? ORDER BY due_at, kind, ref LIMIT ?", (epoch(now), limit)
        )
        return [Job(row[0], row[1], from_epoch(row[2])) for row in rows]

    async def next_due(self) -> datetime | None:
        row = await self._one("SELECT MIN(due_at) FROM jobs")
        return None if row is None or row[0] is None else from_epoch(row[0])

    async def count_jobs(self) -> int:
        row = await self._one("SELECT COUNT(*) FROM jobs")
        return int(row[0]) if row else 0
