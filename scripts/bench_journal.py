"""What pruning the event journal costs a write: a cloud database whose journal is full (its newest ``keep`` events
and a burst more), then empty write transactions, each of which deletes at most one batch of the oldest. Every
event carries a 1 KB token, as the facts about what crossed the link do (a small credits file or receipt)."""

import statistics
import time
from pathlib import Path
from typing import Any

from flex_emulator.cloud.store import SqliteStore
from flex_emulator.shared.journal import PRUNE_BATCH, Journal

TOKEN = "x" * 1024


async def journal_pruning(folder: Path, keep: int) -> dict[str, Any]:
    db = SqliteStore(folder / "cloud.sqlite3", Journal(keep=keep))
    await db.open()
    try:
        for chunk in range(0, keep, 10_000):  # the journal at its bound, written as a busy service would
            for number in range(chunk, min(chunk + 10_000, keep)):
                db.journal.note("bench", number=number, token=TOKEN)
            await db.write_journal()
        for number in range(5 * PRUNE_BATCH):  # a burst of 5 batches over the bound, noted at once
            db.journal.note("bench", number=keep + number, token=TOKEN)
        await db.write_journal()  # this write deletes the first batch
        pruning, plain = [], []
        for _ in range(4):  # the rest of the burst, a batch per write
            began = time.perf_counter()
            async with db.transaction():
                pass
            pruning.append((time.perf_counter() - began) * 1000)
        for _ in range(20):  # at the bound again: a write only looks at the journal's two ends
            db.journal.note("bench", number=0, token=TOKEN)
            began = time.perf_counter()
            await db.write_journal()
            plain.append((time.perf_counter() - began) * 1000)
        kept = len(await db.read.journal.after(0, keep + 10))
    finally:
        await db.close()
    return {
        "journal_keep": keep,
        "journal_kept_after_burst": kept,
        "journal_prune_batch_ms": round(max(pruning), 2),
        "journal_write_at_bound_ms": round(statistics.median(plain), 3),
    }
