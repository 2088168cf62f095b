"""The inspector's calls to a HOME's own routes: its system, its journal, its clock, its cloud link switch.

Only to an address ``HomeAddresses`` accepted, never following a redirect (a redirect could lead
anywhere), with a short timeout, and checking that the HOME there is the system asked about.
"""

from typing import Any

import aiohttp
import structlog

from flex_emulator.shared.errors import ApiError, Conflict

log = structlog.get_logger()

TIMEOUT_SECONDS = 3.0
EVENTS_PAGE = 1000


class HomeUnreachable(ApiError):
    """Nothing (or not a HOME) answers at the address: the request cannot be done while that is so (409)."""

    def __init__(self, url: str, why: str) -> None:
        super().__init__(f"HOME at {url} did not answer: {why}.", code="home_unreachable", status=409)


class HomeRefused(ApiError):
    """HOME answered with one of the contract's errors: its code and sentence, passed on."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"HOME answered: {message}", code=code, status=409 if status >= 500 else status)


class HomeClient:
    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(self, method: str, url: str, path: str, body: Any = None) -> dict[str, Any]:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS))
        try:
            async with self._session.request(method, url + path, json=body, allow_redirects=False) as answer:
                data = await answer.json(content_type=None)
                status = answer.status
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            raise HomeUnreachable(url, str(exc) or type(exc).__name__) from None
        if status >= 300:
            error = data.get("error") if isinstance(data, dict) else None
            if not isinstance(error, dict):
                raise HomeUnreachable(url, f"HTTP {status}")
            raise HomeRefused(status, str(error.get("code")), str(error.get("message")))
        if not isinstance(data, dict):
            raise HomeUnreachable(url, "its answer is not a JSON object")
        return data

    async def system(self, url: str, system_id: str) -> dict[str, Any]:
        """HOME's ``GET /api/v1/system``, once it is known to be ``system_id``'s HOME."""
        answer = await self.call("GET", url, "/api/v1/system")
        if answer.get("system_id") != system_id:
            raise Conflict(
                f"The HOME at {url} is system {answer.get('system_id')}, not {system_id}.", code="wrong_home"
            )
        return answer

    async def events(self, url: str, after: int) -> list[dict[str, Any]]:
        """HOME's journal after ``after``, oldest first (every page of it)."""
        events: list[dict[str, Any]] = []
        while True:
            page = await self.call("GET", url, f"/_emulator/events?after={after}&limit={EVENTS_PAGE}")
            found = page.get("events")
            if not isinstance(found, list):
                raise HomeUnreachable(url, "its journal answer has no events")
            events.extend(event for event in found if isinstance(event, dict))
            if len(found) < EVENTS_PAGE:
                return events
            after = int(str(page.get("next")))

    async def clock(self, url: str) -> dict[str, Any]:
        return await self.call("GET", url, "/_emulator/clock")

    async def move_clock(self, url: str, now: str) -> dict[str, Any]:
        return await self.call("POST", url, "/_emulator/clock", {"now": now})

    async def set_link(self, url: str, enabled: bool) -> dict[str, Any]:
        return await self.call("PUT", url, "/api/v1/cloud-link", {"enabled": enabled})
