"""The machine's own costs, measured in the same run as everything else: what one online assignment
cannot go below (sign, verify, one SQLite WAL commit, one WebSocket round trip, one HTTP round trip)
and what a bare aiohttp handler serves to the bench's client."""

import asyncio
import json
import sqlite3
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

CONCURRENCY = 32


def per_call_us(work: Callable[[], object], count: int, rounds: int = 5) -> float:
    """Median over ``rounds`` of the mean time of one call, in microseconds."""
    means = []
    for _ in range(rounds):
        began = time.perf_counter()
        for _ in range(count):
            work()
        means.append((time.perf_counter() - began) / count * 1e6)
    return statistics.median(means)


async def per_call_us_async(work: Callable[[], Awaitable[object]], count: int, rounds: int = 5) -> float:
    means = []
    for _ in range(rounds):
        began = time.perf_counter()
        for _ in range(count):
            await work()
        means.append((time.perf_counter() - began) / count * 1e6)
    return statistics.median(means)


def sqlite_commit_us(folder: Path, count: int) -> float:
    """One small write transaction in WAL mode with synchronous=NORMAL, as both services open SQLite."""
    folder.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(folder / "commit.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)")

    def commit() -> None:
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t (v) VALUES ('x')")
        db.execute("COMMIT")

    try:
        return per_call_us(commit, count)
    finally:
        db.close()


async def echo_app() -> web.Application:
    async def echo_ws(request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        async for message in socket:
            await socket.send_str(message.data)
        return socket

    async def bare(request: web.Request) -> web.Response:
        body = await request.read()
        return web.json_response({"ok": True, "size": len(body)})

    app = web.Application()
    app.router.add_get("/ws", echo_ws)
    app.router.add_get("/bare", bare)
    app.router.add_post("/bare", bare)
    return app


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


async def network_us(count: int) -> tuple[float, float]:
    """One WebSocket message there and back, and one HTTP request and answer, over loopback."""
    runner, url = await serve(await echo_app())
    try:
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(f"{url}/ws") as socket:

                async def ws_round() -> None:
                    await socket.send_str('{"id": 1, "type": "ping"}')
                    await socket.receive()

                ws_us = await per_call_us_async(ws_round, count)

            async def http_round() -> None:
                async with session.get(f"{url}/bare") as answer:
                    await answer.read()

            http_us = await per_call_us_async(http_round, count)
    finally:
        await runner.cleanup()
    return ws_us, http_us


def primitives(folder: Path, quick: bool) -> dict[str, float]:
    key = Ed25519PrivateKey.generate()
    public = key.public_key()
    message = b"x" * 200
    signature = key.sign(message)
    count = 300 if quick else 2000
    sign_us = per_call_us(lambda: key.sign(message), count)
    verify_us = per_call_us(lambda: public.verify(signature, message), count)
    commit_us = sqlite_commit_us(folder, count)
    return {"sign_us": sign_us, "verify_us": verify_us, "commit_us": commit_us}


async def measure_primitives(folder: Path, quick: bool) -> dict[str, Any]:
    numbers = primitives(folder, quick)
    numbers["ws_us"], numbers["http_us"] = await network_us(200 if quick else 1000)
    bound_ms = sum(numbers.values()) / 1000
    return {
        "ed25519_sign_us": round(numbers["sign_us"], 1),
        "ed25519_verify_us": round(numbers["verify_us"], 1),
        "sqlite_wal_commit_us": round(numbers["commit_us"], 1),
        "ws_round_trip_us": round(numbers["ws_us"], 1),
        "http_round_trip_us": round(numbers["http_us"], 1),
        "primitive_bound_ms": round(bound_ms, 3),
    }


async def request_rate(
    make_request: Callable[[int], tuple[str, Any]],
    seconds: float,
    headers: dict[str, str] | None = None,
    expect: int = 200,
) -> tuple[float, int]:
    """Requests per second that ``CONCURRENCY`` workers of one client get, each posting ``make_request(n)``
    (a URL and a JSON body) as soon as it has its previous answer."""
    done = failed = 0
    deadline = time.perf_counter() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as session:

        async def worker(number: int) -> None:
            nonlocal done, failed
            sent = number
            while time.perf_counter() < deadline:
                url, body = make_request(sent)
                async with session.post(url, json=body, headers=headers) as answer:
                    await answer.read()
                    if answer.status == expect:
                        done += 1
                    else:
                        failed += 1
                sent += CONCURRENCY

        began = time.perf_counter()
        await asyncio.gather(*(worker(number) for number in range(CONCURRENCY)))
        elapsed = time.perf_counter() - began
    return done / elapsed, failed


async def serve_bare(ready_file: Path) -> None:
    """The bare handler in its own process (as the cloud runs in its own), until killed."""
    _, url = await serve(await echo_app())
    await asyncio.to_thread(ready_file.write_text, json.dumps({"url": url}))
    await asyncio.Event().wait()


if __name__ == "__main__":  # scripts/bench_primitives.py --port 0 --ready-file FILE (the port is always free)
    asyncio.run(serve_bare(Path(sys.argv[sys.argv.index("--ready-file") + 1])))
