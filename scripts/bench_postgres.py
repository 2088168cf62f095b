"""The cloud on PostgreSQL beside SQLite, in one run: assign → visible (one process, SQLite and PostgreSQL sampled
in turn so the machine's drifting speed hits both alike; and through a second process holding HOME's link),
sustained assigns with one and two cloud processes, links per process, and what an assign costs there (statements,
counted in a short run of their own so the timed samples carry no counting; round trips; the commit). The server
is a throw-away one with PostgreSQL's default durability (every commit waits for the disk), as a production server
runs."""

import asyncio
import json
import os
import statistics
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
from bench_online import assign_visible, assign_visible_side_by_side, online_pair, summary, sustained_assigns

from flex_emulator.cloud.link.hub import LinkHub
from flex_emulator.postgres import TemporaryPostgres, database_name
from flex_emulator.shared.postgres import CHANNEL, PostgresBus, PostgresSql


def count_statements(counter: Counter[str]) -> Callable[[], None]:
    """Count the statements the cloud's stores send (an in-process cloud); returns the undo."""
    originals = {name: getattr(PostgresSql, name) for name in ("all", "one", "run", "many")}

    def counted(name: str) -> Any:
        original = originals[name]

        async def method(self: PostgresSql, *args: Any, **kwargs: Any) -> Any:
            counter[name] += 1
            return await original(self, *args, **kwargs)

        return method

    for name in originals:
        setattr(PostgresSql, name, counted(name))

    def undo() -> None:
        for name, original in originals.items():
            setattr(PostgresSql, name, original)

    return undo


def cpu_ticks(stat: Path) -> int:
    """A process's user + system CPU time, in clock ticks (fields 14 and 15 of /proc/PID/stat)."""
    return sum(int(part) for part in stat.read_text().rsplit(")", 1)[1].split()[11:13])


async def round_trips(url: str, count: int) -> dict[str, float]:
    """Microseconds for one statement round trip, and for a one-row commit with and without waiting for the disk."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS bench_commit (id INTEGER PRIMARY KEY, n BIGINT)")
        await conn.execute("INSERT INTO bench_commit VALUES (1, 0) ON CONFLICT DO NOTHING")
        figures = {}
        began = time.perf_counter()
        for _ in range(count):
            await conn.fetchval("SELECT 1")
        figures["pg_round_trip_us"] = round((time.perf_counter() - began) / count * 1e6, 1)
        # The server's own CPU per statement, from its backend's CPU time (Linux /proc; the server may run as
        # another user, whose /proc entry root can read): a mix like the stores' (read, update and insert by key).
        await conn.execute("CREATE TABLE IF NOT EXISTS bench_rows (id TEXT PRIMARY KEY, n BIGINT)")
        ticks = os.sysconf("SC_CLK_TCK")
        stat = Path(f"/proc/{conn.get_server_pid()}/stat")
        before = cpu_ticks(stat)
        statements = count * 2
        for batch in range(0, count, 10):  # in transactions of 20 statements, as an assign's are
            async with conn.transaction():
                for n in range(batch, batch + 10):
                    upsert = "INSERT INTO bench_rows VALUES ($1, 0) ON CONFLICT (id) DO UPDATE SET n = 1"
                    await conn.execute(upsert, f"r{n}")
                    await conn.fetchrow("SELECT id, n FROM bench_rows WHERE id = $1", f"r{n}")
        figures["pg_server_cpu_us_per_statement"] = round((cpu_ticks(stat) - before) / ticks / statements * 1e6, 1)
        for label, setting in (("pg_commit_us", "on"), ("pg_commit_async_us", "off")):
            await conn.execute(f"SET synchronous_commit = {setting}")
            rounds = max(50, count // 10)
            began = time.perf_counter()
            for _ in range(rounds):
                async with conn.transaction():
                    await conn.execute("UPDATE bench_commit SET n = n + 1 WHERE id = 1")
            figures[label] = round((time.perf_counter() - began) / rounds * 1e6, 1)
        return figures
    finally:
        await conn.close()


async def bus_message_us(count: int) -> float:
    """Microseconds a cloud process spends on one message of the bus that is not for it (a push for a HOME linked
    elsewhere, with a 1 KB token): what every process pays for every cross-process push, the NOTIFY fan-out."""
    bus = PostgresBus("this")
    hub = LinkHub(bus=bus)
    done, seen = asyncio.Event(), [0]

    async def heard(message: dict[str, Any]) -> None:
        await hub.heard(message)
        seen[0] += 1
        if seen[0] == count:
            done.set()

    bus.subscribe(heard)
    message = {"kind": "push", "system_id": "home-elsewhere", "seq": 7, "opt_token": "x" * 1000, "from": "b"}
    payload = json.dumps(message)
    deliver = asyncio.create_task(bus._deliver())
    began = time.perf_counter()
    for _ in range(count):
        bus._heard(None, 0, CHANNEL, payload)
    await done.wait()
    elapsed = time.perf_counter() - began
    deliver.cancel()
    await asyncio.gather(deliver, return_exceptions=True)
    return round(elapsed / count * 1e6, 1)


async def statements_per_sample(folder: Path, database: str, samples: int) -> float:
    """The statements the stores send per ``assign_visible`` sample (an assign and the revoke after it), counted
    over ``samples`` samples of a pair of their own, its setup not counted."""
    async with online_pair(folder, 10, samples, database) as pair:
        counter: Counter[str] = Counter()
        undo = count_statements(counter)
        try:
            for _ in range(samples):
                await pair.assign_visible_ms()
        finally:
            undo()
    return round(sum(counter.values()) / samples, 1)


async def bench_postgres(folder: Path, quick: bool) -> dict[str, Any]:
    server = TemporaryPostgres(durable=True).start()
    try:
        samples = 40 if quick else 300
        # The machine's load beside the figures: PostgreSQL's round trips wake another process each, so they
        # suffer from a busy machine far more than SQLite's statements on the loop's own thread.
        figures: dict[str, Any] = {"pg_load_avg_1m_at_start": round(os.getloadavg()[0], 1)}
        sqlite, postgres = await assign_visible_side_by_side(folder, 10, samples, await server.create_database())
        counted = await statements_per_sample(folder / "pg-count", await server.create_database(), 20)
        other = await assign_visible(folder / "pg-other", 10, samples, await server.create_database(), other=True)
        relaxed_url = await server.create_database()
        admin = await asyncpg.connect(server.url())
        await admin.execute(f"ALTER DATABASE {database_name(relaxed_url)} SET synchronous_commit = off")
        await admin.close()
        relaxed = await assign_visible(folder / "pg-async", 10, samples, relaxed_url)
        figures |= {
            "sqlite_assign_visible_p50_ms": summary(sqlite)["p50"],
            "sqlite_assign_visible_p99_ms": summary(sqlite)["p99"],
            "pg_assign_visible_p50_ms": summary(postgres)["p50"],
            "pg_assign_visible_p99_ms": summary(postgres)["p99"],
            "pg_vs_sqlite_assign_p50": round(summary(postgres)["p50"] / summary(sqlite)["p50"], 2),
            "pg_other_process_visible_p50_ms": summary(other)["p50"],
            "pg_other_process_visible_p99_ms": summary(other)["p99"],
            "pg_other_process_extra_p50_ms": round(summary(other)["p50"] - summary(postgres)["p50"], 2),
            "pg_async_commit_visible_p50_ms": summary(relaxed)["p50"],
            # an assign and the revoke after it, per sample: what the stores sent
            "pg_statements_per_assign_and_revoke": counted,
        }
        figures |= await round_trips(await server.create_database(), 500 if quick else 5000)
        figures["pg_bus_message_us"] = await bus_message_us(2000 if quick else 20_000)
        homes, seconds = (20, 3) if quick else (100, 10)
        lone = await sustained_assigns(folder / "sqlite-sustained", homes, seconds)
        one = await sustained_assigns(folder / "pg-1", homes, seconds, await server.create_database(), workers=1)
        two = await sustained_assigns(folder / "pg-2", homes, seconds, await server.create_database(), workers=2)
        figures |= {
            "sqlite_sustained_assigns_per_s": lone["assigns_per_s"],
            "pg_sustained_assigns_per_s_1_process": one["assigns_per_s"],
            "pg_sustained_assigns_per_s_2_processes": two["assigns_per_s"],
            "pg_sustained_failures": one["assign_failures"] + two["assign_failures"],
            "pg_links_per_process_2_processes": two.get("links_per_process", []),
            "pg_sustained_homes": homes,
        }
        figures["pg_visible_samples"] = samples
        figures["pg_load_avg_1m_at_end"] = round(os.getloadavg()[0], 1)
        figures["pg_visible_p50_spread_ms"] = round(statistics.pstdev(postgres), 2)
        return figures
    finally:
        server.stop()
