"""``GET /api/v1/link``: the WebSocket a linked HOME keeps open. Messages per shared/protocol.py."""

import asyncio
import secrets
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import WSMsgType, web

from flex_emulator.cloud.appkeys import CONFIG, DB, HOME_ADDRESSES, HUB, SYSTEMS, TRANSFERS
from flex_emulator.cloud.link.faults import receipt_seq
from flex_emulator.cloud.link.hub import LinkHub
from flex_emulator.shared import protocol
from flex_emulator.shared.errors import ApiError, ProtocolError
from flex_emulator.shared.keys import public_from_raw
from flex_emulator.shared.tokens import MAX_SEQ, verify_link_auth

log = structlog.get_logger()
routes = web.RouteTableDef()

AUTH_TIMEOUT_SECONDS = 10.0
HEARTBEAT_SECONDS = 15.0
CLOSE_TIMEOUT_SECONDS = 3.0
CLOSED = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED)


def hello_seq(message: protocol.Message) -> int:
    seq = message.integer("seq")
    if seq > MAX_SEQ:
        raise ProtocolError("invalid_message", f"The auth message's 'seq' must be at most {MAX_SEQ}.")
    return seq


async def authenticate_link(request: web.Request, socket: web.WebSocketResponse) -> tuple[str, int, str | None] | None:
    """Challenge, then check the HOME's signed answer with the key it was linked with, and what it reports."""
    nonce = secrets.token_urlsafe(24)
    await socket.send_str(protocol.encode(protocol.CHALLENGE, nonce=nonce))
    try:
        raw = await socket.receive(timeout=AUTH_TIMEOUT_SECONDS)
    except TimeoutError:
        await socket.close(message=b"no auth")
        return None
    if raw.type != WSMsgType.TEXT:
        return None
    try:
        message = protocol.decode(raw.data)
        if message.type != protocol.AUTH:
            raise ProtocolError("auth_required", "The first message must be 'auth'.")
        system_id = message.text("system_id")
        system = await request.app[DB].read.systems.get(system_id)
        if system is None:
            raise ProtocolError("not_linked", f"System {system_id} is not linked to any account; add it in the portal.")
        verify_link_auth(message.text("token"), public_from_raw(system.public_key), system_id, nonce)
        if request.app[CONFIG].emulator_api:
            request.app[HOME_ADDRESSES].announced(system_id, message.body.get("home_url"))
            await request.app[HOME_ADDRESSES].share(system_id)
        return system_id, hello_seq(message), message.optional_text("receipt")
    except ApiError as exc:  # a bad message or a refused token
        await socket.send_str(protocol.error(exc.code, exc.message, None))
        await socket.close(message=exc.code.encode())
        log.info("link_refused", code=exc.code)
        return None


@routes.get("/api/v1/link")
async def get_link(request: web.Request) -> web.WebSocketResponse:
    socket = web.WebSocketResponse(
        heartbeat=HEARTBEAT_SECONDS,
        max_msg_size=protocol.MAX_MESSAGE_BYTES,
        timeout=CLOSE_TIMEOUT_SECONDS,
        # No per-message deflate: a link that negotiated it would hold a zlib context at each end for its
        # whole life (hundreds of KB reserved, tens touched), against the few KB the rest of a link costs,
        # and the messages are mostly signed tokens in base64url, which deflate shrinks little.
        compress=False,
    )
    await socket.prepare(request)
    answered = await authenticate_link(request, socket)
    if answered is None:
        return socket
    system_id, home_seq, receipt = answered
    hub, transfers = request.app[HUB], request.app[TRANSFERS]
    if hub.faults.is_cut(system_id):
        await refuse_cut_link(hub, system_id, socket)
        return socket
    await hub.register(system_id, socket)
    hub.journal.note("link_up", system_id, home_seq=home_seq)
    log.info("link_connected", system_id=system_id)
    try:
        await request.app[SYSTEMS].connected(system_id)
        await socket.send_str(protocol.encode(protocol.WELCOME, system_id=system_id))
        await transfers.on_connect(system_id, home_seq, receipt)
        while True:
            # socket.receive() rather than ``async for``: one coroutine less held for each link's life.
            raw = await socket.receive()
            if raw.type in CLOSED:
                break
            if raw.type == WSMsgType.TEXT:
                await receive(request.app, system_id, socket, raw.data)
    except (ProtocolError, asyncio.CancelledError, ConnectionError) as exc:
        if isinstance(exc, asyncio.CancelledError):
            raise
        log.info("link_dropped", system_id=system_id, error=str(exc))
    finally:
        # aiohttp cancels this handler when the connection drops: the goodbye must still complete.
        await asyncio.shield(say_goodbye(request, system_id, socket))
    return socket


async def refuse_cut_link(hub: LinkHub, system_id: str, socket: web.WebSocketResponse) -> None:
    code = "link_cut"
    await socket.send_str(
        protocol.error(code, "The link to this system is cut (a fault injected through the emulator API).", None)
    )
    await socket.close(message=code.encode())
    hub.journal.note("link_refused", system_id, code=code)
    log.info("link_refused", system_id=system_id, code=code)


async def receive(app: web.Application, system_id: str, socket: web.WebSocketResponse, data: str) -> None:
    """One message from HOME, through the system's link faults: delayed, lost or delivered twice."""
    faults = app[HUB].faults
    delay = faults.latency_seconds(system_id)
    if delay:
        await asyncio.sleep(delay)
    copies = faults.incoming_copies(system_id, data)
    for _ in range(copies):
        await dispatch(app, system_id, socket, data)
    if copies == 0 and (seq := receipt_seq(data)) is not None:
        await app[HUB].lost(system_id, seq)


async def say_goodbye(request: web.Request, system_id: str, socket: web.WebSocketResponse) -> None:
    """Record last seen, then show the system Offline (in that order, so Offline comes with its time). The fact
    is noted first, so the transaction that shows it Offline writes it too (a reader through another process of
    the cloud sees both at once)."""
    request.app[HUB].journal.note("link_down", system_id)
    try:
        await request.app[SYSTEMS].seen(system_id)
    except Exception:
        log.exception("last_seen_not_recorded", system_id=system_id)
    finally:
        await request.app[HUB].unregister(system_id, socket)
        log.info("link_disconnected", system_id=system_id)


# Plain functions in one table, rather than closures made for each link: nothing per link to keep.
MessageHandler = Callable[[web.Application, str, protocol.Message], Awaitable[None]]


async def handle_receipt(app: web.Application, system_id: str, message: protocol.Message) -> None:
    await app[TRANSFERS].accept_link_receipt(system_id, message.text("token"))


async def handle_error(app: web.Application, system_id: str, message: protocol.Message) -> None:
    """HOME refused something the cloud sent (a stale or bad snapshot): no receipt will come for it."""
    reply_to = message.body.get("reply_to")
    reply_to = reply_to if isinstance(reply_to, int) and not isinstance(reply_to, bool) else None
    log.warning(
        "home_reported_error",
        system_id=system_id,
        code=str(message.body.get("code"))[:64],
        message=str(message.body.get("message"))[:500],
        reply_to=reply_to,
    )
    hub = app[HUB]
    seq = await hub.refused(system_id, reply_to)
    hub.journal.note("home_refused", system_id, code=str(message.body.get("code"))[:64], seq=seq or None)


HANDLERS: dict[str, MessageHandler] = {protocol.RECEIPT: handle_receipt, protocol.ERROR: handle_error}


async def dispatch(app: web.Application, system_id: str, socket: web.WebSocketResponse, data: str) -> None:
    """Run one message's handler; a bad message gets an error reply and the link stays up."""
    try:
        message = protocol.decode(data)
    except ProtocolError as exc:
        await socket.send_str(protocol.error(exc.code, exc.message))
        return
    handler = HANDLERS.get(message.type)
    try:
        if handler is None:
            raise ProtocolError("unknown_type", f"The cloud does not handle {message.type!r} messages.")
        await handler(app, system_id, message)
    except ApiError as exc:
        await socket.send_str(protocol.error(exc.code, exc.message, message.id))
