"""The cloud's signing key: signs credits snapshots and perpetual licenses, published as a JWK Set."""

import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from flex_emulator.cloud.domain.errors import AssignmentConflict
from flex_emulator.shared.jws import sign
from flex_emulator.shared.keys import (
    jwks,
    key_from_pem,
    key_id,
    load_or_create_key,
    private_pem,
    write_private_key,
    write_public,
)
from flex_emulator.shared.licenses import PerpetualLicense, sign_perpetual
from flex_emulator.shared.snapshot_claims import MAX_SNAPSHOT_BYTES
from flex_emulator.shared.tokens import SNAPSHOT_TYPE, Snapshot, sign_snapshot


class Signer:
    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self.kid = key_id(key.public_key())

    @classmethod
    def load(cls, data_dir: Path) -> "Signer":
        """The key in ``DATA/cloud_key.pem``; its public half is also written to ``DATA/jwks.json``
        so a HOME can be started with ``--cloud-key DATA/jwks.json``."""
        signer = cls(load_or_create_key(data_dir / "cloud_key.pem"))
        signer.publish(data_dir)
        return signer

    @classmethod
    def shared(cls, pem: str, data_dir: Path) -> "Signer":
        """The key the processes of a cloud on PostgreSQL share (kept in its database, not in a data folder);
        its public half is written to ``DATA/jwks.json`` as ``load`` does."""
        signer = cls(key_from_pem(pem))
        signer.publish(data_dir)
        return signer

    def publish(self, data_dir: Path) -> None:
        """Its public half in ``DATA/jwks.json``, replaced whole (a HOME may be reading it: ``--cloud-key``)."""
        write_public(data_dir / "jwks.json", json.dumps(self.jwks(), indent=2))

    def use(self, key: Ed25519PrivateKey) -> None:
        """Sign with ``key`` from now on."""
        self._key = key
        self.kid = key_id(key.public_key())

    def replace(self, key: Ed25519PrivateKey, data_dir: Path, *, keep_file: bool = True) -> None:
        """Sign with ``key`` from now on and keep it in ``data_dir`` (a restored emulator state; on PostgreSQL
        the database keeps it instead: ``keep_file`` False)."""
        if keep_file:
            write_private_key(data_dir / "cloud_key.pem", key)
        self.use(key)
        self.publish(data_dir)

    def private_pem(self) -> str:
        return private_pem(self._key)

    def jwks(self) -> dict[str, Any]:
        return jwks([self._key.public_key()])

    def public_keys(self) -> dict[str, Ed25519PublicKey]:
        """The keys a token of this cloud verifies with, by ``kid``."""
        return {self.kid: self._key.public_key()}

    def snapshot(self, snapshot: Snapshot) -> str:
        token = sign_snapshot(snapshot, self._key, self.kid)
        if len(token) > MAX_SNAPSHOT_BYTES:
            # Only unusually wide values get here (the entry count is checked on assign): refuse the change
            # rather than issue what the link would not carry.
            raise AssignmentConflict(
                f"The credits file for this system would be {len(token):,} bytes, more than the {MAX_SNAPSHOT_BYTES:,} "
                "a system can receive: revoke some assignments first.",
                code="too_many_assignments",
            )
        return token

    def sign_claims(self, claims: dict[str, Any]) -> str:
        """Sign raw credits-file claims: only for the deliberately bad files of ``file_faults``."""
        return sign(claims, self._key, SNAPSHOT_TYPE, self.kid)

    def perpetual(self, license: PerpetualLicense) -> str:
        return sign_perpetual(license, self._key)
