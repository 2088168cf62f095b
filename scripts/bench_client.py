"""The cloud and HOME APIs for the benchmarks, over aiohttp test clients of in-process services.

Scripts do not import the tests; this is the small part of an API client the benchmarks need
(the public, typed client for code outside this repository is ``flex_emulator``)."""

from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.tokens import sign_registration


async def call(
    client: TestClient, method: str, path: str, *, token: str | None = None, expect: int = 200, **kwargs: Any
) -> Any:
    """One request; checks the status and returns the JSON answer (or the text of any other answer)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.request(method, path, headers=headers, **kwargs)
    body: Any = await response.json() if response.content_type == "application/json" else await response.text()
    if response.status != expect:
        raise RuntimeError(f"{method} {path} answered {response.status}, expected {expect}: {body}")
    return body


@dataclass
class Tenant:
    """An account with its admin's token, made through the emulator API."""

    client: TestClient
    account_id: str
    token: str

    async def post(self, rest: str, json: Any = None, expect: int = 200) -> Any:
        path = f"/api/v1/accounts/{self.account_id}{rest}"
        return await call(self.client, "POST", path, token=self.token, json=json, expect=expect)

    async def subscription(self, credits: float, duration: str = "monthly") -> dict[str, Any]:
        path = f"/_emulator/accounts/{self.account_id}/subscriptions"
        body = {"duration": duration, "credits": credits, "state": "active"}
        return (await call(self.client, "POST", path, json=body, expect=201))["subscription"]

    async def link(self, code: str) -> dict[str, Any]:
        return (await self.post("/systems", {"registration_code": code}, expect=201))["system"]

    async def link_new_system(self, label: str = "OB Van 3") -> tuple[dict[str, Any], Ed25519PrivateKey]:
        """A system whose HOME never runs here: only its key exists (the disconnected case)."""
        key = Ed25519PrivateKey.generate()
        return await self.link(sign_registration(key, label)), key

    async def assign(self, system_id: str, sub_id: str, credits: float) -> dict[str, Any]:
        body = {"subscription_id": sub_id, "credits": credits}
        return (await self.post(f"/systems/{system_id}/assignments", body, expect=201))["assignment"]

    async def revoke(self, system_id: str, assignment_id: str) -> dict[str, Any]:
        return await self.post(f"/systems/{system_id}/assignments/{assignment_id}/revoke", {"confirm": "confirm"})

    async def download(self, system_id: str) -> str:
        text: str = await self.post(f"/systems/{system_id}/credits-file")
        return text

    async def sub_state(self, sub_id: str) -> dict[str, Any]:
        path = f"/api/v1/accounts/{self.account_id}/subscriptions"
        subs = (await call(self.client, "GET", path, token=self.token))["subscriptions"]
        return next(sub for sub in subs if sub["id"] == sub_id)


async def new_tenant(client: TestClient, name: str = "Bench Broadcast") -> Tenant:
    admin = {"email": "admin@bench.test", "password": "bench password"}
    answer = await call(client, "POST", "/_emulator/accounts", json={"name": name, "admin": admin}, expect=201)
    return Tenant(client, answer["account"]["id"], answer["token"])
