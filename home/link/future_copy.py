"""A credits copy from HOME's future, kept until HOME's clock catches up.

Two clocks that are moved one after the other (or a HOME clock running slow) make the cloud issue a
copy HOME must refuse for now (``clock_skew``). Without help HOME would stay behind until the next
change in the cloud, and its credits could run out while online; so it keeps the latest such copy and
applies it as soon as its own clock has caught up: when its clock is moved, and each second meanwhile.
"""

import asyncio
from collections.abc import Awaitable, Callable

import structlog

from flex_emulator.home.domain.licensing import Applied, apply_snapshot
from flex_emulator.home.domain.models import UploadResult
from flex_emulator.home.domain.node import Node
from flex_emulator.shared.errors import TokenError

log = structlog.get_logger()

RETRY_SECONDS = 1.0


class FutureCopy:
    def __init__(self, node: Node, applied_later: Callable[[Applied], Awaitable[None]]) -> None:
        """``applied_later`` is told about a held copy once it applied (the link sends its receipt)."""
        self._node = node
        self._applied_later = applied_later
        self._token: str | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def held(self) -> bool:
        return self._token is not None

    def hold(self, token: str) -> None:
        self._token = token
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._retry_each_second(), name="home-future-copy")

    def forget(self) -> None:
        self._token = None
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _retry_each_second(self) -> None:
        while self._token is not None:
            await self._node.clock.sleep(RETRY_SECONDS)
            await self.retry()

    async def retry(self) -> bool:
        """Apply the held copy if HOME's clock has caught up; True when it was applied now."""
        token = self._token
        if token is None:
            return False
        try:
            applied = await apply_snapshot(self._node, token, source="link")
        except TokenError as exc:
            if exc.code != "clock_skew":
                log.info("future_copy_dropped", code=exc.code)
                self._token = None
            return False
        if self._token is token:
            self._token = None
        log.info("future_copy_applied", seq=applied.seq, result=applied.result)
        await self._applied_later(applied)
        return applied.result == UploadResult.APPLIED
