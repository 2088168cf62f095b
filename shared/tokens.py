"""The signed artifacts that cross between cloud and HOME, one function each to make and check them.

- credits snapshot (cloud -> HOME): the pushed message online, the downloaded ``.jwt`` file offline;
- receipt (HOME -> cloud): the acknowledgement online, the revoke key offline;
- registration code (HOME -> portal) and link authentication (HOME -> cloud WebSocket).
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shared.keys import b64url, key_id, public_from_raw, raw_public, system_id_for, unb64url
from shared.timefmt import epoch, from_epoch, iso, parse_iso

ALGORITHM = "EdDSA"
SNAPSHOT_TYPE = "flex-credits+jwt"
RECEIPT_TYPE = "flex-receipt+jwt"
REGISTRATION_TYPE = "flex-registration+jwt"
LINK_AUTH_TYPE = "flex-link-auth+jwt"
CLOUD_ISSUER = "flex-emulator-cloud"
LINK_AUDIENCE = "flex-link"
SKEW_TOLERANCE = timedelta(minutes=5)
COPY_VALIDITY = timedelta(days=30)


class TokenError(ValueError):
    """A token was refused; ``code`` is the contract's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class SnapshotEntry:
    assignment_id: str
    credits: int  # quarters
    assigned_at: datetime
    valid_until: datetime
    renewable_until: datetime | None  # None: renews for as long as check-ins continue
    subscription_id: str
    order_id: str
    duration: str
    subscription_state: str


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


@dataclass(frozen=True)
class Registration:
    system_id: str
    public_key: Ed25519PublicKey
    label: str


def _sign(claims: dict[str, Any], key: Ed25519PrivateKey, typ: str, kid: str) -> str:
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"typ": typ, "kid": kid})


def _header(token: object, typ: str, what: str) -> dict[str, Any]:
    if not isinstance(token, str) or not token.strip():
        raise TokenError("malformed", f"The {what} is empty.")
    try:
        header = jwt.get_unverified_header(token.strip())
    except jwt.PyJWTError:
        raise TokenError("malformed", f"This is not a {what}: it is not a signed token.") from None
    if header.get("alg") != ALGORITHM:
        raise TokenError("bad_signature", f"The {what} is not signed with Ed25519 (alg {header.get('alg')!r}).")
    if header.get("typ") != typ:
        raise TokenError("malformed", f"This is not a {what} (type {header.get('typ')!r}).")
    return header


def _decode(token: str, key: Ed25519PublicKey, what: str) -> dict[str, Any]:
    # Time claims are checked against the service's own clock, never the host's.
    options = {"verify_exp": False, "verify_iat": False, "verify_nbf": False, "verify_aud": False}
    try:
        claims = jwt.decode(token.strip(), key, algorithms=[ALGORITHM], options=options)
    except jwt.InvalidSignatureError:
        raise TokenError("bad_signature", f"The {what}'s signature does not verify: it was forged or edited.") from None
    except jwt.PyJWTError:
        raise TokenError("malformed", f"The {what} could not be read.") from None
    return claims


def _unverified(token: str) -> dict[str, Any]:
    try:
        return jwt.decode(token.strip(), options={"verify_signature": False})
    except jwt.PyJWTError:
        raise TokenError("malformed", "The token could not be read.") from None


# --- credits snapshot -------------------------------------------------------------------


def sign_snapshot(snapshot: Snapshot, key: Ed25519PrivateKey) -> str:
    claims = {
        "iss": CLOUD_ISSUER,
        "sub": snapshot.system_id,
        "aud": snapshot.system_id,
        "iat": epoch(snapshot.issued_at),
        "exp": epoch(snapshot.expires_at),
        "jti": snapshot.jti,
        "seq": snapshot.seq,
        "account": snapshot.account_id,
        "assignments": [
            {
                "id": entry.assignment_id,
                "credits": entry.credits / 4,
                "quarters": entry.credits,
                "assigned_at": iso(entry.assigned_at),
                "valid_until": iso(entry.valid_until),
                "renewable_until": iso(entry.renewable_until),
                "subscription": {
                    "id": entry.subscription_id,
                    "order_id": entry.order_id,
                    "duration": entry.duration,
                    "state": entry.subscription_state,
                },
            }
            for entry in snapshot.entries
        ],
    }
    return _sign(claims, key, SNAPSHOT_TYPE, key_id(key.public_key()))


def new_jti() -> str:
    return uuid.uuid4().hex


def verify_snapshot(
    token: object, trusted: dict[str, Ed25519PublicKey], system_id: str, now: datetime
) -> Snapshot:
    """Check a credits snapshot exactly as HOME must, whichever way it arrived."""
    header = _header(token, SNAPSHOT_TYPE, "credits file")
    assert isinstance(token, str)
    key = trusted.get(str(header.get("kid")))
    if key is None:
        raise TokenError("bad_signature", "The credits file is signed by a key this HOME does not trust.")
    claims = _decode(token, key, "credits file")
    try:
        snapshot = _snapshot_from_claims(claims)
    except (KeyError, TypeError, ValueError):
        raise TokenError("malformed", "The credits file is signed but its contents are not valid.") from None
    if claims.get("iss") != CLOUD_ISSUER:
        raise TokenError("bad_signature", "The credits file was not issued by the licensing cloud.")
    if snapshot.system_id != system_id:
        raise TokenError("wrong_system", f"This credits file is for system {snapshot.system_id}, not this one ({system_id}).")
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
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise ValueError("seq")
    entries = []
    for item in claims["assignments"]:
        quarters = item["quarters"]
        if not isinstance(quarters, int) or isinstance(quarters, bool) or quarters <= 0:
            raise ValueError("quarters")
        renewable = item.get("renewable_until")
        subscription = item["subscription"]
        entries.append(
            SnapshotEntry(
                assignment_id=str(item["id"]),
                credits=quarters,
                assigned_at=parse_iso(item["assigned_at"]),
                valid_until=parse_iso(item["valid_until"]),
                renewable_until=parse_iso(renewable) if renewable else None,
                subscription_id=str(subscription["id"]),
                order_id=str(subscription["order_id"]),
                duration=str(subscription["duration"]),
                subscription_state=str(subscription["state"]),
            )
        )
    for field in ("iat", "exp"):
        if not isinstance(claims[field], int):
            raise ValueError(field)
    return Snapshot(
        system_id=str(claims["aud"]),
        seq=seq,
        issued_at=from_epoch(claims["iat"]),
        expires_at=from_epoch(claims["exp"]),
        jti=str(claims["jti"]),
        account_id=str(claims.get("account", "")),
        entries=tuple(entries),
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
    }
    return _sign(claims, key, RECEIPT_TYPE, receipt.system_id)


def verify_receipt(token: object, system_id: str, key: Ed25519PublicKey) -> Receipt:
    """Check a receipt from HOME, whether it came over the link or was pasted as a revoke key."""
    _header(token, RECEIPT_TYPE, "revoke key")
    assert isinstance(token, str)
    issuer = _unverified(token).get("iss")
    if issuer != system_id:
        raise TokenError("wrong_system", f"This revoke key comes from another HOME system ({issuer}), not {system_id}.")
    claims = _decode(token, key, "revoke key")
    try:
        held = claims["held"]
        if not isinstance(held, list) or not all(isinstance(item, str) for item in held):
            raise ValueError("held")
        seq = claims["seq"]
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0 or not isinstance(claims["iat"], int):
            raise ValueError("seq")
        return Receipt(system_id, seq, tuple(held), from_epoch(claims["iat"]), str(claims["jti"]))
    except (KeyError, TypeError, ValueError):
        raise TokenError("malformed", "The revoke key is signed but its contents are not valid.") from None


# --- registration code and link authentication ------------------------------------------------


def sign_registration(key: Ed25519PrivateKey, label: str) -> str:
    public = key.public_key()
    claims = {"sid": system_id_for(public), "pub": b64url(raw_public(public)), "label": label}
    return _sign(claims, key, REGISTRATION_TYPE, system_id_for(public))


def verify_registration(code: object) -> Registration:
    _header(code, REGISTRATION_TYPE, "registration code")
    assert isinstance(code, str)
    claims = _unverified(code)
    try:
        public = public_from_raw(unb64url(str(claims["pub"])))
    except (KeyError, ValueError):
        raise TokenError("malformed", "The registration code does not hold a public key.") from None
    claims = _decode(code, public, "registration code")
    if claims.get("sid") != system_id_for(public):
        raise TokenError("bad_signature", "The registration code's system id does not match its key.")
    label = claims.get("label")
    return Registration(str(claims["sid"]), public, label if isinstance(label, str) else "")


def sign_link_auth(key: Ed25519PrivateKey, system_id: str, nonce: str, now: datetime) -> str:
    claims = {"iss": system_id, "aud": LINK_AUDIENCE, "nonce": nonce, "iat": epoch(now)}
    return _sign(claims, key, LINK_AUTH_TYPE, system_id)


def verify_link_auth(token: object, key: Ed25519PublicKey, system_id: str, nonce: str) -> None:
    _header(token, LINK_AUTH_TYPE, "link authentication")
    assert isinstance(token, str)
    claims = _decode(token, key, "link authentication")
    if claims.get("iss") != system_id or claims.get("aud") != LINK_AUDIENCE or claims.get("nonce") != nonce:
        raise TokenError("bad_signature", "The link authentication does not answer this challenge.")


def unverified_issuer(token: object) -> str | None:
    """Who claims to have signed a token, before anything is trusted (to pick the key)."""
    if not isinstance(token, str):
        return None
    try:
        issuer = _unverified(token).get("iss")
    except TokenError:
        return None
    return issuer if isinstance(issuer, str) else None


# --- perpetual license (.lic) ------------------------------------------------------------------

LICENSE_TYPE = "flex-license+jwt"


@dataclass(frozen=True)
class PerpetualLicense:
    system_id: str
    license_type: str
    count: int
    issued_at: datetime
    jti: str


def sign_perpetual(license: PerpetualLicense, key: Ed25519PrivateKey) -> str:
    claims = {
        "iss": CLOUD_ISSUER,
        "aud": license.system_id,
        "license_type": license.license_type,
        "count": license.count,
        "iat": epoch(license.issued_at),
        "jti": license.jti,
    }
    return _sign(claims, key, LICENSE_TYPE, key_id(key.public_key()))


def token_type(token: object) -> str | None:
    """The ``typ`` a token claims, to tell a credits file from a perpetual license."""
    if not isinstance(token, str):
        return None
    try:
        typ = jwt.get_unverified_header(token.strip()).get("typ")
    except jwt.PyJWTError:
        return None
    return typ if isinstance(typ, str) else None


def verify_perpetual(token: object, trusted: dict[str, Ed25519PublicKey], system_id: str) -> PerpetualLicense:
    header = _header(token, LICENSE_TYPE, "license file")
    assert isinstance(token, str)
    key = trusted.get(str(header.get("kid")))
    if key is None:
        raise TokenError("bad_signature", "The license file is signed by a key this HOME does not trust.")
    claims = _decode(token, key, "license file")
    try:
        count = claims["count"]
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ValueError("count")
        license = PerpetualLicense(
            str(claims["aud"]), str(claims["license_type"]), count, from_epoch(claims["iat"]), str(claims["jti"])
        )
    except (KeyError, TypeError, ValueError):
        raise TokenError("malformed", "The license file is signed but its contents are not valid.") from None
    if license.system_id != system_id:
        raise TokenError("wrong_system", f"This license file is for system {license.system_id}, not this one ({system_id}).")
    return license
