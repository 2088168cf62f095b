"""Helpers for the portal tests: signing in through the pages, CSRF tokens, and a minimal HOME link."""

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
import jwt
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from flex_emulator.cloud.domain.demo import DEMO_ADMIN, DEMO_OPERATOR
from flex_emulator.shared import protocol
from flex_emulator.shared.keys import system_id_for
from flex_emulator.shared.tokens import Receipt, new_jti, sign_link_auth, sign_receipt, sign_registration

Client = TestClient[Any, Any]

ADMIN = DEMO_ADMIN
OPERATOR = DEMO_OPERATOR

_CSRF = re.compile(r'name="csrf" value="([^"]*)"')


def csrf_in(html: str) -> str:
    match = _CSRF.search(html)
    assert match is not None, "the page has no CSRF field"
    return match.group(1)


@dataclass
class Home:
    """A HOME system as the cloud sees it: a key pair, its id and its registration code."""

    label: str
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)

    @property
    def system_id(self) -> str:
        return system_id_for(self.key.public_key())

    @property
    def registration_code(self) -> str:
        return sign_registration(self.key, self.label)

    def revoke_key(self, seq: int, held: tuple[str, ...] = ()) -> str:
        """What HOME shows after applying credits file ``seq`` holding ``held``."""
        return sign_receipt(
            Receipt(self.system_id, seq, held, datetime.now(UTC).replace(microsecond=0), new_jti()), self.key
        )


def snapshot_contents(token: str) -> dict[str, Any]:
    """The claims of a credits file, without checking it (the tests check signatures separately)."""
    return jwt.decode(token, options={"verify_signature": False})


class LinkedHome:
    """Keeps a HOME's cloud link open: answers the challenge and sends a receipt for every snapshot (while
    ``answering``); ``pushed`` gets the seq of each snapshot as it arrives."""

    def __init__(self, home: Home, session: aiohttp.ClientSession, url: str) -> None:
        self.home = home
        self.session = session
        self.url = url
        self.socket: aiohttp.ClientWebSocketResponse | None = None
        self.task: asyncio.Task[None] | None = None
        self.applied = 0
        self.answering = True
        self.pushed: asyncio.Queue[int] = asyncio.Queue()

    async def connect(self) -> "LinkedHome":
        self.socket = await self.session.ws_connect(self.url)
        challenge = await self.socket.receive_json(timeout=5)
        token = sign_link_auth(self.home.key, self.home.system_id, challenge["nonce"], datetime.now(UTC))
        await self.socket.send_str(
            protocol.encode(protocol.AUTH, system_id=self.home.system_id, token=token, seq=0, receipt=None)
        )
        welcome = await self.socket.receive_json(timeout=5)
        assert welcome["type"] == protocol.WELCOME, welcome
        self.task = asyncio.create_task(self._answer())
        return self

    async def _answer(self) -> None:
        assert self.socket is not None
        async for message in self.socket:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            body = protocol.decode(message.data).body
            if body.get("type") != protocol.SNAPSHOT:
                continue
            claims = snapshot_contents(body["token"])
            self.pushed.put_nowait(claims["seq"])
            if not self.answering:
                continue
            held = tuple(entry["id"] for entry in claims.get("assignments", []))
            self.applied = claims["seq"]
            receipt = self.home.revoke_key(claims["seq"], held)
            await self.socket.send_str(protocol.encode(protocol.RECEIPT, token=receipt))

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


class Portal:
    """A browser-like session on the portal: cookies, HTML pages, forms posted with their CSRF token."""

    def __init__(self, client: Client, account_id: str) -> None:
        self.client = client
        self.account_id = account_id

    @property
    def base(self) -> str:
        return f"/accounts/{self.account_id}"

    async def page(self, path: str, status: int = 200) -> str:
        response = await self.client.get(path, allow_redirects=False)
        html = await response.text()
        assert response.status == status, f"{path}: {response.status}\n{html[:2000]}"
        return html

    async def follow(self, path: str) -> tuple[str, str]:
        """Open a page following redirects; answers (final path with query, html)."""
        response = await self.client.get(path)
        return response.url.path_qs, await response.text()

    async def post(
        self, path: str, data: dict[str, str] | None = None, *, form_page: str | None = None, csrf: str | None = None
    ) -> Any:
        """Post a form as the browser would: with the CSRF token of ``form_page`` (or an explicit one)."""
        if csrf is None:
            csrf = csrf_in(await self.page(form_page or f"{self.base}/systems"))
        return await self.client.post(path, data={"csrf": csrf, **(data or {})}, allow_redirects=False)

    async def post_and_follow(self, path: str, data: dict[str, str] | None = None, **kwargs: Any) -> tuple[str, str]:
        response = await self.post(path, data, **kwargs)
        assert response.status == 303, f"{path}: {response.status}\n{(await response.text())[:2000]}"
        return await self.follow(response.headers["Location"])

    async def post_refused(
        self, path: str, data: dict[str, str] | None = None, *, status: int = 400, **kwargs: Any
    ) -> str:
        """Post a form the portal refuses: it answers the same form again (a dialog, or its page), not a redirect."""
        response = await self.post(path, data, **kwargs)
        html = await response.text()
        assert response.status == status, f"{path}: {response.status}\n{html[:2000]}"
        return html

    async def post_from_dialog(self, path: str, data: dict[str, str] | None = None, *, form_page: str) -> Any:
        """Post as portal.js does from inside a dialog (it marks the request so success answers where to go next)."""
        csrf = csrf_in(await self.page(form_page))
        return await self.client.post(
            path, data={"csrf": csrf, **(data or {})}, headers={"X-Flex-Dialog": "1"}, allow_redirects=False
        )

    async def api(self, method: str, path: str, token: str, body: dict[str, Any] | None = None) -> Any:
        response = await self.client.request(
            method, path, json=body, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}
        )
        return response.status, await response.json()


SignIn = Callable[..., Awaitable[Portal]]
