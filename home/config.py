"""HOME's settings, built once (from the command line or by a test) and passed to create_app."""

from dataclasses import dataclass
from pathlib import Path

from flex_emulator.shared.journal import DEFAULT_KEEP
from flex_emulator.shared.snapshot_claims import MAX_SNAPSHOT_BYTES

DEFAULT_LABEL = "HOME"


@dataclass(frozen=True, kw_only=True)
class Config:
    data_dir: Path
    cloud_url: str = "http://127.0.0.1:8700"
    host: str = "127.0.0.1"
    port: int = 8801
    label: str | None = None  # None: keep the stored label (DEFAULT_LABEL on first start)
    offline: bool = False
    emulator_api: bool = False
    virtual_clock: bool = False
    cloud_key_file: Path | None = None
    clock_file: Path | None = None
    max_upload_bytes: int = max(1_048_576, MAX_SNAPSHOT_BYTES)  # a credits file of the most assignments a system holds
    reconnect_min_seconds: float = 0.5
    reconnect_max_seconds: float = 10.0
    heartbeat_seconds: float = 10.0
    handshake_timeout_seconds: float = 10.0
    time_mark_seconds: float = 60.0  # how often an idle HOME writes down the time it has seen
    journal_keep: int = DEFAULT_KEEP  # newest events the journal keeps (0: all)
    durable: bool = True  # False (a test world's throw-away data): SQLite never waits for the disk
    log_level: str = "info"
    ready_file: Path | None = None

    @property
    def key_path(self) -> Path:
        return self.data_dir / "home_key.pem"

    @property
    def database_path(self) -> Path:
        return self.data_dir / "home.sqlite3"
