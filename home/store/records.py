"""How HOME's table rows become records, by column name."""

from flex_emulator.home.domain.models import (
    AppliedSnapshot,
    LicenseSetting,
    PerpetualGrant,
    Resource,
    ResourceStatus,
    StoredReceipt,
)
from flex_emulator.shared.snapshot_claims import SnapshotEntry
from flex_emulator.shared.sql import Row
from flex_emulator.shared.timefmt import from_epoch


def applied_snapshot_row(row: Row) -> AppliedSnapshot:
    return AppliedSnapshot(
        seq=row["seq"],
        token=row["token"],
        jti=row["jti"],
        issued_at=from_epoch(row["issued_at"]),
        expires_at=from_epoch(row["expires_at"]),
        applied_at=from_epoch(row["applied_at"]),
    )


def entry_row(row: Row) -> SnapshotEntry:
    renewable = row["renewable_until"]
    return SnapshotEntry(
        assignment_id=row["assignment_id"],
        credits=row["quarters"],
        assigned_at=from_epoch(row["assigned_at"]),
        valid_until=from_epoch(row["valid_until"]),
        renewable_until=None if renewable is None else from_epoch(renewable),
        subscription_id=row["subscription_id"],
        order_id=row["order_id"],
        duration=row["duration"],
        subscription_state=row["subscription_state"],
    )


def receipt_row(row: Row) -> StoredReceipt:
    return StoredReceipt(seq=row["seq"], token=row["token"], issued_at=from_epoch(row["issued_at"]))


def perpetual_row(row: Row) -> PerpetualGrant:
    return PerpetualGrant(row["jti"], row["license_type"], row["count"], from_epoch(row["applied_at"]))


def resource_row(row: Row) -> Resource:
    return Resource(
        id=row["id"],
        name=row["name"],
        license_type_needed=row["license_type_needed"],
        count=row["count"],
        license_type=LicenseSetting(row["license_type"]),
        status=ResourceStatus(row["status"]),
        perpetual_in_use=row["perpetual_in_use"],
        credits_in_use=row["credits_in_use"],
        created_at=from_epoch(row["created_at"]),
        started_order=row["started_order"],
    )
