"""Helpers for tests that drive a real, in-process cloud through its HTTP API."""

from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cloud.appkeys import DB
from shared.keys import system_id_for
from shared.tokens import sign_registration
from tests.kit import TENANT_ADMIN, TENANT_NAME


class ApiFailure(AssertionError):
    pass


async def call(
    client: TestClient,
    method: str,
    path: str,
    *,
    token: str | None = None,
    json: Any = None,
    expect: int = 200,
    **kwargs: Any,
) -> Any:
    """One request; asserts the status and returns the JSON body (or text for non-JSON answers)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.request(method, path, json=json, headers=headers, **kwargs)
    body: Any = await response.json() if response.content_type == "application/json" else await response.text()
    if response.status != expect:
        raise ApiFailure(f"{method} {path} answered {response.status}, expected {expect}: {body}")
    return body


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

    def path(self, rest: str) -> str:
        return f"/api/v1/accounts/{self.account_id}{rest}"

    async def get(self, rest: str, expect: int = 200) -> Any:
        return await call(self.client, "GET", self.path(rest), token=self.token, expect=expect)

    async def post(self, rest: str, json: Any = None, expect: int = 200, token: str | None = None) -> Any:
        return await call(self.client, "POST", self.path(rest), token=token or self.token, json=json, expect=expect)

    async def subscription(
        self, credits: float, duration: str = "monthly", state: str = "active", order_id: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"duration": duration, "credits": credits, "state": state}
        if order_id:
            body["order_id"] = order_id
        answer = await call(
            self.client, "POST", f"/_emulator/accounts/{self.account_id}/subscriptions", json=body, expect=201
        )
        return answer["subscription"]

    async def link(self, code: str, label: str | None = None) -> dict[str, Any]:
        body = {"registration_code": code} | ({"label": label} if label else {})
        return (await self.post("/systems", body, expect=201))["system"]

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
        response = await self.client.post(
            self.path(f"/systems/{system_id}/credits-file"), headers={"Authorization": f"Bearer {self.token}"}
        )
        assert response.status == 200, await response.text()
        assert response.headers["Content-Type"] == "application/jwt"  # RFC 7519: the media type has no charset
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment; filename=") and disposition.endswith('.jwt"')
        return await response.text()

    async def sub_state(self, sub_id: str) -> dict[str, Any]:
        subs = (await self.get("/subscriptions"))["subscriptions"]
        return next(sub for sub in subs if sub["id"] == sub_id)


async def new_tenant(
    client: TestClient, name: str = TENANT_NAME, email: str = TENANT_ADMIN[0], password: str = TENANT_ADMIN[1]
) -> Tenant:
    answer = await call(
        client,
        "POST",
        "/_emulator/accounts",
        json={"name": name, "admin": {"email": email, "password": password}},
        expect=201,
    )
    token = (await call(client, "POST", "/api/v1/auth/token", json={"email": email, "password": password}))["token"]
    return Tenant(client, answer["account"]["id"], token)


async def sign_in(client: TestClient, email: str, password: str) -> str:
    return (await call(client, "POST", "/api/v1/auth/token", json={"email": email, "password": password}))["token"]


async def assert_invariant(app: web.Application) -> None:
    """available + held = total for every subscription, and the ledger agrees."""
    violations = await app[DB].read.ledger.invariant_violations()
    assert violations == [], violations
