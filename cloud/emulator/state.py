"""The emulator's whole-state actions behind ``/_emulator/``: empty the cloud, save it, restore a saved one."""

from pathlib import Path
from typing import Any

from flex_emulator.cloud.domain.scheduler import VIRTUAL_NOW_META, Scheduler
from flex_emulator.cloud.domain.signer import Signer
from flex_emulator.cloud.link.hub import LinkHub
from flex_emulator.cloud.store import Database
from flex_emulator.cloud.store.state import StateError
from flex_emulator.shared.clock import Clock, VirtualClock
from flex_emulator.shared.errors import BadRequest
from flex_emulator.shared.keys import key_from_pem
from flex_emulator.shared.timefmt import epoch, iso, parse_iso

STATE_FORMAT = "flex-emulator/state"
STATE_VERSION = 1


class EmulatorState:
    def __init__(
        self, db: Database, clock: Clock, signer: Signer, hub: LinkHub, scheduler: Scheduler, data_dir: Path
    ) -> None:
        self.db = db
        self.clock = clock
        self.signer = signer
        self.hub = hub
        self.scheduler = scheduler
        self.data_dir = data_dir

    async def reset(self, now: Any = None) -> None:
        """Empty every table; a virtual clock may be set back to ``now`` (ISO 8601 text)."""
        target = None
        if now is not None:
            try:
                target = parse_iso(str(now))
            except ValueError:
                raise BadRequest(
                    "'now' must be an ISO 8601 time such as 2026-11-28T10:00:00Z.", code="wrong_type"
                ) from None
        async with self.db.transaction() as tx:
            await tx.state.empty_tables()
            if self.db.bus.shared:
                await tx.cluster.clear_link_faults()
            if target is not None:
                await tx.meta.set(VIRTUAL_NOW_META, str(epoch(target)))
        if isinstance(self.clock, VirtualClock) and target is not None:
            self.clock.rewind(target)
        await self._forget_links(None if target is None else epoch(target))

    async def dump(self) -> dict[str, Any]:
        """The whole cloud as one document: every table, the signing key and the time."""
        async with self.db.transaction() as tx:
            return {
                "format": STATE_FORMAT,
                "version": STATE_VERSION,
                "service": "cloud",
                "schema_version": await tx.state.schema_version(),
                "now": iso(self.clock.now()),
                "keys": {"cloud_key": self.signer.private_pem()},
                "tables": await tx.state.dump_tables(),
            }

    async def restore(self, document: dict[str, Any]) -> None:
        """Replace everything with a saved document; a virtual clock goes back to when it was saved."""
        tables = check_document(document, await self.db.read.state.schema_version())
        try:
            key = key_from_pem(document["keys"]["cloud_key"])
        except ValueError:
            raise BadRequest(
                "'keys.cloud_key' is not an Ed25519 private key in PEM form.", code="invalid_state"
            ) from None
        try:
            saved_now = parse_iso(str(document.get("now")))
        except ValueError:
            raise BadRequest(
                "'now' must be the ISO 8601 time the document was saved at.", code="invalid_state"
            ) from None
        try:
            async with self.db.transaction() as tx:
                await tx.state.load_tables(tables)
                if self.db.bus.shared:  # the processes of a cloud on PostgreSQL keep the key in the database
                    await tx.cluster.clear_link_faults()
                    await tx.cluster.replace_secret("cloud_key", document["keys"]["cloud_key"])
                if isinstance(self.clock, VirtualClock):
                    await tx.meta.set(VIRTUAL_NOW_META, str(epoch(saved_now)))
        except StateError as exc:
            raise BadRequest(f"The state document does not fit: {exc}", code="invalid_state") from None
        self.signer.replace(key, self.data_dir, keep_file=not self.db.bus.shared)
        if isinstance(self.clock, VirtualClock):
            self.clock.rewind(saved_now)
        await self.db.bus.publish({"kind": "keys"})
        await self._forget_links(epoch(saved_now) if isinstance(self.clock, VirtualClock) else None)

    async def _forget_links(self, rewound_to: int | None) -> None:
        """Close every HOME link and forget what was pushed on them: the systems they belonged to are gone. The
        other processes of the cloud do the same (and set their clocks back with this one's)."""
        await self.db.bus.publish({"kind": "reset", "now": rewound_to, "rewind": rewound_to is not None})
        await self.hub.close_all()
        self.hub.forget()
        self.scheduler.wake()


def check_document(document: dict[str, Any], schema_version: int) -> dict[str, Any]:
    """The parts of a state document that must be right before anything is replaced."""
    if (
        document.get("format") != STATE_FORMAT
        or document.get("version") != STATE_VERSION
        or document.get("service") != "cloud"
    ):
        raise BadRequest(
            f"This is not a cloud state document ({STATE_FORMAT} version {STATE_VERSION}).", code="invalid_state"
        )
    if document.get("schema_version") != schema_version:
        raise BadRequest(
            f"The document was saved by database schema {document.get('schema_version')}; "
            f"this cloud runs {schema_version}.",
            code="invalid_state",
        )
    tables, keys = document.get("tables"), document.get("keys")
    if not isinstance(tables, dict) or not isinstance(keys, dict) or not isinstance(keys.get("cloud_key"), str):
        raise BadRequest("A state document needs 'tables' and 'keys': {cloud_key}.", code="invalid_state")
    return tables
