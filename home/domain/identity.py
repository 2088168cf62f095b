"""Who this HOME is: its Ed25519 key (made on first start, then kept), system id and registration code."""

from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from flex_emulator.shared.keys import load_or_create_key, system_id_for
from flex_emulator.shared.tokens import sign_registration


@dataclass(frozen=True)
class Identity:
    key: Ed25519PrivateKey
    system_id: str

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.key.public_key()

    def registration_code(self, label: str) -> str:
        """What an admin pastes into the portal's Add system dialog."""
        return sign_registration(self.key, label)


def load_identity(key_path: Path) -> Identity:
    key = load_or_create_key(key_path)
    return Identity(key=key, system_id=system_id_for(key.public_key()))
