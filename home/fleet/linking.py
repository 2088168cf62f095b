"""Link a fleet's nodes to an account through the cloud's API (what an admin does per system in the portal)."""

from typing import Any

import aiohttp
import structlog

from flex_emulator.home.fleet.nodes import Fleet, FleetNode, bounded

log = structlog.get_logger()

LINKING_AT_ONCE = 8


class LinkingError(Exception):
    """The cloud refused the fleet's sign-in or a link request."""


async def _call(
    session: aiohttp.ClientSession, method: str, url: str, token: str | None, body: Any = None
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with session.request(
        method, url, json=body, headers=headers, timeout=aiohttp.ClientTimeout(total=30)
    ) as response:
        return response.status, await response.json(content_type=None)


def _refusal(what: str, status: int, answer: Any) -> LinkingError:
    error = answer.get("error", {}) if isinstance(answer, dict) else {}
    return LinkingError(f"{what}: HTTP {status}, {error.get('message') or answer}")


async def sign_in(session: aiohttp.ClientSession, cloud_url: str, email: str, password: str) -> tuple[str, str]:
    """A bearer token and the first account the user belongs to."""
    status, answer = await _call(
        session, "POST", f"{cloud_url}/api/v1/auth/token", None, {"email": email, "password": password}
    )
    if status != 200:
        raise _refusal("Signing in to the cloud failed", status, answer)
    if not answer["accounts"]:
        raise LinkingError(f"{email} belongs to no account to link the fleet to.")
    return str(answer["token"]), str(answer["accounts"][0]["id"])


async def link_fleet(fleet: Fleet, token: str, account_id: str) -> int:
    """Link every node not linked to the account yet; answers how many were linked now."""
    base = f"{fleet.config.cloud_url.rstrip('/')}/api/v1/accounts/{account_id}/systems"
    status, answer = await _call(fleet.session, "GET", base, token)
    if status != 200:
        raise _refusal(f"Listing the systems of account {account_id} failed", status, answer)
    linked = {system["id"] for system in answer["systems"]}
    missing = [item for item in fleet.nodes if item.system_id not in linked]
    added: list[str] = []

    async def link(item: FleetNode) -> None:
        status, answer = await _call(fleet.session, "POST", base, token, {"registration_code": item.registration_code})
        if status != 201:
            raise _refusal(f"Linking {item.node.label} ({item.system_id}) failed", status, answer)
        added.append(item.system_id)
        item.link.retry_now()  # it may be waiting out a "not linked" refusal

    await bounded(missing, LINKING_AT_ONCE, link)
    log.info("fleet_linked", account_id=account_id, linked_now=len(added), already=len(fleet.nodes) - len(missing))
    return len(added)


async def link_from_config(fleet: Fleet) -> int:
    """Link as the fleet's config asks (a token, or an email and password); 0 when it asks for nothing."""
    config = fleet.config
    cloud = config.cloud_url.rstrip("/")
    if config.link_token:
        account = config.link_account
        if account is None:
            status, answer = await _call(fleet.session, "GET", f"{cloud}/api/v1/accounts", config.link_token)
            if status != 200 or not answer.get("accounts"):
                raise _refusal("Finding the account to link the fleet to failed", status, answer)
            account = str(answer["accounts"][0]["id"])
        return await link_fleet(fleet, config.link_token, account)
    if config.link_email and config.link_password:
        token, first = await sign_in(fleet.session, cloud, config.link_email, config.link_password)
        return await link_fleet(fleet, token, config.link_account or first)
    return 0
