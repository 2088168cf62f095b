"""Credits that end by HOME's own clock, written into the journal as they pass.

Nothing happens on HOME when a copy's entry reaches its ``valid_until``: the entry simply stops
counting. The journal still wants the moment (the inspector shows each side's expiry by its own
clock), so HOME keeps the entries it holds, soonest end first, and notes each end the first time
its time is read past it: a page, an API call, the minute's time mark, or the journal route.
"""

from datetime import datetime
from itertools import groupby

from flex_emulator.shared.journal import Journal
from flex_emulator.shared.quarters import to_credits
from flex_emulator.shared.snapshot_claims import SnapshotEntry
from flex_emulator.shared.timefmt import iso


class Expiries:
    def __init__(self, journal: Journal) -> None:
        self._journal = journal
        self._seq = 0
        self._ahead: list[SnapshotEntry] = []  # entries still valid, the soonest end first

    def hold(self, seq: int, entries: list[SnapshotEntry] | tuple[SnapshotEntry, ...], now: datetime) -> None:
        """The entries of the copy HOME holds now (it replaced the one before, with whatever ended in it)."""
        self._seq = seq
        self._ahead = sorted((entry for entry in entries if entry.valid_until > now), key=lambda e: e.valid_until)

    def notice(self, now: datetime) -> None:
        """Note every entry that has ended by ``now``, one fact per end time, at that time."""
        if not self._ahead or self._ahead[0].valid_until > now:
            return
        ended = [entry for entry in self._ahead if entry.valid_until <= now]
        self._ahead = self._ahead[len(ended) :]
        for until, group in groupby(ended, key=lambda e: e.valid_until):
            entries = list(group)
            self._journal.note(
                "credits_expired",
                at=until,
                seq=self._seq,
                valid_until=iso(until),
                assignments=[entry.assignment_id for entry in entries],
                credits=to_credits(sum(entry.credits for entry in entries)),
                # Ended at its cap (an Auto Revoke, a subscription's end): no newer copy could have renewed it.
                final=all(entry.renewable_until is not None and until >= entry.renewable_until for entry in entries),
            )
