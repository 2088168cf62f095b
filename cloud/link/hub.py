"""Which HOME systems are connected right now, pushing to them, and waiting for their receipts."""

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta

import structlog
from aiohttp import web

from flex_emulator.cloud.link.faults import LinkFaults
from flex_emulator.shared import protocol
from flex_emulator.shared.clock import Clock, WallClock
from flex_emulator.shared.journal import Journal, token_fields

log = structlog.get_logger()

PUSHES_REMEMBERED = 32
RESEND_MAX_SECONDS = 60.0
GOODBYE_SECONDS = 10.0


class LinkHub:
    def __init__(self, journal: Journal | None = None, resend_seconds: float = 2.0, clock: Clock | None = None) -> None:
        self.journal = journal or Journal()
        self.faults = LinkFaults(self.journal)
        self.resend_seconds = resend_seconds
        self.clock = clock or WallClock()
        self._resend_at: dict[str, datetime] = {}  # when each waiting re-push is due, by the service's clock
        self._lost: dict[str, int] = {}  # the latest seq whose snapshot or receipt an injected fault dropped
        self._latest: dict[str, tuple[str, int]] = {}  # the last snapshot pushed: token, seq
        self._resenders: dict[str, asyncio.Task[None]] = {}
        self._sockets: dict[str, web.WebSocketResponse] = {}
        # Plain dicts read with .get: an entry only for a system that was pushed to, not for every link or look-up.
        self._acked: dict[str, int] = {}
        self._refused: dict[str, int] = {}
        self._pushed: dict[str, dict[int, int]] = {}  # message id -> seq, to match HOME's error replies
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

    async def push_snapshot(self, system_id: str, token: str, seq: int, resent: bool = False) -> bool:
        """Send a snapshot if the system is connected; a failed send is safe (it catches up on reconnect).

        Until its receipt arrives the snapshot is sent again now and then (see ``_resend``): a snapshot
        or receipt lost in transit must not leave credits waiting for proof while the link is up."""
        socket = self._sockets.get(system_id)
        if socket is None or socket.closed:
            return False
        message_id, text = protocol.encode_with_id(protocol.SNAPSHOT, token=token)
        pushed = self._pushed.setdefault(system_id, {})
        pushed[message_id] = seq
        while len(pushed) > PUSHES_REMEMBERED:
            del pushed[next(iter(pushed))]
        if seq >= self._latest.get(system_id, ("", 0))[1]:
            self._latest[system_id] = (token, seq)
        delay = self.faults.latency_seconds(system_id)
        if delay:
            await asyncio.sleep(delay)
        sent = {"resent": True} if resent else token_fields(token)  # the token once: a re-push sends the same one
        self.journal.note("snapshot_pushed", system_id, seq=seq, **sent)
        self._lost.pop(system_id, None)
        copies = self.faults.copies(system_id, "snapshot", seq)
        try:
            for _ in range(copies):
                await socket.send_str(text)
        except (ConnectionError, RuntimeError) as exc:
            log.warning("snapshot_push_failed", system_id=system_id, error=str(exc))
            return False
        if copies == 0:
            await self.lost(system_id, seq)
        if not resent:
            self._watch_receipt(system_id)
        return True

    def _watch_receipt(self, system_id: str) -> None:
        """(Re)start the watcher of this system's receipt, so a new push gets the short first delay."""
        task = self._resenders.pop(system_id, None)
        if task is not None and not task.done():
            task.cancel()
        if self.resend_seconds > 0:
            self._resenders[system_id] = asyncio.create_task(self._resend(system_id), name=f"resend-{system_id}")

    def _awaiting_receipt(self, system_id: str) -> tuple[str, int] | None:
        latest = self._latest.get(system_id)
        if latest is None or not self.is_online(system_id):
            return None
        seq = latest[1]
        return None if self._settled(system_id, seq) else latest

    def _settled(self, system_id: str, seq: int) -> bool:
        """HOME acknowledged ``seq`` (or later), or refused it."""
        return self._acked.get(system_id, 0) >= seq or self._refused.get(system_id, 0) >= seq

    async def _resend(self, system_id: str) -> None:
        """Push the latest snapshot again while its receipt is overdue (backing off): HOME answers a copy
        it already applied with its receipt again, so this recovers a lost snapshot and a lost receipt alike.
        The wait is on the service's clock: under a virtual clock the re-push comes when time is moved."""
        delay = self.resend_seconds
        while True:
            self._resend_at[system_id] = self.clock.now() + timedelta(seconds=delay)
            try:
                await self.clock.sleep(delay)
            finally:
                self._resend_at.pop(system_id, None)
            awaited = self._awaiting_receipt(system_id)
            if awaited is None:
                return
            log.info("snapshot_resent", system_id=system_id, seq=awaited[1])
            # Shielded: a newer push cancels this watcher, and must not cut a frame in half.
            await asyncio.shield(self.push_snapshot(system_id, awaited[0], awaited[1], resent=True))
            delay = min(delay * 2, RESEND_MAX_SECONDS)

    def resend_due(self, system_id: str) -> datetime | None:
        """When the next re-push to this system is due, to the clock's whole second (None: none is waiting)."""
        due = self._resend_at.get(system_id)
        if due is None or not due.microsecond:
            return due
        return due.replace(microsecond=0) + timedelta(seconds=1)

    def lost_seq(self, system_id: str) -> int:
        """The latest seq whose copy or receipt an injected fault dropped, not pushed again since (0: none)."""
        return self._lost.get(system_id, 0)

    async def lost(self, system_id: str, seq: int) -> None:
        """An injected fault dropped copy ``seq`` or its receipt: whoever waits for that receipt stops waiting
        (the re-push will recover it)."""
        async with self._changed:
            self._lost[system_id] = max(self._lost.get(system_id, 0), seq)
            self._changed.notify_all()

    async def acknowledged(self, system_id: str, seq: int) -> None:
        if self._latest.get(system_id, ("", seq + 1))[1] <= seq:
            del self._latest[system_id]  # nothing to push again: let the token and the watcher go
            resender = self._resenders.pop(system_id, None)
            if resender is not None and resender is not asyncio.current_task():
                resender.cancel()
        pushed = self._pushed.get(system_id, {})
        for message_id in [key for key, pushed_seq in pushed.items() if pushed_seq <= seq]:
            del pushed[message_id]
        if not pushed:
            self._pushed.pop(system_id, None)
        async with self._changed:
            self._acked[system_id] = max(self._acked.get(system_id, 0), seq)
            self._changed.notify_all()

    async def refused(self, system_id: str, reply_to: int | None) -> int:
        """HOME answered a push with an error: that snapshot (or, unmatched, every one sent) will get no receipt."""
        pushed = self._pushed.get(system_id, {})
        seq = pushed.pop(reply_to) if reply_to in pushed else max(pushed.values(), default=0)
        if not pushed:
            self._pushed.pop(system_id, None)
        async with self._changed:
            self._refused[system_id] = max(self._refused.get(system_id, 0), seq)
            self._changed.notify_all()
        return seq

    async def wait_for_ack(self, system_id: str, seq: int, timeout: float) -> bool:
        """Wait until the system's receipt for ``seq`` (or later) arrived, HOME refused it, or ``timeout`` passed."""

        def settled() -> bool:
            return self._settled(system_id, seq) or self._lost.get(system_id, 0) >= seq or not self.is_online(system_id)

        try:
            async with asyncio.timeout(timeout):
                async with self._changed:
                    await self._changed.wait_for(settled)
        except TimeoutError:
            return False
        return self._acked.get(system_id, 0) >= seq

    async def close_all(self) -> None:
        """Close every link at once, then give their handlers the time to record last seen and let go
        (the database closes after this)."""
        for task in self._resenders.values():
            task.cancel()
        await asyncio.gather(*self._resenders.values(), return_exceptions=True)
        self._resenders.clear()
        sockets = list(self._sockets.values())
        goodbye = b"cloud shutting down"
        await asyncio.gather(*(socket.close(message=goodbye) for socket in sockets), return_exceptions=True)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(GOODBYE_SECONDS), self._changed:
                await self._changed.wait_for(lambda: not self._sockets)
        self._sockets.clear()

    def forget(self) -> None:
        """Drop what is known about pushes and receipts (after the emulator emptied or replaced the database)."""
        self._acked.clear()
        self._refused.clear()
        self._pushed.clear()
        self._latest.clear()
        self._lost.clear()
        self.faults.clear_all()

    async def disconnect(self, system_id: str, reason: bytes = b"system unlinked") -> None:
        socket = self._sockets.get(system_id)
        if socket is not None:
            await socket.close(message=reason)
