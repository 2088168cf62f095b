"""The JSON shapes of the cloud and HOME APIs, as TypedDicts (plain dicts at run time).

Times are ISO 8601 UTC strings; credit amounts are numbers in quarter steps. See docs/contract.md.
"""

from typing import Any, Literal, TypedDict

Duration = Literal["monthly", "annual"]
Role = Literal["admin", "operator"]
Fault = Literal["expired", "future", "stale", "tampered", "wrong_system", "alg_none", "untrusted_key", "truncated"]
LinkState = Literal["online", "connecting", "offline", "disabled", "not_linked"]


class Membership(TypedDict):
    """An account the user belongs to, and their role in it."""

    id: str
    name: str
    role: Role


class SubscriptionRef(TypedDict):
    """The subscription an assignment draws on."""

    id: str
    order_id: str
    duration: Duration
    state: str


class Subscription(TypedDict):
    """A subscription: its state, term and credits (``GET .../subscriptions``)."""

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
    """A linked system as the cloud shows it (``seq``: the latest copy issued to it)."""

    id: str
    label: str
    online: bool
    last_seen: str | None
    linked_at: str
    seq: int
    credits_assigned: float  # in lists only
    home_usage: "HomeUsage"  # once HOME reported its usage with a receipt


class HomeUsage(TypedDict):
    """What HOME's running resources used (credits), by its latest receipt, and when HOME signed it."""

    credits_in_use: float
    reported_at: str


class Assignment(TypedDict):
    """Credits assigned to a system, with their state and when they come back."""

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
    """One system and its assignments."""

    system: System
    assignments: list[Assignment]


class RevokeKeyResult(TypedDict):
    """What a revoke key returned."""

    returned: list[str]
    credits_returned: float


class Clock(TypedDict, total=False):
    """A service's clock."""

    now: str
    virtual: bool
    handled: int  # cloud, after a move: scheduled items run
    clock: str  # HOME: the machine clock (``now`` never goes behind a time HOME has seen)


class Settled(TypedDict):
    """A system that acknowledged the latest copy issued to it."""

    system_id: str
    seq: int
    acked_seq: int
    online: bool


class Invariant(TypedDict):
    """The cloud's check of its books."""

    ok: bool
    violations: list[Any]


class Events(TypedDict):
    """One page of an event journal."""

    events: list[dict[str, Any]]
    next: str | None


HttpFaultAction = Literal["status", "latency", "reset", "hang"]


class HttpFault(TypedDict):
    """An HTTP fault armed on a service."""

    id: str
    method: str | None  # None: any method
    path: str  # exact, or a prefix ending in *
    action: HttpFaultAction
    status: int | None
    retry_after: int | None
    latency_ms: int | None
    times: int | None  # None: until cleared
    remaining: int | None


class RequestRecord(TypedDict, total=False):
    """One request a service answered, as its request journal keeps it."""

    cursor: str
    at: str
    method: str
    path: str
    query: dict[str, Any]
    status: int | None  # None: no answer was given (a reset or a hang)
    duration_ms: float
    headers: dict[str, str]  # Authorization and cookies masked
    json: Any  # the parsed JSON body, secrets masked; absent when there was none
    truncated: bool  # the body was over 64 KiB and is left out
    fault: dict[str, str]  # {id, action} of the HTTP fault applied


class Requests(TypedDict):
    """One page of a request journal."""

    requests: list[RequestRecord]
    next: str


class CloudLink(TypedDict, total=False):
    """HOME's cloud link."""

    url: str
    enabled: bool
    state: LinkState
    last_error: str | None


class HomeSystem(TypedDict, total=False):
    """HOME's identity and cloud link."""

    system_id: str
    label: str
    registration_code: str
    cloud: CloudLink


class CreditTotals(TypedDict):
    """Credits held, in use and remaining; ``shortfall``: in use beyond what HOME holds (else 0)."""

    total: float
    in_use: float
    remaining: float
    shortfall: float


class FileResult(TypedDict, total=False):
    """HOME's answer to an uploaded file."""

    kind: Literal["credits", "perpetual"]
    result: Literal["applied", "unchanged"]
    seq: int
    credits: CreditTotals
    revoke_key: str | None


class CreditEntry(TypedDict, total=False):
    """One assignment HOME holds."""

    assignment_id: str
    credits: float
    assigned_at: str
    valid_until: str
    renewable_until: str | None  # None: the subscription renews without end
    subscription_id: str
    order_id: str
    duration: Duration
    subscription_state: str
    renewal: Literal["automatic", "by_file", "none"]  # by itself (link on), by a new file (link off), or not at all
    expired: bool


class CreditsStatus(TypedDict):
    """The validity of what HOME holds, in words too."""

    state: Literal["none", "valid", "renew_soon", "expired"]
    valid_until: str | None
    message: str


class TimelineDay(TypedDict):
    """One day of the next weeks: credits valid, and credits that continue once their copy is renewed."""

    date: str
    valid: float
    renewable: float


class HomeCredits(TypedDict, total=False):
    """What HOME holds (``GET /api/v1/licenses/credits``)."""

    total: float
    in_use: float
    remaining: float
    shortfall: float  # in use beyond what HOME holds (credits revoked or expired while resources ran)
    now: str
    seq: int
    revoke_key: str | None
    status: CreditsStatus
    entries: list[CreditEntry]
    timeline: list[TimelineDay]


class PerpetualLine(TypedDict):
    """HOME's perpetual licenses of one type."""

    license_type: str
    total: int
    in_use: int
    remaining: int


class Resource(TypedDict, total=False):
    """One of HOME's resources."""

    id: int
    name: str
    license_type_needed: str
    count: int
    license_type: Literal["default", "perpetual", "credits"]
    status: Literal["running", "stopped", "unlicensed"]
    running: bool  # a resource still running on credits HOME no longer holds shows "unlicensed" with running true
