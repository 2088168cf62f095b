"""The JSON shapes of the cloud and HOME APIs, as TypedDicts (plain dicts at run time).

Times are ISO 8601 UTC strings; credit amounts are numbers in quarter steps. See docs/contract.md.
"""

from typing import Any, Literal, TypedDict

Duration = Literal["monthly", "annual"]
Role = Literal["admin", "operator"]
Fault = Literal["expired", "future", "stale", "tampered", "wrong_system", "alg_none", "untrusted_key", "truncated"]
LinkState = Literal["online", "connecting", "offline", "disabled", "not_linked"]


class Membership(TypedDict):
    id: str
    name: str
    role: Role


class SubscriptionRef(TypedDict):
    id: str
    order_id: str
    duration: Duration
    state: str


class Subscription(TypedDict):
    id: str
    order_id: str
    duration: Duration
    state: str  # inactive, active, cancelled, ended
    selectable: bool
    credits_total: float
    credits_available: float
    created_at: str
    term_start: str | None
    term_end: str | None
    cancelled_at: str | None


class System(TypedDict, total=False):
    id: str
    label: str
    online: bool
    last_seen: str | None
    linked_at: str
    seq: int
    credits_assigned: float  # in lists only


class Assignment(TypedDict):
    id: str
    system_id: str
    credits: float
    assigned_at: str
    valid_until: str | None
    auto_revoke_at: str | None
    downloaded: bool
    state: Literal["active", "revoke_pending", "ended"]
    end_reason: str | None
    ended_at: str | None
    returns_at: str | None
    subscription: SubscriptionRef


class SystemDetail(TypedDict):
    system: System
    assignments: list[Assignment]


class RevokeKeyResult(TypedDict):
    returned: list[str]
    credits_returned: float


class Clock(TypedDict, total=False):
    now: str
    virtual: bool
    handled: int  # cloud, after a move: scheduled items run
    clock: str  # HOME: the machine clock (``now`` never goes behind a time HOME has seen)


class Settled(TypedDict):
    system_id: str
    seq: int
    acked_seq: int
    online: bool


class Invariant(TypedDict):
    ok: bool
    violations: list[Any]


class Events(TypedDict):
    events: list[dict[str, Any]]
    next: str | None


class CloudLink(TypedDict, total=False):
    url: str
    enabled: bool
    state: LinkState
    last_error: str | None


class HomeSystem(TypedDict, total=False):
    system_id: str
    label: str
    registration_code: str
    cloud: CloudLink


class CreditTotals(TypedDict):
    total: float
    in_use: float
    remaining: float


class FileResult(TypedDict, total=False):
    kind: Literal["credits", "perpetual"]
    result: Literal["applied", "unchanged"]
    seq: int
    credits: CreditTotals
    revoke_key: str | None


class CreditEntry(TypedDict, total=False):
    assignment_id: str
    credits: float
    valid_until: str
    order_id: str
    renewable: bool
    expired: bool


class HomeCredits(TypedDict, total=False):
    total: float
    in_use: float
    remaining: float
    seq: int
    revoke_key: str | None
    entries: list[CreditEntry]
    timeline: list[dict[str, Any]]


class PerpetualLine(TypedDict):
    license_type: str
    total: int
    in_use: int
    remaining: int


class Resource(TypedDict, total=False):
    id: int
    name: str
    license_type_needed: str
    count: int
    license_type: Literal["default", "perpetual", "credits"]
    status: Literal["running", "stopped", "unlicensed"]
