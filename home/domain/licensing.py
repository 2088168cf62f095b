"""Applying what the cloud signs (credits snapshots, perpetual licenses) and reading back what HOME holds.

``apply_snapshot`` is the one code path for a snapshot, whether the link pushed it or a
person uploaded the file: verify, then one transaction, then (online) the receipt is sent.
"""

from dataclasses import dataclass
from datetime import datetime

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from flex_emulator.home.domain import holdings
from flex_emulator.home.domain.models import (
    FileKind,
    PerpetualGrant,
    Resource,
    ResourceStatus,
    StoredReceipt,
    UploadResult,
)
from flex_emulator.home.domain.node import Node
from flex_emulator.home.store import Queries
from flex_emulator.shared.catalog import LICENSE_TYPES
from flex_emulator.shared.errors import TokenError
from flex_emulator.shared.jws import unverified_claims
from flex_emulator.shared.licenses import LICENSE_TYPE, token_type, verify_perpetual
from flex_emulator.shared.snapshot_claims import SnapshotEntry
from flex_emulator.shared.tokens import SNAPSHOT_TYPE, Receipt, new_jti, sign_receipt, verify_snapshot

log = structlog.get_logger()

NO_TRUST = (
    "This HOME trusts no licensing-cloud key yet, so it cannot check the file's signature: start HOME with "
    "--cloud-key FILE, or connect it to the licensing cloud once so it can fetch the cloud's keys."
)


@dataclass(frozen=True)
class Applied:
    kind: FileKind
    result: UploadResult
    seq: int  # the applied credits seq after this file
    receipt: str | None  # the latest receipt: the revoke key
    license_type: str | None = None
    count: int | None = None


@dataclass(frozen=True)
class CreditsReport:
    now: datetime
    seq: int
    revoke_key: str | None
    entries: list[SnapshotEntry]
    totals: holdings.Totals
    status: holdings.Status
    timeline: list[holdings.Day]
    link_on: bool = False  # the cloud link is switched on: entries renew by themselves


@dataclass(frozen=True)
class PerpetualLine:
    license_type: str
    total: int
    in_use: int
    remaining: int


def _trusted(node: Node) -> dict[str, Ed25519PublicKey]:
    keys = node.trust.keys()
    if not keys:
        raise TokenError("bad_signature", NO_TRUST)
    return keys


async def apply_snapshot(node: Node, token: str, source: str) -> Applied:
    now = node.now()
    snapshot = verify_snapshot(token, _trusted(node), node.system_id, now)
    held = tuple(entry.assignment_id for entry in snapshot.entries)
    if len(set(held)) != len(held):
        raise TokenError("malformed", "The credits file lists an assignment twice.")
    async with node.write() as tx:
        applied_seq = await tx.applied_seq()
        if snapshot.seq < applied_seq:
            raise TokenError(
                "stale",
                f"This credits file (number {snapshot.seq}) is older than the one already applied "
                f"(number {applied_seq}): download the latest credits file from the portal and upload that.",
            )
        if snapshot.seq == applied_seq:
            latest = await tx.latest_receipt()
            receipt = latest.token if latest else None
            result = UploadResult.UNCHANGED
        else:
            in_use = credits_in_use(await tx.resources())
            receipt = sign_receipt(
                Receipt(node.system_id, snapshot.seq, held, now, new_jti(), in_use), node.identity.key
            )
            await tx.replace_snapshot(snapshot, token.strip(), now, receipt)
            node.journal.note("snapshot_applied", seq=snapshot.seq, source=source, entries=len(held))
            result = UploadResult.APPLIED
    if result == UploadResult.APPLIED:
        node.seq_applied(snapshot.seq)
        node.expiries.hold(snapshot.seq, snapshot.entries, now)
        log.info("snapshot_applied", seq=snapshot.seq, entries=len(held), source=source)
    else:
        node.journal.note("snapshot_unchanged", seq=snapshot.seq, source=source)
        log.info("snapshot_unchanged", seq=snapshot.seq, source=source)
    return Applied(FileKind.CREDITS, result, snapshot.seq, receipt)


async def apply_license(node: Node, token: str) -> Applied:
    license = verify_perpetual(token, _trusted(node), node.system_id)
    if license.license_type not in LICENSE_TYPES:
        raise TokenError("malformed", f"The license file is for an unknown license type ({license.license_type}).")
    async with node.write() as tx:
        if await tx.has_perpetual(license.jti):
            result = UploadResult.UNCHANGED
        else:
            await tx.add_perpetual(license, token.strip(), node.now())
            result = UploadResult.APPLIED
        latest = await tx.latest_receipt()
        seq = await tx.applied_seq()
    log.info("perpetual_license_uploaded", result=result, license_type=license.license_type, count=license.count)
    return Applied(
        FileKind.PERPETUAL, result, seq, latest.token if latest else None, license.license_type, license.count
    )


async def accept_file(node: Node, data: bytes) -> Applied:
    """An uploaded ``.jwt`` credits file or ``.lic`` license file, told apart by its token type."""
    try:
        text = data.decode("utf-8-sig").strip()
    except UnicodeDecodeError:
        raise TokenError("malformed", "This file is not a credits or license file: it is not text.") from None
    if not text:
        raise TokenError("malformed", "The file is empty.")
    kind = token_type(text)
    if kind == SNAPSHOT_TYPE:
        return await apply_snapshot(node, text, source="file")
    if kind == LICENSE_TYPE:
        return await apply_license(node, text)
    raise TokenError("malformed", "This is neither a credits file (.jwt) nor a perpetual license file (.lic).")


def credits_in_use(resources: list[Resource]) -> int:
    return sum(r.credits_in_use for r in resources if r.status == ResourceStatus.RUNNING)


async def receipt_with_usage(node: Node, tx: Queries, now: datetime) -> StoredReceipt | None:
    """The latest receipt signed again, for the same copy, with the credits running resources use now: HOME
    reports its usage with its receipts, so the cloud can warn before a revoke leaves a resource unlicensed. It
    proves what the one before it proved (it becomes the revoke key); None before any copy was applied."""
    latest = await tx.latest_receipt()
    if latest is None:
        return None
    held = tuple(str(item) for item in unverified_claims(latest.token).get("held", []))
    receipt = Receipt(node.system_id, latest.seq, held, now, new_jti(), credits_in_use(await tx.resources()))
    token = sign_receipt(receipt, node.identity.key)
    await tx.set_receipt(latest.seq, token, now)
    return StoredReceipt(seq=latest.seq, token=token, issued_at=now)


async def credits_report(node: Node, online: bool, link_on: bool | None = None) -> CreditsReport:
    """What HOME holds now; ``online``: the link is up now, ``link_on``: it is switched on (default: ``online``)."""
    now = await node.current_time()
    db = node.db.read
    entries = await db.entries()
    resources = await db.resources()
    receipt = await db.latest_receipt()
    seq = await db.applied_seq()
    if receipt is not None:
        node.revoke_key_shown(receipt.seq, receipt.token)
    return CreditsReport(
        now=now,
        seq=seq,
        revoke_key=receipt.token if receipt else None,
        entries=entries,
        totals=holdings.totals(entries, credits_in_use(resources), now),
        status=holdings.status(entries, now, online, seq),
        timeline=holdings.timeline(entries, now),
        link_on=online if link_on is None else link_on,
    )


def perpetual_lines(grants: list[PerpetualGrant], resources: list[Resource]) -> list[PerpetualLine]:
    totals: dict[str, int] = {}
    used: dict[str, int] = {}
    for grant in grants:
        totals[grant.license_type] = totals.get(grant.license_type, 0) + grant.count
    for resource in resources:
        if resource.status == ResourceStatus.RUNNING and resource.perpetual_in_use:
            used[resource.license_type_needed] = used.get(resource.license_type_needed, 0) + resource.perpetual_in_use
    return [
        PerpetualLine(kind, totals.get(kind, 0), used.get(kind, 0), max(0, totals.get(kind, 0) - used.get(kind, 0)))
        for kind in sorted(set(totals) | set(used))
    ]


async def perpetual_report(node: Node) -> list[PerpetualLine]:
    return perpetual_lines(await node.db.read.perpetual_grants(), await node.db.read.resources())
