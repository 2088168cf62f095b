"""The signed artifacts that cross between cloud and HOME, one function each to make and check them.

- credits snapshot (cloud -> HOME): the pushed message online, the downloaded ``.jwt`` file offline;
- receipt (HOME -> cloud): the acknowledgement online, the revoke key offline;
- registration code (HOME -> portal) and link authentication (HOME -> cloud WebSocket).
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from flex_emulator.shared.errors import TokenError
from flex_emulator.shared.jws import decode, read_header, sign, unverified_claims
from flex_emulator.shared.keys import b64url, key_id, public_from_raw, raw_public, system_id_for, unb64url
from flex_emulator.shared.snapshot_claims import ClaimsError, SnapshotEntry, decode_entries, encode_entries
from flex_emulator.shared.timefmt import claim_time, epoch, iso

SNAPSHOT_TYPE = "flex-credits+jwt"
RECEIPT_TYPE = "flex-receipt+jwt"
REGISTRATION_TYPE = "flex-registration+jwt"
LINK_AUTH_TYPE = "flex-link-auth+jwt"
CLOUD_ISSUER = "flex-emulator-cloud"
LINK_AUDIENCE = "flex-link"
SKEW_TOLERANCE = timedelta(minutes=5)
COPY_VALIDITY = timedelta(days=30)
# A seq travels as a JSON number and is stored as a SQLite INTEGER: beyond this neither keeps it exact, so a
# token claiming more is refused as malformed, and a link's auth message too.
MAX_SEQ = 2**53 - 1


@dataclass(frozen=True)
class Snapshot:
    system_id: str
    seq: int
    issued_at: datetime
    expires_at: datetime
    jti: str
    account_id: str
    entries: tuple[SnapshotEntry, ...]


@dataclass(frozen=True)
class Receipt:
    system_id: str
    seq: int
    held: tuple[str, ...]
    issued_at: datetime
    jti: str
    # Credits (quarters) HOME's running resources used when it signed (claim ``use``); None from a HOME
    # older than the claim.
    in_use: int | None = None


@dataclass(frozen=True)
class Registration:
    system_id: str
    public_key: Ed25519PublicKey
    label: str


# --- credits snapshot -------------------------------------------------------------------


def sign_snapshot(snapshot: Snapshot, key: Ed25519PrivateKey, kid: str | None = None) -> str:
    """``kid`` is the key's id when the caller has it already (working it out costs a hash per token)."""
    claims = {
        "iss": CLOUD_ISSUER,
        "sub": snapshot.system_id,
        "aud": snapshot.system_id,
        "iat": epoch(snapshot.issued_at),
        "exp": epoch(snapshot.expires_at),
        "jti": snapshot.jti,
        "seq": snapshot.seq,
        "account": snapshot.account_id,
    } | encode_entries(snapshot.entries)
    return sign(claims, key, SNAPSHOT_TYPE, kid or key_id(key.public_key()))


def new_jti() -> str:
    return uuid.uuid4().hex


def verify_snapshot(token: object, trusted: dict[str, Ed25519PublicKey], system_id: str, now: datetime) -> Snapshot:
    """Check a credits snapshot exactly as HOME must, whichever way it arrived."""
    header = read_header(token, SNAPSHOT_TYPE, "credits file")
    assert isinstance(token, str)
    key = trusted.get(str(header.get("kid")))
    if key is None:
        raise TokenError("bad_signature", "The credits file is signed by a key this HOME does not trust.")
    claims = decode(token, key, "credits file")
    try:
        snapshot = _snapshot_from_claims(claims)
    except (KeyError, TypeError, ValueError, ClaimsError):
        raise TokenError("malformed", "The credits file is signed but its contents are not valid.") from None
    if claims.get("iss") != CLOUD_ISSUER:
        raise TokenError("bad_signature", "The credits file was not issued by the licensing cloud.")
    if snapshot.system_id != system_id:
        raise TokenError(
            "wrong_system", f"This credits file is for system {snapshot.system_id}, not this one ({system_id})."
        )
    if snapshot.expires_at <= now:
        raise TokenError("expired", f"This credits file expired at {iso(snapshot.expires_at)}; download a new one.")
    if snapshot.issued_at > now + SKEW_TOLERANCE:
        raise TokenError(
            "clock_skew",
            f"This credits file was issued at {iso(snapshot.issued_at)}, which is in this HOME's future "
            f"(its clock reads {iso(now)}). Check the HOME server's clock.",
        )
    return snapshot


def _snapshot_from_claims(claims: dict[str, Any]) -> Snapshot:
    seq = claims["seq"]
    if type(seq) is not int or not 1 <= seq <= MAX_SEQ:
        raise ValueError("seq")
    entries = decode_entries(claims)
    return Snapshot(
        system_id=str(claims["aud"]),
        seq=seq,
        issued_at=claim_time(claims["iat"]),
        expires_at=claim_time(claims["exp"]),
        jti=str(claims["jti"]),
        account_id=str(claims.get("account", "")),
        entries=entries,
    )


# --- receipt / revoke key ----------------------------------------------------------------


def sign_receipt(receipt: Receipt, key: Ed25519PrivateKey) -> str:
    claims = {
        "iss": receipt.system_id,
        "sub": receipt.system_id,
        "seq": receipt.seq,
        "held": list(receipt.held),
        "iat": epoch(receipt.issued_at),
        "jti": receipt.jti,
    } | ({} if receipt.in_use is None else {"use": receipt.in_use})
    return sign(claims, key, RECEIPT_TYPE, receipt.system_id)


def verify_receipt(token: object, system_id: str, key: Ed25519PublicKey) -> Receipt:
    """Check a receipt from HOME, whether it came over the link or was pasted as a revoke key."""
    read_header(token, RECEIPT_TYPE, "revoke key")
    assert isinstance(token, str)
    issuer = unverified_claims(token).get("iss")
    if issuer != system_id:
        raise TokenError("wrong_system", f"This revoke key comes from another HOME system ({issuer}), not {system_id}.")
    claims = decode(token, key, "revoke key")
    try:
        held = claims["held"]
        if not isinstance(held, list) or not all(isinstance(item, str) for item in held):
            raise ValueError("held")
        seq = claims["seq"]
        if type(seq) is not int or not 0 <= seq <= MAX_SEQ:
            raise ValueError("seq")
        in_use = claims.get("use")
        if in_use is not None and (type(in_use) is not int or not 0 <= in_use <= MAX_SEQ):
            raise ValueError("use")
        return Receipt(system_id, seq, tuple(held), claim_time(claims["iat"]), str(claims["jti"]), in_use)
    except (KeyError, TypeError, ValueError):
        raise TokenError("malformed", "The revoke key is signed but its contents are not valid.") from None


# --- registration code and link authentication ------------------------------------------------


def sign_registration(key: Ed25519PrivateKey, label: str) -> str:
    public = key.public_key()
    claims = {"sid": system_id_for(public), "pub": b64url(raw_public(public)), "label": label}
    return sign(claims, key, REGISTRATION_TYPE, system_id_for(public))


def verify_registration(code: object) -> Registration:
    read_header(code, REGISTRATION_TYPE, "registration code")
    assert isinstance(code, str)
    claims = unverified_claims(code)
    try:
        public = public_from_raw(unb64url(str(claims["pub"])))
    except (KeyError, ValueError):
        raise TokenError("malformed", "The registration code does not hold a public key.") from None
    claims = decode(code, public, "registration code")
    if claims.get("sid") != system_id_for(public):
        raise TokenError("bad_signature", "The registration code's system id does not match its key.")
    label = claims.get("label")
    return Registration(str(claims["sid"]), public, label if isinstance(label, str) else "")


def sign_link_auth(key: Ed25519PrivateKey, system_id: str, nonce: str, now: datetime) -> str:
    claims = {"iss": system_id, "aud": LINK_AUDIENCE, "nonce": nonce, "iat": epoch(now)}
    return sign(claims, key, LINK_AUTH_TYPE, system_id)


def verify_link_auth(token: object, key: Ed25519PublicKey, system_id: str, nonce: str) -> None:
    read_header(token, LINK_AUTH_TYPE, "link authentication")
    assert isinstance(token, str)
    claims = decode(token, key, "link authentication")
    if claims.get("iss") != system_id or claims.get("aud") != LINK_AUDIENCE or claims.get("nonce") != nonce:
        raise TokenError("bad_signature", "The link authentication does not answer this challenge.")


def unverified_seq(token: object) -> int | None:
    """The ``seq`` a token claims, read without checking anything (to say which file a refusal was about)."""
    if not isinstance(token, str):
        return None
    try:
        seq = unverified_claims(token).get("seq")
    except TokenError:
        return None
    return seq if isinstance(seq, int) and not isinstance(seq, bool) else None


def unverified_issuer(token: object) -> str | None:
    """Who claims to have signed a token, before anything is trusted (to pick the key)."""
    if not isinstance(token, str):
        return None
    try:
        issuer = unverified_claims(token).get("iss")
    except TokenError:
        return None
    return issuer if isinstance(issuer, str) else None
