"""Helpers for the HOME tests: signed snapshots and licenses, uploads, and a small fake cloud link server."""

import asyncio
import io
import json
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from flex_emulator.shared.errors import TokenError
from flex_emulator.shared.keys import jwks
from flex_emulator.shared.licenses import PerpetualLicense, sign_perpetual
from flex_emulator.shared.snapshot_claims import SnapshotEntry
from flex_emulator.shared.tokens import Snapshot, new_jti, sign_snapshot, verify_link_auth
from tests.kit import DAY, START
from tests.kit.api import home_api

HomeFactory = Callable[..., Awaitable[TestClient]]


def entry(
    assignment_id: str = "asg-1",
    quarters: int = 8,
    *,
    assigned_at: datetime = START,
    valid_until: datetime = START + 30 * DAY,
    renewable_until: datetime | None = None,
    order_id: str = "SO-2026-00042",
    duration: str = "monthly",
    state: str = "active",
) -> SnapshotEntry:
    return SnapshotEntry(
        assignment_id=assignment_id,
        credits=quarters,
        assigned_at=assigned_at,
        valid_until=valid_until,
        renewable_until=renewable_until,
        subscription_id="sub-1",
        order_id=order_id,
        duration=duration,
        subscription_state=state,
    )


def snapshot_token(
    key: Ed25519PrivateKey,
    system_id: str,
    seq: int,
    entries: tuple[SnapshotEntry, ...] = (),
    *,
    issued_at: datetime = START,
    expires_at: datetime | None = None,
) -> str:
    snapshot = Snapshot(
        system_id=system_id,
        seq=seq,
        issued_at=issued_at,
        expires_at=expires_at or issued_at + 30 * DAY,
        jti=new_jti(),
        account_id="acc-1",
        entries=entries,
    )
    return sign_snapshot(snapshot, key)


def license_token(
    key: Ed25519PrivateKey, system_id: str, license_type: str = "MV", count: int = 2, jti: str | None = None
) -> str:
    return sign_perpetual(PerpetualLicense(system_id, license_type, count, START, jti or new_jti()), key)


def write_jwks(path: Any, *keys: Ed25519PrivateKey) -> Any:
    path.write_text(json.dumps(jwks([key.public_key() for key in keys])))
    return path


async def upload(client: TestClient, token: str | bytes, *, multipart: bool = True) -> aiohttp.ClientResponse:
    data = token.encode() if isinstance(token, str) else token
    if not multipart:
        return await client.post("/api/v1/file-licenses", data=io.BytesIO(data) if len(data) > 65536 else data)
    form = aiohttp.FormData()
    form.add_field("file", io.BytesIO(data), filename="credits.jwt", content_type="application/jwt")
    return await client.post("/api/v1/file-licenses", data=form)


async def credits_view(client: TestClient) -> dict[str, Any]:
    return dict(await home_api(client).credits())


async def system_id(client: TestClient) -> str:
    return (await home_api(client).system())["system_id"]


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


@dataclass
class FakeCloud:
    """Just enough of the cloud's link endpoint to speak the protocol in ``shared.protocol``."""

    key: Ed25519PrivateKey
    linked: dict[str, Ed25519PublicKey] = field(default_factory=dict)
    push_on_welcome: list[str] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    auths: list[dict[str, Any]] = field(default_factory=list)
    sockets: set[web.WebSocketResponse] = field(default_factory=set)
    connections: int = 0
    jwks_requests: int = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/.well-known/jwks.json", self.get_jwks)
        app.router.add_get("/api/v1/link", self.get_link)
        app.on_shutdown.append(self.close_all)
        return app

    async def get_jwks(self, request: web.Request) -> web.Response:
        self.jwks_requests += 1
        return web.json_response(jwks([self.key.public_key()]))

    async def close_all(self, app: web.Application | None = None) -> None:
        for ws in list(self.sockets):
            await ws.close()

    async def send(self, kind: str, **fields: Any) -> None:
        for ws in list(self.sockets):
            await ws.send_json({"id": secrets.randbelow(10**6), "type": kind, **fields})

    async def send_raw(self, text: str) -> None:
        for ws in list(self.sockets):
            await ws.send_str(text)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [message for message in self.received if message.get("type") == kind]

    async def get_link(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=5)
        await ws.prepare(request)
        self.connections += 1
        nonce = secrets.token_urlsafe(16)
        await ws.send_json({"id": 1, "type": "challenge", "nonce": nonce})
        auth = await ws.receive_json(timeout=5)
        self.auths.append(auth)
        public = self.linked.get(auth.get("system_id"))
        if public is None:
            error = {"id": 2, "type": "error", "code": "not_linked", "message": "Not linked.", "reply_to": None}
            await ws.send_json(error)
            await ws.close()
            return ws
        try:
            verify_link_auth(auth.get("token"), public, auth["system_id"], nonce)
        except TokenError as exc:
            await ws.send_json({"id": 2, "type": "error", "code": exc.code, "message": exc.message, "reply_to": None})
            await ws.close()
            return ws
        await ws.send_json({"id": 2, "type": "welcome", "system_id": auth["system_id"]})
        self.sockets.add(ws)
        try:
            for token in self.push_on_welcome:
                await ws.send_json({"id": 3, "type": "snapshot", "token": token})
            async for message in ws:
                if message.type == aiohttp.WSMsgType.TEXT:
                    self.received.append(json.loads(message.data))
        finally:
            self.sockets.discard(ws)
        return ws


# --- the pages, as a browser sees them -----------------------------------------------------------

HTML = {"Accept": "text/html"}


async def page(home: TestClient, path: str, status: int = 200) -> str:
    response = await home.get(path, headers=HTML)
    assert response.status == status, await response.text()
    assert response.content_type == "text/html"
    return await response.text()


async def csrf_token(home: TestClient, path: str = "/file-licenses") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', await page(home, path))
    assert match
    return match.group(1)


async def post_form(home: TestClient, path: str, fields: dict[str, str], token: str | None) -> aiohttp.ClientResponse:
    data = dict(fields) | ({"csrf_token": token} if token is not None else {})
    return await home.post(path, data=data, headers=HTML, allow_redirects=False)
