"""Licensed resources: starting one takes perpetual licenses of its type first, then credits."""

from dataclasses import dataclass

import structlog

from flex_emulator.home.domain import holdings
from flex_emulator.home.domain.licensing import credits_in_use
from flex_emulator.home.domain.models import LicenseSetting, Resource, ResourceStatus
from flex_emulator.home.domain.node import Node
from flex_emulator.home.domain.wording import agree, count_of, credits_agree, credits_of
from flex_emulator.shared.catalog import CREDIT_COST_QUARTERS
from flex_emulator.shared.errors import NotFound

log = structlog.get_logger()

LICENSE_SETTINGS = tuple(LicenseSetting)


@dataclass(frozen=True)
class Allocation:
    perpetual: int  # licenses
    quarters: int  # credits, in quarters


@dataclass(frozen=True)
class StartOutcome:
    resource: Resource
    message: str


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


def usage(plan: Allocation) -> str:
    parts = [count_of(plan.perpetual, "perpetual license")] if plan.perpetual else []
    parts += [credits_of(plan.quarters)] if plan.quarters else []
    return f"It uses {' and '.join(parts) or 'nothing'}."


async def add_resource(node: Node, name: str, needed: str, count: int, setting: LicenseSetting) -> Resource:
    async with node.write() as tx:
        resource = await tx.add_resource(name, needed, count, setting, node.now())
    log.info("resource_added", resource_id=resource.id, license_type_needed=needed, count=count, setting=setting)
    return resource


async def list_resources(node: Node) -> list[Resource]:
    return await node.db.read.resources()


def _existing(resource: Resource | None, resource_id: int) -> Resource:
    if resource is None:
        raise NotFound(f"There is no resource {resource_id}.")
    return resource


async def start_resource(node: Node, resource_id: int) -> StartOutcome:
    async with node.write() as tx:
        resource = _existing(await tx.resource(resource_id), resource_id)
        if resource.status == ResourceStatus.RUNNING:
            return StartOutcome(resource, f"{resource.name} is already running.")
        now = node.now()
        resources = await tx.resources()
        grants = sum(g.count for g in await tx.perpetual_grants() if g.license_type == resource.license_type_needed)
        licenses = free_perpetual(resource.license_type_needed, grants, resources)
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
        updated = await tx.resource(resource.id)
    assert updated is not None
    log.info("resource_started" if plan else "resource_unlicensed", resource_id=resource.id, status=updated.status)
    return StartOutcome(updated, message)


async def stop_resource(node: Node, resource_id: int) -> StartOutcome:
    async with node.write() as tx:
        resource = _existing(await tx.resource(resource_id), resource_id)
        await tx.set_resource_usage(resource.id, ResourceStatus.STOPPED, 0, 0)
        node.journal.note("resource_stopped", resource_id=resource.id, name=resource.name)
        updated = await tx.resource(resource.id)
    assert updated is not None
    log.info("resource_stopped", resource_id=resource.id)
    return StartOutcome(updated, "Its licenses and credits are free again.")
