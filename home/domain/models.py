"""HOME's records, as its store returns them. Times are aware UTC datetimes, credits quarters."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class AppliedSnapshot:
    seq: int
    token: str
    jti: str
    issued_at: datetime
    expires_at: datetime
    applied_at: datetime


@dataclass(frozen=True)
class StoredReceipt:
    seq: int
    token: str
    issued_at: datetime


@dataclass(frozen=True)
class PerpetualGrant:
    jti: str
    license_type: str
    count: int
    applied_at: datetime


@dataclass(frozen=True)
class Resource:
    id: int
    name: str
    license_type_needed: str
    count: int
    license_type: str  # default | perpetual | credits
    status: str  # running | stopped | unlicensed
    perpetual_in_use: int
    credits_in_use: int  # quarters
    created_at: datetime
