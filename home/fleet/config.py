"""The fleet's settings, and the HOME settings each of its nodes gets from them."""

from dataclasses import dataclass, field
from pathlib import Path

from flex_emulator.home.config import Config as HomeConfig
from flex_emulator.shared.journal import DEFAULT_KEEP


@dataclass(frozen=True, kw_only=True)
class FleetConfig:
    data_dir: Path
    count: int
    cloud_url: str = "http://127.0.0.1:8700"
    host: str = "127.0.0.1"
    port: int = 8900  # one HTTP server for the whole fleet; 0 picks a free port
    label_prefix: str = "Fleet"
    offline: bool = False
    virtual_clock: bool = False
    clock_file: Path | None = None
    cloud_key_file: Path | None = None  # None: the cloud's key set is fetched once and kept in DATA/cloud-jwks.json
    connect_concurrency: int = 64  # links in their handshake at once, so a big fleet does not swamp the cloud
    reconnect_min_seconds: float = 0.5
    reconnect_max_seconds: float = 10.0
    # A ping every 30 s, answered within 15: at 10 s, 10,000 links kept a busy cloud from answering in time.
    heartbeat_seconds: float = 30.0
    time_mark_seconds: float = 60.0
    journal_keep: int = DEFAULT_KEEP  # per node
    log_level: str = "warning"
    # Link every node to this account on start (the cloud's API, as an admin): a bearer token, or an
    # email and password to sign in with; the account is the first one the admin belongs to unless named.
    link_token: str | None = field(default=None, repr=False)
    link_email: str | None = None
    link_password: str | None = field(default=None, repr=False)
    link_account: str | None = None

    @property
    def jwks_path(self) -> Path:
        return self.cloud_key_file or self.data_dir / "cloud-jwks.json"

    def node_dir(self, number: int) -> Path:
        return self.data_dir / f"node-{number:05d}"

    def node_label(self, number: int) -> str:
        return f"{self.label_prefix} {number:05d}"

    def node_config(self, number: int, cloud_key_file: Path | None) -> HomeConfig:
        return HomeConfig(
            data_dir=self.node_dir(number),
            cloud_url=self.cloud_url,
            label=self.node_label(number),
            offline=self.offline,
            virtual_clock=self.virtual_clock,
            clock_file=self.clock_file,
            cloud_key_file=cloud_key_file,
            reconnect_min_seconds=self.reconnect_min_seconds,
            reconnect_max_seconds=self.reconnect_max_seconds,
            heartbeat_seconds=self.heartbeat_seconds,
            time_mark_seconds=self.time_mark_seconds,
            journal_keep=self.journal_keep,
            log_level=self.log_level,
        )
