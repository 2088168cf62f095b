"""What ``scripts/bench`` runs. Each benchmark uses real in-process servers and real SQLite files in a
temporary folder, and prints one line of numbers. Sizes are bounded; everything stays on loopback."""

import argparse
import asyncio
import json
import logging
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import structlog
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_journal import journal_pruning
from bench_links import live_links
from bench_online import (
    assign_visible,
    cloud_api,
    file_round_trip,
    home_api,
    new_admin,
    pair_start,
    summary,
    sustained_assigns,
)
from bench_postgres import bench_postgres
from bench_primitives import measure_primitives
from bench_services import machine
from bench_targets import judge

from flex_emulator import START
from flex_emulator.cloud.app import create_app as create_cloud
from flex_emulator.cloud.appkeys import DB
from flex_emulator.cloud.config import Config as CloudConfig
from flex_emulator.cloud.domain.models import Assignment
from flex_emulator.cloud.store.ledger import LedgerEntry
from flex_emulator.home.app import create_app as create_home
from flex_emulator.home.appkeys import LINK
from flex_emulator.home.config import Config as HomeConfig
from flex_emulator.shared.clock import VirtualClock
from flex_emulator.shared.journal import DEFAULT_KEEP
from flex_emulator.shared.keys import key_id, system_id_for
from flex_emulator.shared.snapshot_claims import SnapshotEntry
from flex_emulator.shared.tokens import Snapshot, new_jti, sign_registration, sign_snapshot, verify_snapshot
from scripts.bench_world import bench_world_start


def report(name: str, **numbers: Any) -> None:
    values = "  ".join(f"{key}={value}" for key, value in numbers.items())
    sys.stdout.write(f"{name:<34} {values}\n")
    sys.stdout.flush()


async def cloud_client(folder: Path, clock: VirtualClock) -> TestClient:
    client = TestClient(
        TestServer(
            create_cloud(CloudConfig(data_dir=folder / "cloud", emulator_api=True, virtual_clock=True), clock),
            host="127.0.0.1",
        )
    )
    await client.start_server()
    return client


async def bench_virtual_month(folder: Path, assignments: int) -> float:
    """A 30-day month with an online and an offline HOME holding credits: check-ins, expiries, receipts."""
    clock = VirtualClock(start=START)
    cloud = await cloud_client(folder, clock)
    admin, account_id = await new_admin(cloud)
    sub = await admin.create_subscription(account_id, assignments * 2, duration="annual")
    homes = []
    for label, offline in (("Studio A", False), ("OB Van 3", True)):
        config = HomeConfig(
            data_dir=folder / label,
            cloud_url=str(cloud.make_url("")).rstrip("/"),
            label=label,
            offline=offline,
            cloud_key_file=folder / "cloud" / "jwks.json",
        )
        home = TestClient(TestServer(create_home(config, clock), host="127.0.0.1"))
        await home.start_server()
        await admin.link_system(account_id, (await home_api(home).system())["registration_code"])
        homes.append(home)
    await homes[0].app[LINK].wait_for_state("online", timeout=10)
    ids = [(await home_api(home).system())["system_id"] for home in homes]
    for n in range(assignments):
        await admin.assign(account_id, ids[n % 2], sub["id"], 1)
    durations = []
    for _month in range(3):
        began = time.perf_counter()
        await cloud_api(cloud).move_clock(advance_seconds=30 * 86400)
        durations.append(time.perf_counter() - began)
    total = (await home_api(homes[0]).credits())["total"]
    violations = await cloud.app[DB].read.ledger.invariant_violations()
    report(
        "virtual 30-day month",
        assignments=assignments,
        seconds_per_month=" / ".join(f"{value:.3f}" for value in durations),
        online_home_total=total,
        invariant=violations or "ok",
    )
    for home in homes:
        await home.close()
    await cloud.close()
    return statistics.median(durations)


async def bench_scheduled_items(folder: Path, count: int) -> float:
    """``count`` assignments with Auto Revoke times spread over a day, all handled by one clock advance."""
    clock = VirtualClock(start=START)
    cloud = await cloud_client(folder, clock)
    admin, account_id = await new_admin(cloud)
    sub = await admin.create_subscription(account_id, count, duration="annual")
    system = await admin.link_system(account_id, sign_registration(Ed25519PrivateKey.generate(), "OB Van 3"))
    db = cloud.app[DB]
    began = time.perf_counter()
    items = [
        Assignment.new(
            account_id=account_id,
            system_id=system["id"],
            subscription_id=sub["id"],
            quarters=4,
            assigned_at=START,
            auto_revoke_at=START + timedelta(seconds=60 + (n * 86400) // count),
        )
        for n in range(count)
    ]
    async with db.transaction() as tx:
        assert await tx.subscriptions.take_quarters(sub["id"], count * 4)
        await tx.assignments.insert_many(items)
        await tx.ledger.append_many(
            [
                LedgerEntry(
                    at=START,
                    kind="assigned",
                    actor="bench",
                    account_id=account_id,
                    subscription_id=sub["id"],
                    system_id=system["id"],
                    assignment_id=item.id,
                    quarters=4,
                )
                for item in items
            ]
        )
        await tx.jobs.schedule_many(
            [("auto_revoke", item.id, item.auto_revoke_at) for item in items if item.auto_revoke_at]
        )
    loaded = time.perf_counter() - began
    assert await db.read.jobs.count() >= count
    began = time.perf_counter()
    await cloud_api(cloud).move_clock(advance_seconds=2 * 86400)
    elapsed = time.perf_counter() - began
    left = await db.read.jobs.count()
    available = (await admin.subscription(account_id, sub["id"]))["credits_available"]
    violations = await db.read.ledger.invariant_violations()
    report(
        "pending items, one advance",
        items=count,
        load_s=f"{loaded:.1f}",
        run_s=f"{elapsed:.1f}",
        per_second=int(count / elapsed),
        jobs_left=left,
        credits_back=available,
        invariant="ok" if not violations else "BROKEN",
    )
    await cloud.close()
    return elapsed


async def bench_api(folder: Path, requests: int) -> None:
    """Latency of assign + revoke through the HTTP API (a disconnected system), then a concurrent burst."""
    clock = VirtualClock(start=START)
    cloud = await cloud_client(folder, clock)
    admin, account_id = await new_admin(cloud)
    sub = await admin.create_subscription(account_id, requests * 2)
    system = await admin.link_system(account_id, sign_registration(Ed25519PrivateKey.generate(), "OB Van 3"))
    latencies = []
    for _ in range(requests):
        began = time.perf_counter()
        item = await admin.assign(account_id, system["id"], sub["id"], 0.25)
        await admin.revoke(account_id, system["id"], item["id"])
        latencies.append((time.perf_counter() - began) * 1000)
    latencies.sort()
    began = time.perf_counter()
    await asyncio.gather(*(admin.assign(account_id, system["id"], sub["id"], 0.25) for _ in range(requests)))
    burst = time.perf_counter() - began
    report(
        "assign+revoke round trip",
        n=requests,
        p50_ms=f"{statistics.median(latencies):.2f}",
        p95_ms=f"{latencies[int(len(latencies) * 0.95)]:.2f}",
        concurrent_assigns_per_s=int(requests / burst),
    )
    await cloud.close()


def bench_tokens(count: int) -> dict[str, float]:
    """Signing and verifying credits snapshots of 20, 1,000 and 10,000 entries (HOME verifies every copy it
    gets): the token code is PyJWT behind the project's strict checks."""
    cloud, home = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    system_id = system_id_for(home.public_key())
    trusted = {key_id(cloud.public_key()): cloud.public_key()}
    figures: dict[str, float] = {}
    for size in (20, 1000, 10_000):
        entries = tuple(
            SnapshotEntry(f"asg_{n}", 4, START, START + timedelta(days=30), None, "sub_1", "SO-1", "annual", "active")
            for n in range(size)
        )
        snapshot = Snapshot(system_id, 1, START, START + timedelta(days=30), new_jti(), "acc", entries)
        rounds = max(3, count * 20 // size)
        began = time.perf_counter()
        tokens = [sign_snapshot(snapshot, cloud) for _ in range(rounds)]
        signed = (time.perf_counter() - began) / rounds * 1000
        began = time.perf_counter()
        for token in tokens:
            verify_snapshot(token, trusted, system_id, START)
        verified = (time.perf_counter() - began) / rounds * 1000
        figures[f"snapshot_{size}_sign_ms"] = round(signed, 3)
        figures[f"snapshot_{size}_verify_ms"] = round(verified, 3)
        report(
            f"snapshot sign / verify ({size:,} entries)",
            sign_ms=round(signed, 3),
            verify_ms=round(verified, 3),
            bytes=len(tokens[0]),
        )
    return figures


async def main() -> None:
    parser = argparse.ArgumentParser(prog="scripts/bench")
    parser.add_argument(
        "--quick", action="store_true", help="small sizes, for a smoke run (the figures are not the targets')"
    )
    parser.add_argument("--json", action="store_true", help="end with one JSON object holding every figure of this run")
    parser.add_argument("--links", type=int, help="live links on one cloud process (default 10,000; --quick 300)")
    parser.add_argument(
        "--due-items", type=int, help="scheduled items due in one advance (default 100,000; --quick 2,000)"
    )
    parser.add_argument(
        "--only",
        help="comma-separated parts: primitives,visible,sustained,file,month,due,world,pair,journal,links,tokens,api,"
        "postgres",
    )
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    quick = args.quick
    parts = set(args.only.split(",")) if args.only else set(PARTS)
    figures: dict[str, Any] = {"machine": machine(), "quick": quick}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        if "primitives" in parts:
            figures |= await measure_primitives(folder / "primitives", quick)
            report("primitives", **{key: value for key, value in figures.items() if key.endswith(("_us", "_ms"))})
        if "tokens" in parts:
            figures |= bench_tokens(200 if quick else 2000)
        if "api" in parts:
            await bench_api(folder / "api", 50 if quick else 300)
        if "visible" in parts:
            samples = 40 if quick else 300
            small = await assign_visible(folder / "visible10", 10, samples)
            large = await assign_visible(folder / "visible1000", 1000, samples // 3)
            figures |= {
                "assign_visible_p50_ms": summary(small)["p50"],
                "assign_visible_p99_ms": summary(small)["p99"],
                "assign_visible_p50_ms_at_1000": summary(large)["p50"],
                "assign_cost_ratio_1000_vs_10": round(summary(large)["p50"] / summary(small)["p50"], 2),
            }
            report("assign -> visible on HOME", samples=samples, at_10=summary(small), at_1000=summary(large))
        if "sustained" in parts:
            sustained = await sustained_assigns(folder / "sustained", 20 if quick else 100, 3 if quick else 10)
            figures |= sustained | {
                "assigns_share_of_bare": round(sustained["assigns_per_s"] / sustained["raw_http_req_per_s"], 3)
            }
            report("sustained assigns vs bare handler", **sustained)
        if "file" in parts:
            file_ms = await file_round_trip(folder / "file", 1000, 5 if quick else 9)
            figures["file_1000_roundtrip_ms"] = round(statistics.median(file_ms), 1)
            report("credits file, 1,000 entries", download_upload_applied_ms=[round(value, 1) for value in file_ms])
        if "month" in parts:
            figures["month_100_items_s"] = round(await bench_virtual_month(folder / "month", 10 if quick else 100), 3)
        if "due" in parts:
            due = args.due_items or (2_000 if quick else 100_000)
            figures["due_items"] = due
            figures["due_items_100k_s" if due == 100_000 else f"due_items_{due}_s"] = round(
                await bench_scheduled_items(folder / "jobs", due), 2
            )
        if "pair" in parts:
            starts = await pair_start(folder / "pair", 3)
            figures["pair_processes_ready_ms"] = round(statistics.median(starts), 1)
            report("python -m cloud + python -m home ready", ms=[round(value) for value in starts])
        if "world" in parts:
            world = await asyncio.to_thread(bench_world_start, 4 if quick else 10)
            figures |= world
            report("world to first credits (median)", **world)
        if "postgres" in parts:
            postgres = await bench_postgres(folder / "postgres", quick)
            figures |= postgres
            report("postgresql beside sqlite", **postgres)
        if "journal" in parts:
            figures |= await journal_pruning(folder / "journal", 10_000 if quick else DEFAULT_KEEP)
            report("event journal at its bound", **{key: value for key, value in figures.items() if "journal" in key})
        if "links" in parts:
            links = await live_links(folder / "links", args.links or (300 if quick else 10_000))
            figures |= links
            report("live links on one cloud process", **links)
    if "primitive_bound_ms" in figures and "assign_visible_p50_ms" in figures:
        bound = figures["primitive_bound_ms"]
        figures["assign_visible_p50_x_bound"] = round(figures["assign_visible_p50_ms"] / bound, 1)
        figures["assign_visible_p99_x_bound"] = round(figures["assign_visible_p99_ms"] / bound, 1)
    verdicts = judge(figures, quick)
    if verdicts:
        sys.stdout.write(
            "\ntargets (keys as in docs/performance.md and --json)"
            + (": a quick run, smaller sizes than the targets'\n" if quick else "\n")
        )
        sys.stdout.write("".join(f"  {verdict.line()}\n" for verdict in verdicts))
        figures["targets"] = {verdict.key: verdict.json() for verdict in verdicts}
    if args.json:
        sys.stdout.write(json.dumps(figures) + "\n")


PARTS = (
    "primitives",
    "tokens",
    "api",
    "visible",
    "sustained",
    "file",
    "month",
    "due",
    "world",
    "pair",
    "postgres",
    "journal",
    "links",
)


if __name__ == "__main__":
    asyncio.run(main())
