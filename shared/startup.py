"""What a service claims before it creates anything: its port, then its data folder, each for itself alone.

A refusal is one line on stderr and exit status 2 (``refuse``), never a traceback. The folder is held with an
OS file lock (``flock`` on ``DATA/process.lock``), so the kernel lets go of it when the holder exits, however it
exits: a SIGKILLed service never blocks its own restart."""

import errno
import fcntl
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

LOCK_NAME = "process.lock"
EXIT_REFUSED = 2


class StartRefused(Exception):
    """The service cannot start as asked; the message is the one line the person reads."""


@dataclass(frozen=True)
class FolderHold:
    """An open, locked ``process.lock``: held until the process ends (or ``release``)."""

    folder: Path
    fd: int

    def release(self) -> None:
        os.close(self.fd)


def bind_port(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """A socket bound to ``host:port`` (not yet listening), or ``StartRefused`` naming the port. ``reuse_port``:
    shared with the other processes that bind it so (``flex-cloud --workers``: the kernel spreads connections)."""
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise StartRefused(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock = socket.socket(family, kind, proto)
    try:
        # As asyncio would: a port whose last connections are in TIME_WAIT is free; one with a listener is not.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise StartRefused(f"port {port} on {host} is in use by another program") from None
        raise StartRefused(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


def hold_folder(folder: Path) -> FolderHold:
    """Create ``folder`` if missing and lock it for this process, or ``StartRefused`` naming the holder's pid.
    A refused start changes nothing in a folder that exists (the lock file is there already)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StartRefused(f"cannot use the data folder {folder}: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
        os.close(fd)
        who = f"process {holder}" if holder.isdigit() else "another process"
        raise StartRefused(f"the data folder {folder} is in use by {who}; stop it first") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return FolderHold(folder, fd)


def refuse(program: str, problem: StartRefused) -> NoReturn:
    sys.stderr.write(f"{program}: {problem}\n")
    sys.stderr.flush()
    sys.exit(EXIT_REFUSED)
