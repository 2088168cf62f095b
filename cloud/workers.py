"""``flex-cloud --workers N``: N cloud processes on one port (SO_REUSEPORT), one cloud on one PostgreSQL database.

A convenience for one machine: this process binds the port (so ``--port 0`` resolves to one port for all),
starts N workers as ``flex-cloud ... --reuse-port --data DIR/worker-K``, writes the ready file once every
worker listens, passes SIGINT/SIGTERM on, and stops when they have. Each worker is an ordinary cloud process;
on several machines, run them there and put a load balancer in front (docs/deploy.md)."""

import json
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

import structlog

from flex_emulator.shared.serve import write_ready_file

log = structlog.get_logger()

READY_TIMEOUT_SECONDS = 60.0


def reserve_port(host: str, port: int) -> socket.socket:
    """A socket bound (not listening) with SO_REUSEPORT: it holds the port, and reveals which one 0 picked."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def worker_argv(argv: list[str], port: int, data: Path, ready: Path) -> list[str]:
    """The worker's command line: this one's options, with its own port, data folder and ready file."""
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in ("--workers", "--port", "--data", "--ready-file"):
            skip = True
            continue
        if arg.split("=", 1)[0] in ("--workers", "--port", "--data", "--ready-file"):
            continue
        kept.append(arg)
    return [*kept, "--port", str(port), "--data", str(data), "--ready-file", str(ready), "--reuse-port"]


def run_workers(count: int, argv: list[str], host: str, port: int, data_dir: Path, ready_file: Path | None) -> int:
    holder = reserve_port(host, port)
    port = holder.getsockname()[1]
    data_dir.mkdir(parents=True, exist_ok=True)
    workers: list[subprocess.Popen[bytes]] = []
    readies = [data_dir / f"worker-{number}" / "ready.json" for number in range(1, count + 1)]
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for ready in readies:
        ready.unlink(missing_ok=True)
        command = [sys.executable, "-m", "flex_emulator.cloud", *worker_argv(argv, port, ready.parent, ready)]
        workers.append(subprocess.Popen(command))
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while not all(ready.exists() for ready in readies):
        if stopping or any(worker.poll() is not None for worker in workers) or time.monotonic() > deadline:
            stop(signal.SIGTERM, None)
            break
        time.sleep(0.05)
    else:
        holder.close()
        shutil.copyfile(readies[0].parent / "jwks.json", data_dir / "jwks.json")  # for --cloud-key, as one process
        url = json.loads(readies[0].read_text())["url"]
        if ready_file is not None:
            write_ready_file(ready_file, url)
        log.info("workers_listening", url=url, workers=count, pids=[worker.pid for worker in workers])
    codes = [worker.wait() for worker in workers]
    if ready_file is not None:
        ready_file.unlink(missing_ok=True)
    stopped_cleanly = all(code in (0, -signal.SIGTERM, -signal.SIGINT) for code in codes)
    return 0 if stopping and stopped_cleanly else 1
