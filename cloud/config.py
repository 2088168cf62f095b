"""The cloud's configuration, built once (from the command line or by a test) and passed to create_app."""

from dataclasses import dataclass
from pathlib import Path

from flex_emulator.shared.journal import DEFAULT_KEEP
from flex_emulator.shared.snapshot_claims import MAX_RECEIPT_BYTES


@dataclass(frozen=True)
class Config:
    data_dir: Path
    database: str | None = None  # postgresql://... ; None: cloud.sqlite3 in data_dir
    host: str = "127.0.0.1"
    port: int = 8700
    demo: bool = False
    emulator_api: bool = False
    virtual_clock: bool = False
    clock_file: Path | None = None
    ack_wait_seconds: float = 5.0
    resend_seconds: float = 2.0  # a pushed snapshot whose receipt is this overdue is pushed again (doubling)
    max_body_bytes: int = max(
        256 * 1024, MAX_RECEIPT_BYTES + 16 * 1024
    )  # a revoke key from the fullest HOME, in a form
    ready_file: Path | None = None
    journal_keep: int = DEFAULT_KEEP  # newest events the journal keeps (0: all)
    durable: bool = True  # False (a test world's throw-away data): SQLite never waits for the disk
    cheap_passwords: bool = False  # users made by POST /_emulator/... get a cheap scrypt cost (test worlds only)
    inspector_hosts: tuple[str, ...] = ()  # hosts besides loopback where the inspector may read HOME journals
