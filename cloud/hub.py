"""Which HOME systems are connected right now, pushing to them, and waiting for their receipts."""

import asyncio
from collections import defaultdict
from collections.abc import Callable

import structlog
from aiohttp import web

from shared import protocol

log = structlog.get_logger()


class LinkHub:
    def __init__(self) -> None:
        self._sockets: dict[str, web.WebSocketResponse] = {}
        self._acked: dict[str, int] = defaultdict(int)
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

    async def push_snapshot(self, system_id: str, token: str) -> bool:
        """Send a snapshot if the system is connected; a failed send is safe (it catches up on reconnect)."""
        socket = self._sockets.get(system_id)
        if socket is None or socket.closed:
            return False
        try:
            await socket.send_str(protocol.encode(protocol.SNAPSHOT, token=token))
        except (ConnectionError, RuntimeError) as exc:
            log.warning("snapshot_push_failed", system_id=system_id, error=str(exc))
            return False
        return True

    async def acknowledged(self, system_id: str, seq: int) -> None:
        async with self._changed:
            self._acked[system_id] = max(self._acked[system_id], seq)
            self._changed.notify_all()

    async def wait_for_ack(self, system_id: str, seq: int, timeout: float) -> bool:
        """Wait until the system's receipt for ``seq`` (or later) arrived, or ``timeout`` passed."""
        try:
            async with asyncio.timeout(timeout):
                async with self._changed:
                    await self._changed.wait_for(lambda: self._acked[system_id] >= seq or not self.is_online(system_id))
        except TimeoutError:
            return False
        return self._acked[system_id] >= seq

    async def close_all(self) -> None:
        for socket in list(self._sockets.values()):
            await socket.close(message=b"cloud shutting down")
        self._sockets.clear()

    async def disconnect(self, system_id: str) -> None:
        socket = self._sockets.get(system_id)
        if socket is not None:
            await socket.close(message=b"system unlinked")
