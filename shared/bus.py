"""Messages between the processes of one service that share a database (the cloud on PostgreSQL).

A lone process (SQLite: one process per database) has no one to tell: its bus keeps nothing and delivers
nothing. On PostgreSQL the bus is LISTEN/NOTIFY on one channel (``shared/postgres.py``); every process
hears every message except its own."""

from collections.abc import Awaitable, Callable
from typing import Any

Message = dict[str, Any]
Handler = Callable[[Message], Awaitable[None]]


class Bus:
    """The lone process's bus. ``shared`` says whether other processes may be listening."""

    shared = False

    def __init__(self) -> None:
        self.handlers: list[Handler] = []
        self.process_id = "local"

    @property
    def backend_pid(self) -> int:
        """The database server process of this process's bus connection (0: none)."""
        return 0

    def subscribe(self, handler: Handler) -> None:
        """``handler(message)`` for every message another process publishes, in the order they were sent."""
        self.handlers.append(handler)

    async def publish(self, message: Message) -> None:
        """Tell every other process (``message`` is JSON; ``shared/postgres.py`` says how large it may be)."""
