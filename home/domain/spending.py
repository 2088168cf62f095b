"""Licensed resources: starting one takes perpetual licenses of its type first, then credits."""

from dataclasses import dataclass
from datetime import datetime

import structlog

from flex_emulator.home.domain import holdings
from flex_emulator.home.domain.licensing import credits_in_use, receipt_with_usage
from flex_emulator.home.domain.models import LicenseSetting, Resource, ResourceStatus, StoredReceipt
from flex_emulator.home.domain.node import Node
from flex_emulator.home.domain.wording import agree, count_of, credits_agree, credits_of
from flex_emulator.home.store import Queries
from flex_emulator.shared.catalog import CREDIT_COST_QUARTERS
from flex_emulator.shared.errors import NotFound
from flex_emulator.shared.snapshot_claims import SnapshotEntry

log = structlog.get_logger()

LICENSE_SETTINGS = tuple(LicenseSetting)


@dataclass(frozen=True)
class Allocation:
    perpetual: int  # licenses
    quarters: int  # credits, in quarters


@dataclass(frozen=True)
class ResourceView:
    """A resource as HOME shows it. One still running whose credits HOME no longer holds (revoked or expired
    while it ran) keeps running until it is stopped, but shows Unlicensed; it cannot start again until HOME
    holds enough credits."""

    resource: Resource
    status: ResourceStatus

    @property
    def running(self) -> bool:
        return self.resource.status == ResourceStatus.RUNNING


@dataclass(frozen=True)
class StartOutcome:
    resource: ResourceView
    message: str
    receipt: StoredReceipt | None = None  # signed again with the new usage, for the cloud (when online)


def uncovered(resources: list[Resource], held: int) -> set[int]:
    """Running resources whose credits HOME no longer holds (ids). The quarters HOME holds go to running
    resources in the order they started; one that no longer fits is uncovered."""
    left, short = held, set()
    running = [r for r in resources if r.status == ResourceStatus.RUNNING and r.credits_in_use]
    for resource in sorted(running, key=lambda r: (r.started_order, r.id)):
        if resource.credits_in_use <= left:
            left -= resource.credits_in_use
        else:
            short.add(resource.id)
    return short


def shown(resources: list[Resource], entries: list[SnapshotEntry], now: datetime) -> list[ResourceView]:
    short = uncovered(resources, holdings.totals(entries, 0, now).total)
    return [ResourceView(r, ResourceStatus.UNLICENSED if r.id in short else r.status) for r in resources]


def plan_start(
    setting: LicenseSetting, license_type: str, count: int, free_perpetual: int, free_quarters: int
) -> Allocation | None:
    """What starting a resource takes, or None when not enough is free (then nothing is taken)."""
    perpetual = min(count, max(0, free_perpetual)) if setting != LicenseSetting.CREDITS else 0
    missing = count - perpetual
    if missing == 0:
        return Allocation(perpetual, 0)
    if setting == LicenseSetting.PERPETUAL:
        return None
    quarters = missing * CREDIT_COST_QUARTERS[license_type]
    if quarters > free_quarters:
        return None
    return Allocation(perpetual, quarters)


def free_perpetual(license_type: str, grants_total: int, resources: list[Resource]) -> int:
    used = sum(
        r.perpetual_in_use
        for r in resources
        if r.status == ResourceStatus.RUNNING and r.license_type_needed == license_type
    )
    return max(0, grants_total - used)


def shortfall(resource: Resource, free_licenses: int, free_quarters: int) -> str:
    cost = CREDIT_COST_QUARTERS[resource.license_type_needed] * resource.count
    free = f"{free_licenses} {agree(free_licenses, 'is', 'are')} free"
    remain = credits_agree(free_quarters, "remains", "remain")
    if resource.license_type == LicenseSetting.PERPETUAL:
        needed = count_of(resource.count, resource.license_type_needed + " perpetual license")
        return f"{resource.name} needs {needed}; {free}."
    if resource.license_type == LicenseSetting.CREDITS:
        return f"{resource.name} needs {credits_of(cost)}; {remain}."
    return (
        f"{resource.name} needs {count_of(resource.count, resource.license_type_needed + ' license')}: "
        f"{count_of(free_licenses, 'perpetual license')} {agree(free_licenses, 'is', 'are')} free and {remain}, "
        "which is not enough."
    )


UNCOVERED = (
    "{name} is running but unlicensed: HOME no longer holds the credits it uses (they were revoked or expired "
    "while it ran). It keeps running until you stop it, and cannot start again until HOME holds enough credits."
)


def usage(plan: Allocation) -> str:
    parts = [count_of(plan.perpetual, "perpetual license")] if plan.perpetual else []
    parts += [credits_of(plan.quarters)] if plan.quarters else []
    return f"It uses {' and '.join(parts) or 'nothing'}."


async def add_resource(node: Node, name: str, needed: str, count: int, setting: LicenseSetting) -> ResourceView:
    async with node.write() as tx:
        resource = await tx.add_resource(name, needed, count, setting, node.now())
    log.info("resource_added", resource_id=resource.id, license_type_needed=needed, count=count, setting=setting)
    return ResourceView(resource, resource.status)


async def list_resources(node: Node) -> list[ResourceView]:
    now = await node.current_time()
    return shown(await node.db.read.resources(), await node.db.read.entries(), now)


async def _view(tx: Queries, resource_id: int, now: datetime) -> ResourceView:
    [view] = [item for item in shown(await tx.resources(), await tx.entries(), now) if item.resource.id == resource_id]
    return view


def _existing(resource: Resource | None, resource_id: int) -> Resource:
    if resource is None:
        raise NotFound(f"There is no resource {resource_id}.")
    return resource


async def start_resource(node: Node, resource_id: int) -> StartOutcome:
    receipt = None
    async with node.write() as tx:
        resource = _existing(await tx.resource(resource_id), resource_id)
        now = node.now()
        if resource.status == ResourceStatus.RUNNING:
            view = await _view(tx, resource.id, now)
            if view.status == ResourceStatus.UNLICENSED:
                return StartOutcome(view, UNCOVERED.format(name=resource.name))
            return StartOutcome(view, f"{resource.name} is already running.")
        resources = await tx.resources()
        grants = sum(g.count for g in await tx.perpetual_grants() if g.license_type == resource.license_type_needed)
        licenses = free_perpetual(resource.license_type_needed, grants, resources)
        # What running resources use counts in full, held or not: while usage exceeds what HOME holds, none starts.
        quarters = holdings.totals(await tx.entries(), credits_in_use(resources), now).remaining
        plan = plan_start(resource.license_type, resource.license_type_needed, resource.count, licenses, quarters)
        if plan is None:
            await tx.set_resource_usage(resource.id, ResourceStatus.UNLICENSED, 0, 0)
            message = shortfall(resource, licenses, quarters)
            node.journal.note("resource_unlicensed", resource_id=resource.id, name=resource.name)
        else:
            await tx.set_resource_usage(resource.id, ResourceStatus.RUNNING, plan.perpetual, plan.quarters)
            message = usage(plan)
            node.journal.note(
                "resource_started",
                resource_id=resource.id,
                name=resource.name,
                licenses=plan.perpetual,
                credits=plan.quarters / 4,
            )
            if plan.quarters:
                receipt = await receipt_with_usage(node, tx, now)
        updated = await _view(tx, resource.id, now)
    log.info("resource_started" if plan else "resource_unlicensed", resource_id=resource.id, status=updated.status)
    return StartOutcome(updated, message, receipt)


async def stop_resource(node: Node, resource_id: int) -> StartOutcome:
    receipt = None
    async with node.write() as tx:
        resource = _existing(await tx.resource(resource_id), resource_id)
        now = node.now()
        await tx.set_resource_usage(resource.id, ResourceStatus.STOPPED, 0, 0)
        node.journal.note("resource_stopped", resource_id=resource.id, name=resource.name)
        if resource.status == ResourceStatus.RUNNING and resource.credits_in_use:
            receipt = await receipt_with_usage(node, tx, now)
        updated = await _view(tx, resource.id, now)
    log.info("resource_stopped", resource_id=resource.id)
    return StartOutcome(updated, "Its licenses and credits are free again.", receipt)
