"""Starting and stopping a resource from the API or the Resources page, and telling the cloud what HOME uses."""

from flex_emulator.home.domain import spending
from flex_emulator.home.domain.node import Node
from flex_emulator.home.link.cloud_link import CloudLink


async def start_or_stop(node: Node, link: CloudLink, resource_id: int, *, start: bool) -> spending.StartOutcome:
    """Start or stop a resource. When that changed the credits HOME uses, its receipt, signed again with the new
    usage, goes to the cloud at once (when online): the portal then warns before a revoke that would leave a
    running resource unlicensed."""
    action = spending.start_resource if start else spending.stop_resource
    outcome = await action(node, resource_id)
    if outcome.receipt is not None:
        await link.send_receipt(outcome.receipt.token, outcome.receipt.seq, source="usage")
    return outcome
