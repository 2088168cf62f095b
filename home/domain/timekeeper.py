"""HOME's own time: the clock, but never earlier than the latest time HOME has already seen.

Setting the server's clock backwards must not bring expired credits back, so HOME keeps a
high-water mark and persists it (with every write, and from reads once it has moved on
by ``PERSIST_STEP``), so a restart keeps it too.
"""

from datetime import datetime, timedelta

from flex_emulator.shared.clock import Clock

PERSIST_STEP = timedelta(seconds=60)


class TimeKeeper:
    def __init__(self, clock: Clock, mark: datetime | None = None) -> None:
        self.clock = clock
        self._mark = mark
        self._persisted = mark

    def restore(self, mark: datetime) -> None:
        """Start from the mark written down before a restart."""
        if self._mark is None or mark > self._mark:
            self._mark = mark
        self._persisted = mark

    def now(self) -> datetime:
        current = self.clock.now()
        if self._mark is None or current > self._mark:
            self._mark = current
        return self._mark

    @property
    def clock_behind(self) -> bool:
        """The machine clock reads earlier than a time HOME has already seen."""
        return self._mark is not None and self.clock.now() < self._mark

    def due_for_persisting(self, force: bool = False) -> datetime | None:
        """The mark to write down: any advance with ``force``, otherwise one of at least PERSIST_STEP."""
        mark = self.now()
        if self._persisted is None:
            return mark
        advance = mark - self._persisted
        if advance > timedelta(0) and (force or advance >= PERSIST_STEP):
            return mark
        return None

    def persisted(self, mark: datetime) -> None:
        if self._persisted is None or mark > self._persisted:
            self._persisted = mark
