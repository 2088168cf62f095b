"""The licensing cloud's public keys HOME trusts: from ``--cloud-key FILE``, or pinned on first contact."""

import json
from pathlib import Path

import aiohttp
import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from yarl import URL

from flex_emulator.home.store import Database
from flex_emulator.shared.keys import keys_from_jwks

log = structlog.get_logger()

PINNED_META = "cloud_jwks"
MAX_JWKS_BYTES = 64 * 1024


class TrustError(Exception):
    """The cloud's key set could not be fetched or read."""


def read_key_file(path: Path) -> dict[str, Ed25519PublicKey]:
    try:
        return keys_from_jwks(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError) as exc:
        raise TrustError(f"{path} is not a readable JWK Set with an Ed25519 key: {exc}") from exc


class TrustedKeys:
    def __init__(self, db: Database, key_file: Path | None) -> None:
        self._db = db
        self._key_file = key_file
        self._keys: dict[str, Ed25519PublicKey] = {}
        self.source: str | None = None  # "file", "pinned" or None

    async def load(self) -> None:
        if self._key_file is not None:
            self._keys = read_key_file(self._key_file)
            self.source = "file"
            return
        stored = await self._db.read.meta(PINNED_META)
        if stored is not None:
            self._keys = keys_from_jwks(json.loads(stored))
            self.source = "pinned"

    def keys(self) -> dict[str, Ed25519PublicKey]:
        return dict(self._keys)

    @property
    def needs_pinning(self) -> bool:
        return self.source is None

    async def pin(self, document: object) -> bool:
        """Keep the cloud's key set if nothing is trusted yet; a pinned set is never replaced."""
        keys = keys_from_jwks(document)
        async with self._db.transaction() as tx:
            if await tx.meta(PINNED_META) is not None or self.source is not None:
                return False
            await tx.set_meta(PINNED_META, json.dumps(document, sort_keys=True))
        self._keys = keys
        self.source = "pinned"
        log.info("cloud_keys_pinned", kids=sorted(keys))
        return True

    async def pin_from(self, session: aiohttp.ClientSession, cloud_url: str) -> None:
        """Fetch ``/.well-known/jwks.json`` from the cloud and pin it, if nothing is trusted yet."""
        if not self.needs_pinning:
            return
        url = URL(cloud_url.rstrip("/") + "/.well-known/jwks.json")
        try:
            async with session.get(url, timeout=aiohttp.ClientTimeout(total=10)) as response:
                if response.status != 200:
                    raise TrustError(f"the cloud answered {response.status} for its key set")
                raw = await response.content.read(MAX_JWKS_BYTES + 1)
            if len(raw) > MAX_JWKS_BYTES:
                raise TrustError("the cloud's key set is too large")
            await self.pin(json.loads(raw))
        except (ValueError, KeyError) as exc:
            raise TrustError(f"the cloud's key set could not be read: {exc}") from exc
