"""Serving an app from the command line: any port (0 picks a free one), and a ready file once it listens."""

import asyncio
import json
import os
import signal
import socket
from collections.abc import Callable
from pathlib import Path

import structlog
from aiohttp import web

log = structlog.get_logger()

LISTEN_BACKLOG = 4096


def write_ready_file(path: Path, url: str) -> None:
    """``{"url", "pid"}``, written whole (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    scratch.write_text(json.dumps({"url": url, "pid": os.getpid()}))
    os.replace(scratch, path)


async def serve(
    app: web.Application,
    host: str,
    port: int,
    ready_file: Path | None,
    shutdown_timeout: float = 5.0,
    on_listening: Callable[[str], None] | None = None,
    sock: socket.socket | None = None,
) -> None:
    """Run ``app`` until SIGINT or SIGTERM; log one ``listening`` event (and write ``ready_file``) once it accepts.
    ``on_listening`` is told the URL it listens at (with ``--port 0`` known only now); ``sock``: a socket already
    bound to ``host:port`` (``startup.bind_port``) to listen on."""
    runner = web.AppRunner(app, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    try:
        # Room for many HOMEs reconnecting at once (a fleet, or every link after a cloud restart).
        site = (
            web.TCPSite(runner, host, port, backlog=LISTEN_BACKLOG)
            if sock is None
            else web.SockSite(runner, sock, backlog=LISTEN_BACKLOG)
        )
        await site.start()
        bound = runner.addresses[0]
        url = f"http://{host if ':' not in host else f'[{host}]'}:{bound[1]}"
        # Before the ready file: whoever reads it may send SIGTERM at once, and it must stop us cleanly.
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        if on_listening is not None:
            on_listening(url)
        if ready_file is not None:
            write_ready_file(ready_file, url)
        log.info("listening", url=url, pid=os.getpid())
        await stop.wait()
    finally:
        await runner.cleanup()
        if ready_file is not None:
            await asyncio.to_thread(ready_file.unlink, missing_ok=True)


def run(
    app: web.Application,
    host: str,
    port: int,
    ready_file: Path | None,
    shutdown_timeout: float = 5.0,
    on_listening: Callable[[str], None] | None = None,
    sock: socket.socket | None = None,
) -> None:
    asyncio.run(serve(app, host, port, ready_file, shutdown_timeout, on_listening, sock))
