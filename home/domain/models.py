"""HOME's records, as its store returns them. Times are aware UTC datetimes, credits quarters."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class LicenseSetting(StrEnum):
    """A resource's License Type setting: perpetual licenses first then credits, or only one of them."""

    DEFAULT = "default"
    PERPETUAL = "perpetual"
    CREDITS = "credits"


class ResourceStatus(StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"
    UNLICENSED = "unlicensed"


class FileKind(StrEnum):
    """What an uploaded file is: a credits file (``.jwt``) or a perpetual license (``.lic``)."""

    CREDITS = "credits"
    PERPETUAL = "perpetual"


class Renewal(StrEnum):
    """How an entry HOME holds gets a new validity once this one ends."""

    AUTOMATIC = "automatic"  # the cloud link is on: the cloud's check-in copy renews it by itself
    BY_FILE = "by_file"  # the link is off: only a new credits file, uploaded by a person, renews it
    NONE = "none"  # it ends with this validity (its subscription or an Auto Revoke ends it)


class UploadResult(StrEnum):
    APPLIED = "applied"
    UNCHANGED = "unchanged"  # the same file again: a harmless no-op


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
    license_type: LicenseSetting
    status: ResourceStatus
    perpetual_in_use: int
    credits_in_use: int  # quarters
    created_at: datetime
    started_order: int = 0  # the place of its latest start among all starts (0: never started)
