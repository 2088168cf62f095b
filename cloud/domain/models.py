"""The cloud's domain records, as the store returns them. Times are aware UTC datetimes, credits quarters."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from flex_emulator.cloud.domain.ids import new_id


class SubscriptionState(StrEnum):
    INACTIVE = "inactive"
    ACTIVE = "active"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class AssignmentState(StrEnum):
    ACTIVE = "active"
    REVOKE_PENDING = "revoke_pending"
    ENDED = "ended"


class JobKind(StrEnum):
    """What a row of the scheduler's ``jobs`` table does when it falls due."""

    AUTO_ACTIVATE = "auto_activate"
    TERM_END = "term_end"
    AUTO_REVOKE = "auto_revoke"
    VALIDITY_END = "validity_end"
    CHECK_IN = "check_in"


@dataclass(frozen=True)
class Account:
    id: str
    name: str


@dataclass(frozen=True)
class Membership:
    account_id: str
    account_name: str
    role: str


@dataclass(frozen=True)
class User:
    """A login. ``password_hash`` is its own password, '' for a login made through an invitation (it has
    none: it signs in only with passwords the inviting accounts chose). ``reaches`` is what the session in
    hand may reach: None for every account of the user (signed in with their own password), otherwise
    the accounts whose chosen password opened it."""

    id: str
    email: str
    password_hash: str
    reaches: frozenset[str] | None = None

    def may_reach(self, account_id: str) -> bool:
        return self.reaches is None or account_id in self.reaches


@dataclass(frozen=True)
class Member:
    user_id: str
    email: str
    role: str


@dataclass(frozen=True)
class Invitation:
    """An admin's offer to ``email`` to join an account; nothing changes until its user accepts."""

    id: str
    account_id: str
    account_name: str
    email: str
    role: str
    invited_by: str
    created_at: datetime


@dataclass(frozen=True, kw_only=True)
class Subscription:
    id: str
    account_id: str
    order_id: str
    duration: str
    quarters_total: int
    quarters_available: int
    state: str
    created_at: datetime
    term_start: datetime | None
    term_end: datetime | None
    cancelled_at: datetime | None
    activated_at: datetime | None = None  # the first term's start; later terms count from it


@dataclass(frozen=True, kw_only=True)
class System:
    id: str
    account_id: str
    label: str
    public_key: bytes
    linked_at: datetime
    last_seen: datetime | None
    seq: int
    acked_seq: int
    dirty: bool
    online_via: str | None = None  # the cloud process holding its link, None while it is not linked
    # Credits (quarters) HOME's running resources used, as its latest receipt said, and when HOME signed it
    home_in_use: int | None = None
    home_in_use_at: datetime | None = None

    @property
    def online(self) -> bool:
        return self.online_via is not None


@dataclass(frozen=True, kw_only=True)
class Assignment:
    id: str
    account_id: str
    system_id: str
    subscription_id: str
    quarters: int
    assigned_at: datetime
    auto_revoke_at: datetime | None
    downloaded: bool
    valid_until: datetime | None
    state: str
    end_reason: str | None
    ended_at: datetime | None
    pending_after_seq: int | None
    pending_reason: str | None

    @classmethod
    def new(
        cls,
        *,
        account_id: str,
        system_id: str,
        subscription_id: str,
        quarters: int,
        assigned_at: datetime,
        auto_revoke_at: datetime | None = None,
    ) -> "Assignment":
        """A new active assignment, not yet delivered to HOME."""
        return cls(
            id=new_id("asg"),
            account_id=account_id,
            system_id=system_id,
            subscription_id=subscription_id,
            quarters=quarters,
            assigned_at=assigned_at,
            auto_revoke_at=auto_revoke_at,
            downloaded=False,
            valid_until=None,
            state=AssignmentState.ACTIVE,
            end_reason=None,
            ended_at=None,
            pending_after_seq=None,
            pending_reason=None,
        )


@dataclass(frozen=True, kw_only=True)
class IssuedSnapshot:
    system_id: str
    seq: int
    issued_at: datetime
    expires_at: datetime
    check_in_at: datetime | None
    token: str


@dataclass(frozen=True, kw_only=True)
class LedgerEvent:
    id: int
    at: datetime
    kind: str
    actor: str
    account_id: str
    subscription_id: str | None
    system_id: str | None
    assignment_id: str | None
    quarters: int
    detail: dict[str, object]


@dataclass(frozen=True)
class Job:
    kind: str
    ref: str
    due_at: datetime
