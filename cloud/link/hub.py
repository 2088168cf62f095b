"""Which HOME systems are connected to this process, pushing to them, and waiting for their receipts.

Several cloud processes on one database are one cloud: each holds the links of the HOMEs that connected to it,
and the hubs speak over the database's bus (``shared/bus.py``). A snapshot issued for a system linked to
another process is handed to that process (``push``), which sends it with its own faults and re-pushes as
if it had issued it; a receipt, a refusal, a link going up or down and changed faults are told to all, so a
process waiting for a receipt wakes whichever process received it."""

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import structlog
from aiohttp import web

from flex_emulator.cloud.link.faults import LinkFaults, SystemFaults
from flex_emulator.shared import protocol
from flex_emulator.shared.bus import Bus, Message
from flex_emulator.shared.clock import Clock, WallClock
from flex_emulator.shared.journal import Journal, token_fields

log = structlog.get_logger()

PUSHES_REMEMBERED = 32
RESEND_MAX_SECONDS = 60.0
GOODBYE_SECONDS = 10.0

# The latest snapshot of a system, read from the database by a process asked to push one it did not issue
# (when the token was too large to travel with the message): (token, seq), or None.
LatestSnapshot = Callable[[str], Awaitable[tuple[str, int] | None]]
FaultsSaver = Callable[[str, SystemFaults | None], Awaitable[None]]


class LinkHub:
    def __init__(
        self,
        journal: Journal | None = None,
        resend_seconds: float = 2.0,
        clock: Clock | None = None,
        bus: Bus | None = None,
    ) -> None:
        self.journal = journal or Journal()
        self.faults = LinkFaults(self.journal)
        self.resend_seconds = resend_seconds
        self.clock = clock or WallClock()
        self._resend_at: dict[str, datetime] = {}  # when each waiting re-push is due, by the service's clock
        self._lost: dict[str, int] = {}  # the latest seq whose snapshot or receipt an injected fault dropped
        self.bus = bus or Bus()
        # Who holds a link, as the systems table records it: this process's id on a shared database, else one
        # made for this run (a restart finds the rows of the last run and clears them).
        self.process_id = self.bus.process_id if self.bus.shared else uuid.uuid4().hex[:16]
        self.latest_snapshot: LatestSnapshot | None = None
        self.save_faults: FaultsSaver | None = None
        self._downs: dict[str, int] = {}  # links of other processes seen going down, per system
        self._telling: set[asyncio.Task[None]] = set()
        self._latest: dict[str, tuple[str, int]] = {}  # the last snapshot pushed: token, seq
        self._resenders: dict[str, asyncio.Task[None]] = {}
        self._sockets: dict[str, web.WebSocketResponse] = {}
        # Plain dicts read with .get: an entry only for a system that was pushed to, not for every link or look-up.
        self._acked: dict[str, int] = {}
        self._refused: dict[str, int] = {}
        self._pushed: dict[str, dict[int, int]] = {}  # message id -> seq, to match HOME's error replies
        self._changed = asyncio.Condition()
        self._listeners: list[Callable[[str, bool], None]] = []
        if self.bus.shared:
            self.faults.fired = self._tell_faults

    def _tell_faults(self, system_id: str) -> None:
        task = asyncio.create_task(self.share_faults(system_id), name=f"faults-{system_id}")
        self._telling.add(task)
        task.add_done_callback(self._telling.discard)

    def is_online(self, system_id: str) -> bool:
        """Registered until its handler has recorded last_seen and let go (a closing socket still counts)."""
        return system_id in self._sockets

    def online_ids(self) -> set[str]:
        return set(self._sockets)

    def pushed_seq(self, system_id: str) -> int:
        """The copy this process last pushed to the system and has not yet seen acknowledged (0: none)."""
        return self._latest.get(system_id, ("", 0))[1]

    def on_presence(self, listener: Callable[[str, bool], None]) -> None:
        """Call ``listener(system_id, online)`` whenever a system connects or disconnects."""
        self._listeners.append(listener)

    async def register(self, system_id: str, socket: web.WebSocketResponse) -> None:
        previous = self._sockets.get(system_id)
        self._sockets[system_id] = socket
        if previous is not None and previous is not socket and not previous.closed:
            await previous.close(message=b"replaced by a newer connection")
        self._announce(system_id, True)
        await self.bus.publish({"kind": "link", "system_id": system_id, "online": True})

    async def unregister(self, system_id: str, socket: web.WebSocketResponse) -> None:
        if self._sockets.get(system_id) is socket:
            del self._sockets[system_id]
            self._announce(system_id, False)
            await self.bus.publish({"kind": "link", "system_id": system_id, "online": False})
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
        if socket is None and self.bus.shared and not resent:
            # Linked to another process, or to none: whoever holds it sends it (the token goes along if small).
            await self.bus.publish({"kind": "push", "system_id": system_id, "seq": seq, "opt_token": token})
            return True
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

    async def lost(self, system_id: str, seq: int, *, tell: bool = True) -> None:
        """An injected fault dropped copy ``seq`` or its receipt: whoever waits for that receipt stops waiting
        (the re-push will recover it), in any process of the cloud."""
        if tell:
            await self.bus.publish({"kind": "lost", "system_id": system_id, "seq": seq})
        async with self._changed:
            self._lost[system_id] = max(self._lost.get(system_id, 0), seq)
            self._changed.notify_all()

    async def acknowledged(self, system_id: str, seq: int, *, tell: bool = True) -> None:
        """HOME's receipt for ``seq`` was accepted (here, or by another process: then ``tell`` is False)."""
        if tell:
            await self.bus.publish({"kind": "ack", "system_id": system_id, "seq": seq})
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
        await self.bus.publish({"kind": "refused", "system_id": system_id, "seq": seq})
        await self._refused_up_to(system_id, seq)
        return seq

    async def _refused_up_to(self, system_id: str, seq: int) -> None:
        async with self._changed:
            self._refused[system_id] = max(self._refused.get(system_id, 0), seq)
            self._changed.notify_all()

    async def wait_for_ack(self, system_id: str, seq: int, timeout: float) -> bool:
        """Wait until the system's receipt for ``seq`` (or later) arrived, HOME refused it, its link went down, or
        ``timeout`` passed. A system linked to another process is waited for through what that one tells."""
        local = self.is_online(system_id)
        downs = self._downs.get(system_id, 0)

        def settled() -> bool:
            if self._settled(system_id, seq) or self._lost.get(system_id, 0) >= seq:
                return True
            return not self.is_online(system_id) if local else self._downs.get(system_id, 0) != downs

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
        self._downs.clear()
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

    # --- what other processes of the cloud tell ---------------------------------------------------------------

    async def share_faults(self, system_id: str) -> None:
        """The system's faults changed here: keep them where every process finds them, and tell the others."""
        if self.bus.shared and self.save_faults is not None:
            current = self.faults.armed(system_id)
            await self.save_faults(system_id, current)
            await self.bus.publish(
                {"kind": "faults", "system_id": system_id, "faults": None if current is None else current.json()}
            )

    async def heard(self, message: Message) -> None:
        """A message from another process of this cloud (``shared/bus.py``)."""
        kind, system_id = message.get("kind"), message.get("system_id")
        if not isinstance(system_id, str):
            return
        if kind == "push":
            await self._push_for_another(system_id, message)
        elif kind == "ack":
            await self.acknowledged(system_id, int(message["seq"]), tell=False)
        elif kind == "refused":
            await self._refused_up_to(system_id, int(message["seq"]))
        elif kind == "lost":
            await self.lost(system_id, int(message["seq"]), tell=False)
        elif kind == "link":
            await self._link_elsewhere(system_id, bool(message.get("online")))
        elif kind == "faults":
            await self._faults_from_another(system_id, message.get("faults"))

    async def _push_for_another(self, system_id: str, message: Message) -> None:
        if system_id not in self._sockets:
            return
        seq = int(message["seq"])
        token = message.get("opt_token")
        if not isinstance(token, str):
            latest = await self.latest_snapshot(system_id) if self.latest_snapshot is not None else None
            if latest is None or latest[1] < seq:
                return
            token, seq = latest
        await self.push_snapshot(system_id, token, seq)

    async def _link_elsewhere(self, system_id: str, online: bool) -> None:
        if online:
            # The HOME connected again through another process: a link it left here is stale.
            stale = self._sockets.get(system_id)
            if stale is not None and not stale.closed:
                await stale.close(message=b"replaced by a newer connection")
            return
        if system_id in self._sockets:
            return
        async with self._changed:
            self._downs[system_id] = self._downs.get(system_id, 0) + 1
            self._changed.notify_all()

    async def _faults_from_another(self, system_id: str, faults: Any) -> None:
        cut_now = self.faults.replace(system_id, faults if isinstance(faults, dict) else None)
        if cut_now:
            await self.disconnect(system_id, reason=b"link cut (emulator fault)")
