"""Typed clients for the cloud's and HOME's HTTP APIs, the emulator control routes included.

Every method is one request; an answer with another status than expected raises ``ApiError``
(its ``status``, ``code`` and ``message`` are the service's). ``call(method, path, expect=...)``
sends any request and checks any status; ``raw`` returns the ``Response`` whatever it is.
A client needs only a URL: in a pytest-aiohttp test, ``AsyncCloudClient(str(client.make_url("/")))``.
"""

from collections.abc import Collection
from typing import Any, cast
from urllib.parse import urlencode

from flex_emulator import answers
from flex_emulator.transport import ApiError, AsyncTransport, Response


class _AsyncBase:
    """What both clients share: the URL, a bearer token, the transport, and the routes both services have."""

    def __init__(self, url: str, *, token: str | None = None, transport: AsyncTransport | None = None) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.transport = transport or AsyncTransport()

    async def raw(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: bytes | None = None,
        query: dict[str, Any] | None = None,
    ) -> Response:
        """One request, whatever the answer (no status check)."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if query:
            # a list's values as the same parameter repeated (``kind=a&kind=b``)
            path = f"{path}?{urlencode({key: value for key, value in query.items() if value is not None}, doseq=True)}"
        return await self.transport.request(method, self.url + path, json=json, data=data, headers=headers)

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: bytes | None = None,
        query: dict[str, Any] | None = None,
        expect: int = 200,
    ) -> Any:
        """One request whose status must be ``expect``; returns the JSON answer (or the text of any other answer)."""
        answer = await self.raw(method, path, json=json, data=data, query=query)
        body = answer.json() if answer.content_type == "application/json" else answer.body.decode()
        if answer.status != expect:
            error = body.get("error") if isinstance(body, dict) else None
            code = str(error.get("code")) if isinstance(error, dict) else "unexpected_status"
            message = str(error.get("message")) if isinstance(error, dict) else str(body)[:500]
            raise ApiError(method, self.url + path, answer.status, code, message)
        return body

    async def healthz(self) -> dict[str, str]:
        """``{"status": "ok"}`` once the service is ready."""
        return cast(dict[str, str], await self.call("GET", "/healthz"))

    async def openapi(self) -> dict[str, Any]:
        """The service's OpenAPI 3.1 document."""
        return cast(dict[str, Any], await self.call("GET", "/openapi.json"))

    async def clock(self) -> answers.Clock:
        """The service's clock: ``{now, virtual}`` (and what else the service adds)."""
        return cast(answers.Clock, await self.call("GET", "/_emulator/clock"))

    async def move_clock(self, *, advance_seconds: float | None = None, now: str | None = None) -> answers.Clock:
        """Move a virtual clock forward by ``advance_seconds`` or to ``now`` (ISO 8601)."""
        body = {"advance_seconds": advance_seconds} if advance_seconds is not None else {"now": now}
        return cast(answers.Clock, await self.call("POST", "/_emulator/clock", json=body))

    async def events(
        self, *, after: str | None = None, limit: int | None = None, kind: str | Collection[str] | None = None
    ) -> answers.Events:
        """One page of the emulator's event journal, oldest first, from just after the cursor ``after``; ``kind``
        keeps the events of one kind (or of several)."""
        kinds = [kind] if isinstance(kind, str) else sorted(kind) if kind is not None else None
        query = {"after": after, "limit": limit, "kind": kinds}
        return cast(answers.Events, await self.call("GET", "/_emulator/events", query=query))

    async def requests(
        self, *, after: str | None = None, limit: int | None = None, path: str | None = None, method: str | None = None
    ) -> answers.Requests:
        """One page of the request journal: the requests the service answered, oldest first, after ``after``;
        ``path`` keeps those whose path starts with it, ``method`` those of that method."""
        query = {"after": after, "limit": limit, "path": path, "method": method}
        return cast(answers.Requests, await self.call("GET", "/_emulator/requests", query=query))

    async def http_faults(self) -> list[answers.HttpFault]:
        """The HTTP faults armed on this service, oldest first."""
        return cast(list[answers.HttpFault], (await self.call("GET", "/_emulator/http-faults"))["faults"])

    async def add_http_fault(
        self,
        path: str,
        action: answers.HttpFaultAction,
        *,
        method: str | None = None,
        status: int | None = None,
        retry_after: int | None = None,
        latency_ms: int | None = None,
        times: int | None = None,
    ) -> answers.HttpFault:
        """Arm one fault on requests to ``path`` (exact, or a prefix ending in ``*``); the fault as armed."""
        spec = {
            "path": path,
            "action": action,
            "method": method,
            "status": status,
            "retry_after": retry_after,
            "latency_ms": latency_ms,
            "times": times,
        }
        body = {"add": {key: value for key, value in spec.items() if value is not None}}
        faults = (await self.call("POST", "/_emulator/http-faults", json=body))["faults"]
        return cast(answers.HttpFault, faults[-1])

    async def clear_http_faults(self) -> None:
        """Lift every HTTP fault armed on this service."""
        await self.call("POST", "/_emulator/http-faults", json={"clear": True})

    async def close(self) -> None:
        """Close the transport (only one this client made itself)."""
        await self.transport.close()


class AsyncCloudClient(_AsyncBase):
    """The licensing cloud: the account API (with ``token``) and the emulator control routes."""

    def with_token(self, token: str | None) -> "AsyncCloudClient":
        """The same cloud and connection, acting as another user."""
        return AsyncCloudClient(self.url, token=token, transport=self.transport)

    def _acc(self, account_id: str, rest: str = "") -> str:
        return f"/api/v1/accounts/{account_id}{rest}"

    # --- sign-in and accounts ------------------------------------------------------------------

    async def jwks(self) -> dict[str, Any]:
        """The cloud's public signing keys (a JWK Set)."""
        return cast(dict[str, Any], await self.call("GET", "/.well-known/jwks.json"))

    async def sign_in(self, email: str, password: str) -> dict[str, Any]:
        """``{token, accounts}``; use ``with_token(answer["token"])`` to act as that user."""
        return cast(
            dict[str, Any], await self.call("POST", "/api/v1/auth/token", json={"email": email, "password": password})
        )

    async def sign_out(self) -> None:
        """End this client's session: its token is refused from now on."""
        await self.call("POST", "/api/v1/auth/logout")

    async def accounts(self) -> list[answers.Membership]:
        """The accounts the signed-in user belongs to, with their role in each."""
        return cast(list[answers.Membership], (await self.call("GET", "/api/v1/accounts"))["accounts"])

    async def users(self, account_id: str) -> list[dict[str, Any]]:
        """The members of an account."""
        return cast(list[dict[str, Any]], (await self.call("GET", self._acc(account_id, "/users")))["users"])

    async def add_user(
        self, account_id: str, email: str, role: answers.Role, password: str | None = None
    ) -> dict[str, Any]:
        """Invite ``email`` (nobody joins without accepting: see ``accept_invitation``); the invitation."""
        body = {"email": email, "role": role} | ({"password": password} if password else {})
        answer = await self.call("POST", self._acc(account_id, "/invitations"), json=body, expect=202)
        return cast(dict[str, Any], answer["invitation"])

    async def invitations(self) -> list[dict[str, Any]]:
        """Invitations to the signed-in user."""
        return cast(list[dict[str, Any]], (await self.call("GET", "/api/v1/invitations"))["invitations"])

    async def accept_invitation(self, invitation_id: str) -> answers.Membership:
        """Accept an invitation to the signed-in user: they join that account."""
        return cast(
            answers.Membership, (await self.call("POST", f"/api/v1/invitations/{invitation_id}/accept"))["account"]
        )

    async def remove_user(self, account_id: str, user_id: str) -> None:
        """Remove a member from an account (admins only)."""
        await self.call("DELETE", self._acc(account_id, f"/users/{user_id}"))

    async def history(self, account_id: str, limit: int | None = None) -> list[dict[str, Any]]:
        """The account's history (ledger events), newest first; ``limit`` caps how many."""
        return cast(
            list[dict[str, Any]],
            (await self.call("GET", self._acc(account_id, "/history"), query={"limit": limit}))["events"],
        )

    # --- subscriptions -----------------------------------------------------------------------

    async def subscriptions(self, account_id: str) -> list[answers.Subscription]:
        """Every subscription of the account."""
        return cast(
            list[answers.Subscription],
            (await self.call("GET", self._acc(account_id, "/subscriptions")))["subscriptions"],
        )

    async def subscription(self, account_id: str, subscription_id: str) -> answers.Subscription:
        """One subscription of the account, as the cloud shows it now."""
        return next(sub for sub in await self.subscriptions(account_id) if sub["id"] == subscription_id)

    async def activate(self, account_id: str, subscription_id: str) -> answers.Subscription:
        """Activate an inactive subscription (admins only)."""
        path = self._acc(account_id, f"/subscriptions/{subscription_id}/activate")
        return cast(answers.Subscription, (await self.call("POST", path))["subscription"])

    async def cancel(self, account_id: str, subscription_id: str) -> answers.Subscription:
        """Cancel a subscription at the end of its term (admins only)."""
        path = self._acc(account_id, f"/subscriptions/{subscription_id}/cancel")
        return cast(answers.Subscription, (await self.call("POST", path))["subscription"])

    # --- systems and credits ------------------------------------------------------------------

    async def systems(self, account_id: str) -> list[answers.System]:
        """The account's linked systems, each with its credits assigned."""
        return cast(list[answers.System], (await self.call("GET", self._acc(account_id, "/systems")))["systems"])

    async def link_system(self, account_id: str, registration_code: str, label: str | None = None) -> answers.System:
        """Link a HOME to the account by its registration code (admins only)."""
        body = {"registration_code": registration_code} | ({"label": label} if label else {})
        return cast(
            answers.System,
            (await self.call("POST", self._acc(account_id, "/systems"), json=body, expect=201))["system"],
        )

    async def unlink_system(self, account_id: str, system_id: str) -> dict[str, Any]:
        """Unlink a system that has no open assignments."""
        return cast(dict[str, Any], await self.call("DELETE", self._acc(account_id, f"/systems/{system_id}")))

    async def system(self, account_id: str, system_id: str) -> answers.SystemDetail:
        """One system with its assignments."""
        return cast(answers.SystemDetail, await self.call("GET", self._acc(account_id, f"/systems/{system_id}")))

    async def assign(
        self,
        account_id: str,
        system_id: str,
        subscription_id: str,
        credits: float | str,
        *,
        auto_revoke_at: str | None = None,
    ) -> answers.Assignment:
        """Assign ``credits`` from a subscription to a system; 201 with the assignment."""
        body: dict[str, Any] = {"subscription_id": subscription_id, "credits": credits}
        if auto_revoke_at is not None:
            body["auto_revoke_at"] = auto_revoke_at
        path = self._acc(account_id, f"/systems/{system_id}/assignments")
        return cast(answers.Assignment, (await self.call("POST", path, json=body, expect=201))["assignment"])

    async def revoke(self, account_id: str, system_id: str, assignment_id: str) -> answers.Assignment:
        """Revoke an assignment: ``ended``, or ``revoke_pending`` while proof is awaited."""
        path = self._acc(account_id, f"/systems/{system_id}/assignments/{assignment_id}/revoke")
        return cast(answers.Assignment, (await self.call("POST", path, json={"confirm": "confirm"}))["assignment"])

    async def download(self, account_id: str, system_id: str, *, fault: answers.Fault | None = None) -> str:
        """The credits file (a compact JWT). ``fault`` asks an emulator for a deliberately bad one."""
        path = self._acc(account_id, f"/systems/{system_id}/credits-file")
        return cast(str, await self.call("POST", path, query={"fault": fault}))

    async def enter_revoke_key(self, account_id: str, system_id: str, revoke_key: str) -> answers.RevokeKeyResult:
        """Enter a disconnected HOME's revoke key: the assignments it proves dropped come back."""
        path = self._acc(account_id, f"/systems/{system_id}/revoke-keys")
        return cast(answers.RevokeKeyResult, await self.call("POST", path, json={"revoke_key": revoke_key}))

    # --- emulator control ---------------------------------------------------------------------

    async def create_account(
        self, name: str, email: str, password: str, *, subscriptions: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """``{account: {id, name}, token}``: a new account and a bearer token of its admin. With ``subscriptions``
        (bodies as ``create_subscription`` sends), made with it in the same request, and the answer's
        ``subscriptions`` lists them."""
        body: dict[str, Any] = {"name": name, "admin": {"email": email, "password": password}}
        if subscriptions is not None:
            body["subscriptions"] = subscriptions
        return cast(dict[str, Any], await self.call("POST", "/_emulator/accounts", json=body, expect=201))

    async def create_user(self, account_id: str, email: str, role: answers.Role, password: str) -> dict[str, Any]:
        """Add a user to an account directly (emulator route: no invitation)."""
        body = {"email": email, "role": role, "password": password}
        return cast(
            dict[str, Any], await self.call("POST", f"/_emulator/accounts/{account_id}/users", json=body, expect=201)
        )

    async def create_subscription(
        self,
        account_id: str,
        credits: float | str,
        *,
        duration: answers.Duration = "monthly",
        active: bool = True,
        order_id: str | None = None,
    ) -> answers.Subscription:
        """A new subscription for an account (emulator route), active unless ``active=False``."""
        body: dict[str, Any] = {"duration": duration, "credits": credits, "state": "active" if active else "inactive"}
        if order_id is not None:
            body["order_id"] = order_id
        path = f"/_emulator/accounts/{account_id}/subscriptions"
        return cast(answers.Subscription, (await self.call("POST", path, json=body, expect=201))["subscription"])

    async def perpetual_license(self, system_id: str, license_type: str, count: int = 1) -> str:
        """A signed ``.lic`` file for that system."""
        body = {"license_type": license_type, "count": count}
        return cast(str, await self.call("POST", f"/_emulator/systems/{system_id}/perpetual-licenses", json=body))

    async def invariant(self) -> answers.Invariant:
        """The cloud's own check of its books: ``{ok, violations}``."""
        return cast(answers.Invariant, await self.call("GET", "/_emulator/invariant"))

    async def reset(self, *, now: str | None = None) -> dict[str, Any]:
        """Empty the cloud (keys stay); ``now`` sets a virtual clock, even backwards."""
        return cast(dict[str, Any], await self.call("POST", "/_emulator/reset", json={"now": now} if now else {}))

    async def dump_state(self) -> dict[str, Any]:
        """The whole state of the cloud as one JSON document (``restore_state`` takes it back)."""
        return cast(dict[str, Any], await self.call("GET", "/_emulator/state"))

    async def restore_state(self, document: dict[str, Any]) -> dict[str, Any]:
        """Replace the cloud's whole state with a document from ``dump_state``."""
        return cast(dict[str, Any], await self.call("PUT", "/_emulator/state", json=document))

    async def settled(self, system_id: str, *, timeout: float = 5.0, advance: bool = False) -> answers.Settled:
        """Wait (in the cloud) until HOME acknowledged the latest copy issued to it. With ``advance`` a
        virtual clock runs on to the cloud's next re-push while a copy or its receipt was lost."""
        path = f"/_emulator/systems/{system_id}/settled"
        query = {"timeout": timeout, "advance": "true" if advance else None}
        return cast(answers.Settled, await self.call("GET", path, query=query))

    async def link_faults(self, system_id: str) -> dict[str, Any]:
        """The link faults armed on a system."""
        return cast(dict[str, Any], (await self.call("GET", f"/_emulator/systems/{system_id}/link-faults"))["faults"])

    async def set_link_faults(self, system_id: str, **faults: Any) -> dict[str, Any]:
        """``cut``, ``latency_ms``, ``drop_next``, ``duplicate_next`` or ``clear`` (see docs/contract.md)."""
        path = f"/_emulator/systems/{system_id}/link-faults"
        return cast(dict[str, Any], (await self.call("POST", path, json=faults))["faults"])


class AsyncHomeClient(_AsyncBase):
    """One HOME node: its system, cloud link, licenses, resources and emulator routes."""

    async def system(self) -> answers.HomeSystem:
        """HOME's identity and its cloud link: ``{system_id, label, registration_code, cloud}``."""
        return cast(answers.HomeSystem, await self.call("GET", "/api/v1/system"))

    async def set_cloud_link(self, enabled: bool) -> answers.CloudLink:
        """Switch the cloud link on or off; the link's state afterwards."""
        return cast(answers.CloudLink, await self.call("PUT", "/api/v1/cloud-link", json={"enabled": enabled}))

    async def wait_for_link(self, state: answers.LinkState, *, timeout: float = 5.0) -> answers.CloudLink:
        """Wait (in HOME, at most ``timeout`` real seconds) until the cloud link is in ``state``; the link then.
        ``ApiError`` 504 ``timeout`` when it was not."""
        query = {"state": state, "timeout": timeout}
        return cast(answers.CloudLink, await self.call("GET", "/_emulator/cloud-link", query=query))

    async def switch_link(
        self, enabled: bool, *, wait_for: answers.LinkState | None = None, timeout: float = 5.0
    ) -> answers.CloudLink:
        """Switch the cloud link on or off as ``set_cloud_link`` does and, with ``wait_for``, wait (in HOME, at most
        ``timeout`` real seconds) until it is in that state: one request. ``ApiError`` 504 ``timeout`` when it was
        not (the switch stays made)."""
        query = {} if wait_for is None else {"state": wait_for, "timeout": timeout}
        body = {"enabled": enabled}
        return cast(answers.CloudLink, await self.call("PUT", "/_emulator/cloud-link", json=body, query=query))

    async def upload(self, file: str | bytes, *, expect: int = 200) -> answers.FileResult:
        """Upload a credits file (``.jwt``) or a perpetual license (``.lic``) as the raw body."""
        data = file.encode() if isinstance(file, str) else file
        return cast(answers.FileResult, await self.call("POST", "/api/v1/file-licenses", data=data, expect=expect))

    async def credits(self) -> answers.HomeCredits:
        """What HOME holds now: totals, ``seq``, revoke key, entries and timeline."""
        return cast(answers.HomeCredits, await self.call("GET", "/api/v1/licenses/credits"))

    async def perpetual(self) -> list[answers.PerpetualLine]:
        """HOME's perpetual licenses, per license type."""
        return cast(list[answers.PerpetualLine], (await self.call("GET", "/api/v1/licenses/perpetual"))["licenses"])

    async def resources(self) -> list[answers.Resource]:
        """HOME's resources."""
        return cast(list[answers.Resource], (await self.call("GET", "/api/v1/resources"))["resources"])

    async def add_resource(
        self, name: str, license_type_needed: str, count: int = 1, license_type: str = "credits"
    ) -> answers.Resource:
        """A new resource needing ``count`` licenses of ``license_type_needed``."""
        body = {"name": name, "license_type_needed": license_type_needed, "count": count, "license_type": license_type}
        return cast(answers.Resource, (await self.call("POST", "/api/v1/resources", json=body, expect=201))["resource"])

    async def resource(self, resource_id: int) -> answers.Resource:
        """One resource."""
        return cast(answers.Resource, (await self.call("GET", f"/api/v1/resources/{resource_id}"))["resource"])

    async def start_resource(self, resource_id: int) -> answers.Resource:
        """Start a resource: ``running`` when licensed, else ``unlicensed``."""
        return cast(answers.Resource, (await self.call("POST", f"/api/v1/resources/{resource_id}/start"))["resource"])

    async def stop_resource(self, resource_id: int) -> answers.Resource:
        """Stop a resource (its licenses are free again)."""
        return cast(answers.Resource, (await self.call("POST", f"/api/v1/resources/{resource_id}/stop"))["resource"])

    async def reset(self, *, identity: bool = False) -> dict[str, Any]:
        """Forget every license and resource; ``identity=True`` also makes HOME a new system."""
        return cast(dict[str, Any], await self.call("POST", "/_emulator/reset", json={"identity": identity}))
