"""Helpers for tests that drive a real, in-process cloud through its HTTP API, with ``flex_emulator``'s client."""

from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from flex_emulator import AsyncCloudClient, AsyncHomeClient
from flex_emulator.cloud.appkeys import DB
from flex_emulator.shared.keys import system_id_for
from flex_emulator.shared.tokens import sign_registration
from flex_emulator.transport import AsyncTransport
from tests.kit import TENANT_ADMIN, TENANT_NAME


def cloud_api(client: TestClient, token: str | None = None) -> AsyncCloudClient:
    """The public client, speaking over the test client's own session (closed with it)."""
    return AsyncCloudClient(str(client.make_url("")), token=token, transport=AsyncTransport(session=client.session))


def home_api(client: TestClient) -> AsyncHomeClient:
    return AsyncHomeClient(str(client.make_url("")), transport=AsyncTransport(session=client.session))


async def call(
    client: TestClient,
    method: str,
    path: str,
    *,
    token: str | None = None,
    json: Any = None,
    data: bytes | None = None,
    expect: int = 200,
) -> Any:
    """One request; asserts the status (``ApiError`` otherwise) and returns the JSON body (or text)."""
    return await cloud_api(client, token).call(method, path, json=json, data=data, expect=expect)


def assert_error(body: Any, code: str) -> None:
    """The contract's one error shape, with the code we expect and a sentence for a person."""
    assert isinstance(body, dict) and set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and len(body["error"]["message"]) > 10, body


@dataclass
class Tenant:
    """An account with a signed-in admin, made through the emulator API."""

    client: TestClient
    account_id: str
    token: str

    @property
    def api(self) -> AsyncCloudClient:
        """The public client acting as this tenant's admin."""
        return cloud_api(self.client, self.token)

    def path(self, rest: str) -> str:
        return f"/api/v1/accounts/{self.account_id}{rest}"

    async def get(self, rest: str, expect: int = 200) -> Any:
        return await self.api.call("GET", self.path(rest), expect=expect)

    async def post(self, rest: str, json: Any = None, expect: int = 200, token: str | None = None) -> Any:
        return await cloud_api(self.client, token or self.token).call("POST", self.path(rest), json=json, expect=expect)

    async def subscription(
        self, credits: float, duration: str = "monthly", state: str = "active", order_id: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"duration": duration, "credits": credits, "state": state}
        if order_id:
            body["order_id"] = order_id
        path = f"/_emulator/accounts/{self.account_id}/subscriptions"
        answer = await self.api.call("POST", path, json=body, expect=201)
        return answer["subscription"]

    async def link(self, code: str, label: str | None = None) -> dict[str, Any]:
        return dict(await self.api.link_system(self.account_id, code, label))

    async def link_new_system(self, label: str = "OB Van 3") -> tuple[dict[str, Any], Ed25519PrivateKey]:
        """A system whose HOME never runs here: only its key exists (the disconnected case)."""
        key = Ed25519PrivateKey.generate()
        system = await self.link(sign_registration(key, label))
        assert system["id"] == system_id_for(key.public_key())
        return system, key

    async def assign(self, system_id: str, sub_id: str, credits: float | str, expect: int = 201, **extra: Any) -> Any:
        body = await self.post(
            f"/systems/{system_id}/assignments", {"subscription_id": sub_id, "credits": credits, **extra}, expect=expect
        )
        return body["assignment"] if expect == 201 else body

    async def revoke(self, system_id: str, assignment_id: str, expect: int = 200) -> Any:
        return await self.post(
            f"/systems/{system_id}/assignments/{assignment_id}/revoke", {"confirm": "confirm"}, expect=expect
        )

    async def download(self, system_id: str) -> str:
        """The portal's Download: the credits file as an attachment, checked as such."""
        response = await self.api.raw("POST", self.path(f"/systems/{system_id}/credits-file"))
        assert response.status == 200, response.body
        assert response.headers["Content-Type"] == "application/jwt"  # RFC 7519: the media type has no charset
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment; filename=") and disposition.endswith('.jwt"')
        return response.body.decode()

    async def sub_state(self, sub_id: str) -> dict[str, Any]:
        subs = (await self.get("/subscriptions"))["subscriptions"]
        return next(sub for sub in subs if sub["id"] == sub_id)


async def new_tenant(
    client: TestClient, name: str = TENANT_NAME, email: str = TENANT_ADMIN[0], password: str = TENANT_ADMIN[1]
) -> Tenant:
    api = cloud_api(client)
    answer = await api.create_account(name, email, password)
    token = (await api.sign_in(email, password))["token"]
    return Tenant(client, answer["account"]["id"], token)


async def sign_in(client: TestClient, email: str, password: str) -> str:
    return str((await cloud_api(client).sign_in(email, password))["token"])


async def assert_invariant(app: web.Application) -> None:
    """available + held = total for every subscription, and the ledger agrees."""
    violations = await app[DB].read.ledger.invariant_violations()
    assert violations == [], violations
