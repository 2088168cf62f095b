"""The cloud link: a WebSocket client that receives credits snapshots and answers with receipts.

The exchange is the one in ``shared.protocol``'s docstring. The link reconnects by
itself with exponential backoff and jitter until it is switched off.
"""

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import structlog
from yarl import URL

from flex_emulator.home.domain.licensing import Applied, apply_snapshot
from flex_emulator.home.domain.models import UploadResult
from flex_emulator.home.domain.node import Node, Watch
from flex_emulator.home.domain.trust import TrustError
from flex_emulator.home.link.future_copy import FutureCopy
from flex_emulator.shared import protocol
from flex_emulator.shared.errors import ProtocolError, TokenError
from flex_emulator.shared.journal import token_fields
from flex_emulator.shared.protocol import Message
from flex_emulator.shared.tokens import sign_link_auth, unverified_seq

log = structlog.get_logger()

STATES = ("disabled", "connecting", "online", "offline", "not_linked")
ENABLED_META = "link_enabled"
CLOSE_TIMEOUT_SECONDS = 2.0

WebSocket = aiohttp.ClientWebSocketResponse


class LinkRefused(Exception):
    """The cloud answered the handshake with an error."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class LinkLost(Exception):
    """The socket closed."""


def link_url(cloud_url: str) -> URL:
    base = URL(cloud_url)
    scheme = "wss" if base.scheme == "https" else "ws"
    return base.with_scheme(scheme).with_path(base.path.rstrip("/") + "/api/v1/link")


def backoff_delay(failures: int, minimum: float, maximum: float) -> float:
    """Exponential backoff with jitter, always between ``minimum`` and ``maximum``."""
    ceiling = min(maximum, minimum * 2 ** min(failures, 30))
    return random.uniform(minimum, max(minimum, ceiling))


class CloudLink:
    def __init__(self, node: Node, session: aiohttp.ClientSession | None = None) -> None:
        """``session``: one shared by many links (a fleet); without it the link makes and closes its own."""
        self._node = node
        self._own_session = session is None
        self._config = node.config
        self.url = link_url(node.config.cloud_url)
        self.enabled = False
        self.state = "disabled"
        self.last_error: str | None = None
        self.receipts_sent = 0
        self.home_url: str | None = None  # where this HOME answers, told to the cloud on connect (see announce)
        self.watch = Watch()
        self._session: aiohttp.ClientSession | None = session
        self._task: asyncio.Task[None] | None = None
        self._ws: WebSocket | None = None
        self._stopping = False
        self._wake = asyncio.Event()
        self.future_copy = FutureCopy(node, self._receipt_for_future_copy)
        self._handlers: dict[str, Callable[[WebSocket, Message], Awaitable[None]]] = {
            protocol.SNAPSHOT: self.handle_snapshot,
            protocol.ERROR: self.handle_error,
        }

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        if self._own_session:
            self._session = aiohttp.ClientSession()
        async with self._node.write() as tx:
            stored = await tx.meta(ENABLED_META)
            self.enabled = stored != "0" and not self._config.offline
            if stored != ("1" if self.enabled else "0"):
                await tx.set_meta(ENABLED_META, "1" if self.enabled else "0")
        if self.enabled:
            self._launch()

    async def close(self) -> None:
        self.future_copy.forget()
        await self._halt()
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def set_enabled(self, enabled: bool) -> None:
        async with self._node.write() as tx:
            await tx.set_meta(ENABLED_META, "1" if enabled else "0")
        self.enabled = enabled
        log.info("cloud_link_switched", enabled=enabled)
        if not enabled:
            await self._halt()
        elif self._task is None or self._task.done():
            self._launch()
        else:
            self._wake.set()  # switched on while waiting to retry: try again now

    def announce(self, url: str) -> None:
        """Tell the cloud, when the link next authenticates, where this HOME answers, so the cloud's inspector
        can read its journal (only a HOME with --emulator-api has that route). A HOME listening on every
        interface answers on loopback too, and loopback is what the cloud reads by default."""
        if not self._config.emulator_api:
            return
        parsed = URL(url)
        if parsed.host in ("0.0.0.0", "::"):
            parsed = parsed.with_host("127.0.0.1" if parsed.host == "0.0.0.0" else "::1")
        self.home_url = str(parsed)

    def retry_now(self) -> None:
        """Cut a wait between attempts short (e.g. right after the system was linked in the portal)."""
        self._wake.set()

    def view(self) -> dict[str, Any]:
        return {
            "url": self._config.cloud_url,
            "enabled": self.enabled,
            "state": self.state,
            "last_error": self.last_error,
        }

    async def wait_for_state(self, state: str, timeout: float = 5.0) -> None:
        if state not in STATES:
            raise ValueError(f"unknown link state {state!r}")
        await self.watch.wait_until(lambda: self.state == state, timeout)

    async def wait_for_seq(self, seq: int, timeout: float = 5.0) -> None:
        await self._node.wait_for_seq(seq, timeout)

    async def wait_for_receipts(self, count: int, timeout: float = 5.0) -> None:
        await self.watch.wait_until(lambda: self.receipts_sent >= count, timeout)

    def _set_state(self, state: str, error: str | None = None) -> None:
        if state != self.state:
            log.info("cloud_link_state", state=state, error=error)
            self._node.journal.note("link_state", state=state, error=error)
        self.state = state
        self.last_error = error
        self.watch.changed()

    def _launch(self) -> None:
        self._set_state("connecting")
        self._stopping = False
        self._wake.clear()
        self._task = asyncio.create_task(self._run(), name="home-cloud-link")

    async def _halt(self) -> None:
        task, self._task = self._task, None
        self._stopping = True
        self._set_state("disabled")  # HOME's decision comes first, then the cloud sees the link end
        ws = self._ws
        if ws is not None and not ws.closed:
            # A proper close handshake, so the cloud sees the link end cleanly (then the task ends by itself).
            with contextlib.suppress(Exception):
                async with asyncio.timeout(CLOSE_TIMEOUT_SECONDS):
                    await ws.close()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._set_state("disabled")

    # --- connection loop -----------------------------------------------------------------------

    async def _run(self) -> None:
        assert self._session is not None
        failures = 0
        while True:
            try:
                await self._node.trust.pin_from(self._session, self._config.cloud_url)
                await self._connect_once(self._session)
                if self._stopping:
                    return
                failures = 0
                self._set_state("offline", "The licensing cloud closed the connection.")
            except LinkRefused as exc:
                state = "not_linked" if exc.code == "not_linked" else "offline"
                self._set_state(state, str(exc))
            except (aiohttp.ClientError, TimeoutError, OSError, TrustError, LinkLost, ProtocolError) as exc:
                if self._stopping:  # switched off while this connection ended: it is disabled, not offline
                    return
                self._set_state("offline", self._describe(exc))
            except Exception as exc:  # a bug must not stop the link for good
                log.exception("cloud_link_failed")
                self._set_state("offline", str(exc) or type(exc).__name__)
            # Under a virtual clock, time may never move by itself: the first retry after a link that was up
            # goes at once (the cloud closed it, or restarted); later ones back off on the clock.
            at_once = failures == 0 and self._node.clock.virtual
            delay = backoff_delay(failures, self._config.reconnect_min_seconds, self._config.reconnect_max_seconds)
            failures += 1
            self._wake.clear()
            if not at_once:
                await self._wait_or_wake(delay)

    async def _wait_or_wake(self, delay: float) -> None:
        """Wait until ``delay`` seconds have passed on the node's clock or on the machine's, whichever comes first,
        or less when ``retry_now`` or switching on cuts it short. Moving a virtual clock ends the wait at once; the
        machine's clock bounds it, because what the link waits for (a cloud back up, a system linked in the portal)
        happens in real time, and a HOME must not stay away until someone moves the clock."""
        waits = [
            asyncio.ensure_future(self._node.clock.sleep(delay)),
            asyncio.ensure_future(asyncio.sleep(delay)),
            asyncio.ensure_future(self._wake.wait()),
        ]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()

    def _describe(self, exc: Exception) -> str:
        """Why the link is offline, in words for the Settings page."""
        cloud = self._config.cloud_url
        if isinstance(exc, aiohttp.WSServerHandshakeError):
            return f"The licensing cloud at {cloud} did not accept the link (HTTP {exc.status})."
        if isinstance(exc, (aiohttp.ClientConnectionError, OSError)):
            return f"Cannot reach the licensing cloud at {cloud}."
        if isinstance(exc, TimeoutError):
            return f"The licensing cloud at {cloud} did not answer in time."
        if isinstance(exc, TrustError):
            return f"Cannot fetch the licensing cloud's keys: {exc}."
        return str(exc) or type(exc).__name__

    async def _connect_once(self, session: aiohttp.ClientSession) -> None:
        async with asyncio.timeout(self._config.handshake_timeout_seconds):
            ws = await session.ws_connect(
                self.url, heartbeat=self._config.heartbeat_seconds, max_msg_size=protocol.MAX_MESSAGE_BYTES
            )
        try:
            async with asyncio.timeout(self._config.handshake_timeout_seconds):
                await self._handshake(ws)
            self._set_state("online")
            self._ws = ws
            await self._serve(ws)
        finally:
            self._ws = None
            # Shielded: when the link is switched off this task is cancelled, and an interrupted close
            # handshake would leave the connection open, so the cloud would go on showing Online.
            await asyncio.shield(ws.close())

    async def _handshake(self, ws: WebSocket) -> None:
        challenge = await self._expect(ws)
        if challenge.type == protocol.ERROR:
            raise _refusal(challenge)
        if challenge.type != protocol.CHALLENGE:
            raise ProtocolError("unexpected_message", f"Expected a challenge, got {challenge.type!r}.")
        nonce = challenge.text("nonce")
        seq = await self._node.db.read.applied_seq()
        receipt = await self._node.db.read.latest_receipt()
        token = sign_link_auth(self._node.identity.key, self._node.system_id, nonce, self._node.now())
        await ws.send_str(
            protocol.encode(
                protocol.AUTH,
                system_id=self._node.system_id,
                token=token,
                seq=seq,
                receipt=receipt.token if receipt else None,
                **({"home_url": self.home_url} if self.home_url else {}),
            )
        )
        reply = await self._expect(ws)
        if reply.type == protocol.ERROR:
            raise _refusal(reply)
        if reply.type != protocol.WELCOME:
            raise ProtocolError("unexpected_message", f"Expected welcome, got {reply.type!r}.")

    async def _expect(self, ws: WebSocket) -> Message:
        message = await ws.receive()
        if message.type != aiohttp.WSMsgType.TEXT:
            raise LinkLost(f"The link closed during the handshake ({message.type.name}).")
        try:
            return protocol.decode(message.data)
        except ProtocolError as exc:
            await ws.send_str(protocol.error(exc.code, exc.message))
            raise

    async def _serve(self, ws: WebSocket) -> None:
        while True:
            raw = await ws.receive()
            if raw.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED):
                return
            if raw.type == aiohttp.WSMsgType.ERROR:
                raise LinkLost(f"The link failed: {ws.exception()}")
            if raw.type != aiohttp.WSMsgType.TEXT:
                await ws.send_str(protocol.error("invalid_message", "The link carries JSON text messages only."))
                continue
            try:
                message = protocol.decode(raw.data)
            except ProtocolError as exc:
                await ws.send_str(protocol.error(exc.code, exc.message))
                continue
            handler = self._handlers.get(message.type)
            if handler is None:
                await ws.send_str(
                    protocol.error("unknown_type", f"HOME does not handle {message.type!r} messages.", message.id)
                )
                continue
            await handler(ws, message)

    async def send_receipt(self, token: str, seq: int, source: str = "file") -> bool:
        """Tell the cloud at once, if online, about a snapshot applied another way (an uploaded file) or about a
        receipt signed again with new usage (``source`` "usage")."""
        ws = self._ws
        if ws is None or ws.closed or self.state != "online":
            return False
        # Noted as it leaves, before the cloud can answer it: the journals order the two sides by when they noted.
        self._node.journal.note("receipt_sent", seq=seq, source=source, **token_fields(token))
        try:
            await ws.send_str(protocol.encode(protocol.RECEIPT, token=token))
        except (aiohttp.ClientError, ConnectionError) as exc:
            log.warning("receipt_not_sent", seq=seq, error=str(exc))
            return False
        self.receipts_sent += 1
        self.watch.changed()
        log.info("receipt_sent", seq=seq, result=source)
        return True

    # --- message handlers ----------------------------------------------------------------------

    async def handle_snapshot(self, ws: WebSocket, message: Message) -> None:
        token = None
        try:
            token = message.text("token")
            applied = await apply_snapshot(self._node, token, source="link")
        except (ProtocolError, TokenError) as exc:
            self._node.journal.note(
                "snapshot_refused", code=exc.code, source="link", seq=unverified_seq(token), **refused_token(token)
            )
            log.warning("pushed_snapshot_refused", code=exc.code, message=exc.message)
            await ws.send_str(protocol.error(exc.code, exc.message, message.id))
            if exc.code == "clock_skew" and token is not None:
                self.future_copy.hold(token)
            return
        if self.future_copy.held and applied.result == UploadResult.APPLIED:
            self.future_copy.forget()  # a copy applied after the held one supersedes it
        await self._send_receipt(ws, applied.receipt, applied.seq, applied.result)

    async def _send_receipt(self, ws: WebSocket, receipt: str | None, seq: int, result: str) -> None:
        if receipt is not None:
            self._node.journal.note("receipt_sent", seq=seq, source="link", **token_fields(receipt))
            await ws.send_str(protocol.encode(protocol.RECEIPT, token=receipt))
            self.receipts_sent += 1
            self.watch.changed()
            log.info("receipt_sent", seq=seq, result=result)

    async def _receipt_for_future_copy(self, applied: Applied) -> None:
        ws = self._ws
        if ws is not None and not ws.closed and self.state == "online":
            try:
                await self._send_receipt(ws, applied.receipt, applied.seq, applied.result)
            except (aiohttp.ClientError, ConnectionError) as exc:
                log.warning("receipt_not_sent", seq=applied.seq, error=str(exc))  # the next connect reports it

    async def handle_error(self, ws: WebSocket, message: Message) -> None:
        code = message.body.get("code")
        if code == "not_linked":
            raise LinkRefused("not_linked", str(message.body.get("message") or "This HOME is not linked."))
        log.warning("cloud_reported_error", code=code, message=message.body.get("message"))


def refused_token(token: str | None) -> dict[str, Any]:
    return {} if token is None else token_fields(token)


def _refusal(message: Message) -> LinkRefused:
    code = message.body.get("code")
    text = message.body.get("message")
    return LinkRefused(
        code if isinstance(code, str) else "refused",
        text if isinstance(text, str) and text else "The licensing cloud refused the link.",
    )
