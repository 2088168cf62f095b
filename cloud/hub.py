"""Which HOME systems are connected right now, pushing to them, and waiting for their receipts."""

import asyncio
from collections import defaultdict
from collections.abc import Callable

import structlog
from aiohttp import web

from shared import protocol

log = structlog.get_logger()

PUSHES_REMEMBERED = 32


class LinkHub:
    def __init__(self) -> None:
        self._sockets: dict[str, web.WebSocketResponse] = {}
        self._acked: dict[str, int] = defaultdict(int)
        self._refused: dict[str, int] = defaultdict(int)
        self._pushed: dict[str, dict[int, int]] = defaultdict(dict)  # message id -> seq, to match HOME's error replies
        self._changed = asyncio.Condition()
        self._listeners: list[Callable[[str, bool], None]] = []

    def is_online(self, system_id: str) -> bool:
        """Registered until its handler has recorded last_seen and let go (a closing socket still counts)."""
        return system_id in self._sockets

    def online_ids(self) -> set[str]:
        return set(self._sockets)

    def on_presence(self, listener: Callable[[str, bool], None]) -> None:
        """Call ``listener(system_id, online)`` whenever a system connects or disconnects."""
        self._listeners.append(listener)

    async def register(self, system_id: str, socket: web.WebSocketResponse) -> None:
        previous = self._sockets.get(system_id)
        self._sockets[system_id] = socket
        if previous is not None and previous is not socket and not previous.closed:
            await previous.close(message=b"replaced by a newer connection")
        self._announce(system_id, True)

    async def unregister(self, system_id: str, socket: web.WebSocketResponse) -> None:
        if self._sockets.get(system_id) is socket:
            del self._sockets[system_id]
            self._announce(system_id, False)
        async with self._changed:
            self._changed.notify_all()

    def _announce(self, system_id: str, online: bool) -> None:
        for listener in self._listeners:
            listener(system_id, online)

    async def push_snapshot(self, system_id: str, token: str, seq: int) -> bool:
        """Send a snapshot if the system is connected; a failed send is safe (it catches up on reconnect)."""
        socket = self._sockets.get(system_id)
        if socket is None or socket.closed:
            return False
        message_id, text = protocol.encode_with_id(protocol.SNAPSHOT, token=token)
        pushed = self._pushed[system_id]
        pushed[message_id] = seq
        while len(pushed) > PUSHES_REMEMBERED:
            del pushed[next(iter(pushed))]
        try:
            await socket.send_str(text)
        except (ConnectionError, RuntimeError) as exc:
            log.warning("snapshot_push_failed", system_id=system_id, error=str(exc))
            return False
        return True

    async def acknowledged(self, system_id: str, seq: int) -> None:
        pushed = self._pushed[system_id]
        for message_id in [key for key, pushed_seq in pushed.items() if pushed_seq <= seq]:
            del pushed[message_id]
        async with self._changed:
            self._acked[system_id] = max(self._acked[system_id], seq)
            self._changed.notify_all()

    async def refused(self, system_id: str, reply_to: int | None) -> None:
        """HOME answered a push with an error: that snapshot (or, unmatched, every one sent) will get no receipt."""
        pushed = self._pushed[system_id]
        seq = pushed.pop(reply_to) if reply_to in pushed else max(pushed.values(), default=0)
        async with self._changed:
            self._refused[system_id] = max(self._refused[system_id], seq)
            self._changed.notify_all()

    async def wait_for_ack(self, system_id: str, seq: int, timeout: float) -> bool:
        """Wait until the system's receipt for ``seq`` (or later) arrived, HOME refused it, or ``timeout`` passed."""

        def settled() -> bool:
            return self._acked[system_id] >= seq or self._refused[system_id] >= seq or not self.is_online(system_id)

        try:
            async with asyncio.timeout(timeout):
                async with self._changed:
                    await self._changed.wait_for(settled)
        except TimeoutError:
            return False
        return self._acked[system_id] >= seq

    async def close_all(self) -> None:
        for socket in list(self._sockets.values()):
            await socket.close(message=b"cloud shutting down")
        self._sockets.clear()

    def forget(self) -> None:
        """Drop what is known about pushes and receipts (after the emulator emptied or replaced the database)."""
        self._acked.clear()
        self._refused.clear()
        self._pushed.clear()

    async def disconnect(self, system_id: str) -> None:
        socket = self._sockets.get(system_id)
        if socket is not None:
            await socket.close(message=b"system unlinked")
