"""A world's data folders, made in microseconds: once per test session the harness migrates one database of
each service (and makes the cloud's signing key); every new cloud and HOME of a world starts from copies (a
new cloud's key, its JWKS and its pages' secret are links to the template's: the cloud replaces such a file whole
when it changes it, never writes into it, so a link is as good as a copy, and cheaper).

A service started on a folder prepared this way behaves exactly as on an empty one, since it would migrate an
empty database to the same schema; it only skips the work. What a session's worlds share is the cloud's
signing key (each world's HOMEs trust only their own world's cloud, which holds the same key: a file made in
one world would also verify in another). Each HOME gets a key of its own, so its system id is its own.
"""

import atexit
import os
import secrets
import shutil
import tempfile
import threading
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from flex_emulator.service_logs import ServiceLog, logging_to
from flex_emulator.shared.keys import private_pem
from flex_emulator.shared.sqlite import connect, migrate

CLOUD_DATABASE = "cloud.sqlite3"
# Files the cloud replaces whole when it changes them, never writes into: a new cloud's are links to the template's.
CLOUD_SHARED = ("cloud_key.pem", "jwks.json", "page-secret")


class Templates:
    """The session's template folders (made on first use, removed when the process ends)."""

    _instance: "Templates | None" = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        from flex_emulator.cloud.domain.signer import Signer
        from flex_emulator.cloud.store.migrations import MIGRATIONS as CLOUD_MIGRATIONS
        from flex_emulator.home.store.migrations import MIGRATIONS as HOME_MIGRATIONS

        self.root = Path(tempfile.mkdtemp(prefix="flex-emulator-templates-"))
        atexit.register(shutil.rmtree, self.root, True)
        self.cloud = self.root / "cloud"
        self.cloud.mkdir()
        self.home_database = self.root / "home.sqlite3"
        databases = ((self.cloud / "cloud.sqlite3", CLOUD_MIGRATIONS), (self.home_database, HOME_MIGRATIONS))
        log = ServiceLog(self.root / "templates.log")
        with logging_to(log):  # its migration lines are not the test's output
            for path, migrations in databases:
                connection = connect(path)
                migrate(connection, migrations, path)
                connection.close()  # the last connection: SQLite folds the WAL back in: one file is the database
            Signer.load(self.cloud)
        log.close()
        _write_private(self.cloud / "page-secret", secrets.token_bytes(32))

    @classmethod
    def session(cls) -> "Templates":
        """The templates of this process, made on first use."""
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def prepare_cloud(self, folder: Path) -> None:
        """A new cloud's data folder (nothing is done to one that exists: a restart keeps its data)."""
        if folder.exists():
            return
        folder.mkdir(parents=True)
        _copy(self.cloud / CLOUD_DATABASE, folder / CLOUD_DATABASE)
        for name in CLOUD_SHARED:  # a link costs a third of a copy (file creation is what costs, on some disks)
            try:
                os.link(self.cloud / name, folder / name)
            except OSError:  # the folders are on different file systems (or links are not allowed there)
                _copy(self.cloud / name, folder / name)

    def prepare_home(self, folder: Path) -> None:
        """A new HOME's data folder, with a key (so a system id) of its own."""
        if folder.exists():
            return
        folder.mkdir(parents=True)
        shutil.copyfile(self.home_database, folder / "home.sqlite3")
        _write_private(folder / "home_key.pem", private_pem(Ed25519PrivateKey.generate()).encode())
        _write_private(folder / "page-secret", secrets.token_bytes(32))


def _copy(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)
    os.chmod(target, 0o600)


def _write_private(path: Path, data: bytes) -> None:
    """Owner-only, without the services' fsync: a test's folder needs no crash safety before it starts."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
