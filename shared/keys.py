"""Ed25519 keys: creation, storage, JWK form, key ids and system ids derived from them."""

import base64
import hashlib
import json
import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The key kept at ``path``, made (readable by the owner only) on first use."""
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} does not hold an Ed25519 key")
        return key
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    _write_private(path, pem)
    return key


def private_pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def key_from_pem(pem: str) -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM text; ValueError for anything else."""
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("not an Ed25519 private key")
    return key


def write_private_key(path: Path, key: Ed25519PrivateKey) -> None:
    _write_private(path, private_pem(key).encode())


def load_or_create_secret(path: Path) -> bytes:
    """A random 32-byte secret kept at ``path`` (owner-only), so page tokens outlive a restart."""
    if path.exists():
        secret = path.read_bytes()
        if len(secret) != 32:
            raise ValueError(f"{path} does not hold a 32-byte secret")
        return secret
    secret = secrets.token_bytes(32)
    _write_private(path, secret)
    return secret


def write_public(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` (readable by all) atomically, and only when it does not hold exactly that
    already."""
    if path.exists() and path.read_text() == text:
        return
    _write_atomically(path, text.encode(), 0o644, durable=False)


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` readable by the owner only, atomically, waiting for the disk."""
    _write_atomically(path, data, 0o600, durable=True)


def _write_atomically(path: Path, data: bytes, mode: int, *, durable: bool) -> None:
    """A scratch file renamed over ``path``: a reader, or a crash, sees the old file or the new one, never part of
    one (``durable``: the data reaches the disk before the rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        if durable:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(scratch, path)


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_from_raw(data: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(data)


def key_id(key: Ed25519PublicKey) -> str:
    """RFC 7638 thumbprint of the key's JWK, shortened."""
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": b64url(raw_public(key))}, separators=(",", ":"))
    return b64url(hashlib.sha256(canonical.encode()).digest())[:16]


def system_id_for(key: Ed25519PublicKey) -> str:
    """A HOME system's id: a short, case-free digest of its public key."""
    digest = base64.b32encode(hashlib.sha256(raw_public(key)).digest()).decode().lower()
    return f"home-{digest[:16]}"


def public_jwk(key: Ed25519PublicKey) -> dict[str, str]:
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64url(raw_public(key)),
        "kid": key_id(key),
        "alg": "EdDSA",
        "use": "sig",
    }


def jwks(keys: list[Ed25519PublicKey]) -> dict[str, Any]:
    return {"keys": [public_jwk(key) for key in keys]}


def keys_from_jwks(document: object) -> dict[str, Ed25519PublicKey]:
    """The Ed25519 keys of a JWK Set, by kid; anything else in it is ignored."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWK Set")
    found: dict[str, Ed25519PublicKey] = {}
    for entry in document["keys"]:
        if not isinstance(entry, dict) or entry.get("kty") != "OKP" or entry.get("crv") != "Ed25519":
            continue
        key = public_from_raw(unb64url(str(entry["x"])))
        found[str(entry.get("kid") or key_id(key))] = key
    if not found:
        raise ValueError("the JWK Set holds no Ed25519 key")
    return found
