"""One launcher (``scripts/run``) per state folder, and a clear word when one is already running.

The running launcher holds ``DATA/process.lock`` (an OS lock, gone when it exits however it exits) and writes
where it serves to ``DATA/running.json``. A second launcher on that folder, or on ports a launcher of a
sibling folder serves (``var/run`` and ``var/run-virtual``), says what is running there and starts nothing."""

import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path

from flex_emulator.shared.startup import LOCK_NAME, FolderHold, StartRefused, bind_port, hold_folder

RUNNING_FILE = "running.json"


@dataclass(frozen=True)
class Running:
    """A launcher that holds its state folder: its pid, its folder and what it serves (name -> URL)."""

    pid: int | None
    data: Path
    addresses: dict[str, str]

    def describe(self) -> str:
        pid = f"pid {self.pid}" if self.pid else "starting"
        lines = [f"flex-emulator is already running ({pid}, state {self.data}):"]
        lines += [f"  {name:<18} {url}" for name, url in self.addresses.items()]
        stop = f"Ctrl-C in its terminal, or kill -TERM {self.pid}" if self.pid else "Ctrl-C in its terminal"
        lines.append(f"Stop it first ({stop}), or start another with --data and --cloud-port/--home-ports.")
        return "\n".join(lines)


def running_in(folder: Path) -> Running | None:
    """The launcher holding ``folder``, or None when no process holds it (nothing is created or changed)."""
    try:
        fd = os.open(folder / LOCK_NAME, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            pass
        else:
            return None
        try:
            recorded = json.loads((folder / RUNNING_FILE).read_text())
            return Running(int(recorded["pid"]), folder, dict(recorded["addresses"]))
        except (OSError, ValueError, KeyError, TypeError):  # still starting: it has not said where yet
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
            return Running(int(holder) if holder.isdigit() else None, folder, {})
    finally:
        os.close(fd)


def claim(data: Path, host: str, ports: list[int]) -> FolderHold:
    """Hold ``data`` for this launcher after checking that nothing runs there and every port is free;
    otherwise ``StartRefused`` saying what is running (and nothing is created)."""
    running = running_in(data)
    if running is not None:
        raise StartRefused(running.describe())
    for port in ports:
        try:
            bind_port(host, port).close()
        except StartRefused as problem:
            raise StartRefused(
                _port_holder(data, host, port) or f"{problem}; choose others with --cloud-port and --home-ports"
            ) from None
    return hold_folder(data)


def _port_holder(data: Path, host: str, port: int) -> str | None:
    siblings = sorted(data.parent.iterdir()) if data.parent.is_dir() else []
    for folder in siblings:
        running = running_in(folder) if folder.is_dir() else None
        if running is not None and any(url.rstrip("/").endswith(f":{port}") for url in running.addresses.values()):
            return f"port {port} on {host} is in use: {running.describe()}"
    return None


def record(hold: FolderHold, addresses: dict[str, str]) -> None:
    """Say where this launcher serves, for a second one to read (written whole)."""
    scratch = hold.folder / f".{RUNNING_FILE}.tmp"
    scratch.write_text(json.dumps({"pid": os.getpid(), "addresses": addresses}))
    os.replace(scratch, hold.folder / RUNNING_FILE)


def forget(hold: FolderHold) -> None:
    (hold.folder / RUNNING_FILE).unlink(missing_ok=True)
