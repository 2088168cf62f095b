"""The event journal both services keep for tests and demos (``GET /_emulator/events``).

Facts are noted in memory the moment they happen and written by the service's next write
transaction, right after ``BEGIN`` and again before ``COMMIT`` (one ``executemany`` each, only when
something is pending). Under the one writer lock that keeps the journal in the order things
happened, costs no transaction of its own, and a fact noted inside a transaction commits with it.

The journal keeps the newest ``keep`` events (the cloud's ledger rows included; the ledger itself is
never pruned). Each write transaction, before its ``COMMIT``, deletes the oldest rows beyond that, at
most ``prune_batch`` of them, so no transaction pauses the loop for long and a burst is worked off
over the next ones. Cursors are row ids, so an old cursor still pages: from the oldest event kept.
"""

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from flex_emulator.shared.errors import BadRequest
from flex_emulator.shared.sql import Sql
from flex_emulator.shared.timefmt import epoch, iso
from flex_emulator.shared.web import whole_number

log = structlog.get_logger()

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
FLUSH_DELAY_SECONDS = 0.1
# A fact keeps the signed token it is about up to this size (a credits file of some 200 assignments); a larger one
# only its size: a system of thousands of assignments would otherwise grow the journal by its file with every change.
TOKEN_KEPT_BYTES = 16 * 1024

# Newest events kept per service (per HOME of a fleet); the oldest go first. 0 keeps everything.
DEFAULT_KEEP = 100_000
# Rows deleted at most per transaction: about a millisecond of SQLite work.
PRUNE_BATCH = 1000

INSERT_FACTS = "INSERT INTO journal (at, kind, system_id, detail, noted_us) VALUES (?, ?, ?, ?, ?)"
# Two lookups at the ends of the primary key (SQLite answers a lone MIN or MAX without a scan).
JOURNAL_ENDS = "SELECT (SELECT MIN(id) FROM journal), (SELECT MAX(id) FROM journal)"


def wall_us() -> int:
    """The machine's clock in microseconds, whatever the service's (virtual) clock says: what orders the events of
    two services on one machine (``noted_at``), where the service time of a virtual clock stands still."""
    return time.time_ns() // 1000


@dataclass(frozen=True)
class Fact:
    at: datetime
    kind: str
    system_id: str | None
    detail: dict[str, Any]
    noted_us: int

    def row(self) -> tuple[int, str, str | None, str, int]:
        return epoch(self.at), self.kind, self.system_id, json.dumps(self.detail), self.noted_us


def wall_now() -> datetime:
    return datetime.now(UTC)


def token_fields(token: str) -> dict[str, Any]:
    """What a fact keeps of a signed token: the token itself, or its size when it is larger than TOKEN_KEPT_BYTES."""
    return {"token": token} if len(token) <= TOKEN_KEPT_BYTES else {"token_bytes": len(token)}


class Journal:
    def __init__(
        self, now: Callable[[], datetime] = wall_now, *, keep: int = DEFAULT_KEEP, prune_batch: int = PRUNE_BATCH
    ) -> None:
        self._now = now
        self._pending: list[Fact] = []
        self._noted = asyncio.Event()
        self.keep = keep
        self._prune_batch = prune_batch
        self._tickets = itertools.count()
        self._carrying: dict[int, asyncio.Event] = {}  # the open transactions, each until it commits or rolls back

    def note(self, kind: str, system_id: str | None = None, *, at: datetime | None = None, **detail: Any) -> None:
        """``at``: when it happened by the service's clock, if that was before now (an expiry noticed later)."""
        self._pending.append(Fact(at or self._now(), kind, system_id, detail, wall_us()))
        self._noted.set()

    @property
    def pending(self) -> bool:
        return bool(self._pending)

    async def write(self, sql: Sql) -> list[Fact]:
        """Insert every pending fact; returns them, so a rolled-back transaction can put them back."""
        facts, self._pending = self._pending, []
        if facts:
            try:
                await sql.many(INSERT_FACTS, [fact.row() for fact in facts])
            except BaseException:
                self.put_back(facts)
                raise
        return facts

    def put_back(self, facts: list[Fact]) -> None:
        self._pending[:0] = facts

    @asynccontextmanager
    async def carrying(self) -> AsyncIterator[list[Fact]]:
        """Around a whole transaction, its commit included; ``written_with`` adds the facts it writes to the list
        this gives. They are neither pending nor readable until the transaction ends (``carried`` waits for that),
        and pending again if it does not commit, whether its body or its commit failed."""
        ticket, ended = next(self._tickets), asyncio.Event()
        self._carrying[ticket] = ended
        carried: list[Fact] = []
        try:
            yield carried
        except BaseException:
            self.put_back(carried)
            raise
        finally:
            del self._carrying[ticket]
            ended.set()

    async def carried(self) -> None:
        """Wait until every transaction begun before now has committed or rolled back: a reader of the journal
        then sees every fact noted before it asked (a fact noted earlier may be riding in any of them). Never call
        it inside a transaction: it would wait for itself."""
        for ended in list(self._carrying.values()):
            await ended.wait()

    async def prune(self, sql: Sql) -> int:
        """Delete the oldest events beyond ``keep``, at most ``prune_batch`` of them; how many went."""
        if self.keep <= 0:
            return 0
        ends = await sql.one(JOURNAL_ENDS)
        oldest, newest = (None, None) if ends is None else (ends[0], ends[1])
        if newest is None or oldest is None or newest - oldest < self.keep:
            return 0
        # Row ids never come back (AUTOINCREMENT, identity), so everything below ``newest - keep + 1`` is beyond the
        # newest keep.
        below = min(newest - self.keep + 1, oldest + self._prune_batch)
        return await sql.run("DELETE FROM journal WHERE id < ?", (below,))

    async def wait_noted(self) -> None:
        await self._noted.wait()
        self._noted.clear()


@asynccontextmanager
async def written_with(journal: Journal, sql: Sql, carried: list[Fact], *, prune: bool = True) -> AsyncIterator[None]:
    """Inside a transaction (in ``journal.carrying()``, whose list is ``carried``): the facts noted before it
    first, those noted during it last (they commit with it, or go back to pending with it). ``prune``: also delete
    the oldest events beyond ``keep`` (PostgreSQL prunes in its journal writer instead: one writer at a time there,
    where every transaction of every process would otherwise contend for the same rows)."""
    carried.extend(await journal.write(sql))
    yield
    carried.extend(await journal.write(sql))
    if prune:
        await journal.prune(sql)


async def keep_written(journal: Journal, flush: Callable[[], Awaitable[None]]) -> None:
    """Write facts down soon even when no other write follows (``flush`` opens an empty transaction)."""
    while True:
        await journal.wait_noted()
        await asyncio.sleep(FLUSH_DELAY_SECONDS)
        if journal.pending:
            try:
                await flush()
            except Exception:  # a full disk must not end the task: the next fact tries again
                log.exception("journal_not_written")


def parse_cursor(raw: str | None) -> int:
    """Cursors are opaque to clients; here they are the journal row id, as text."""
    if raw is None or raw == "":
        return 0
    cursor = whole_number(raw)
    if cursor is None:
        raise BadRequest(
            "'after' must be a cursor from an earlier answer's 'next' or an event's 'cursor'.", code="invalid_cursor"
        )
    return cursor


def parse_limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    limit = whole_number(raw, max_digits=9)
    if limit is None or not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"'limit' must be a whole number from 1 to {MAX_LIMIT}.", code="invalid_limit")
    return limit


MAX_KINDS = 20


def parse_kinds(query: Any) -> list[str] | None:
    """``kind`` of ``GET /_emulator/events``, repeatable (``kind=a&kind=b``): the kinds to keep; None keeps all. A
    kind no event has matches nothing."""
    kinds = query.getall("kind", [])
    if not kinds:
        return None
    if len(kinds) > MAX_KINDS or not all(
        0 < len(kind) <= 64 and kind.isascii() and kind.replace("_", "").isalnum() for kind in kinds
    ):
        raise BadRequest(
            f"'kind' must be an event kind such as link_up (letters, digits and _), at most {MAX_KINDS} of them.",
            code="invalid_value",
        )
    return sorted(set(kinds))


def event_json(
    cursor: int, at: datetime, kind: str, fields: dict[str, Any], noted_us: int | None = None
) -> dict[str, Any]:
    """``{cursor, at, kind, noted_at, ...}``: the named fields first; a detail never overrides them."""
    base: dict[str, Any] = {"cursor": str(cursor), "at": iso(at), "kind": kind}
    if noted_us is not None:
        base["noted_at"] = iso_micro(noted_us)
    return base | {key: value for key, value in fields.items() if key not in base and value is not None}


def iso_micro(microseconds: int) -> str:
    """``2026-12-06T02:35:00.123456Z``: the fixed width makes the text sort as the times do."""
    seconds, micro = divmod(microseconds, 1_000_000)
    return f"{datetime.fromtimestamp(seconds, UTC).strftime('%Y-%m-%dT%H:%M:%S')}.{micro:06d}Z"


def page_json(events: list[dict[str, Any]], after: int) -> dict[str, Any]:
    return {"events": events, "next": events[-1]["cursor"] if events else str(after)}
