"""The signing and checking every token here shares: Ed25519 JWS through PyJWT with an explicit ``typ``,
strict checks in front of it, time claims left to the service's own clock, and one error type with the
contract's codes."""

import base64
import json
import re
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from jwt.types import Options

from flex_emulator.shared.errors import TokenError

ALGORITHM = "EdDSA"
ALGORITHMS = [ALGORITHM]  # the allow-list: nothing else is ever verified, `none` least of all
# The service checks time against its own (possibly virtual) clock, never the host's; audience and issuer
# are checked by the caller, which answers each with the contract's own code.
_CLAIMS_LEFT_TO_THE_CALLER: Options = {
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
    "verify_aud": False,
    "verify_iss": False,
}
# Three base64url segments, strictly: no padding, nothing outside the alphabet (base64 decoders skip such
# characters, which would let one token be written several ways). A regular expression runs in C, so a
# 700 kB credits file of 10,000 assignments is checked in microseconds.
_COMPACT_JWS = re.compile(
    r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"
)  # an empty signature (alg none) is refused by the alg check


def sign(claims: dict[str, Any], key: Ed25519PrivateKey, typ: str, kid: str) -> str:
    """A standard compact JWS (any JOSE library verifies it with the published JWK Set; a test checks with
    joserfc). ``key`` is a loaded key object, so PyJWT parses nothing per call."""
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid, "typ": typ})


def _compact(token: str) -> str:
    text = token.strip()
    if not _COMPACT_JWS.fullmatch(text) or any(len(part) % 4 == 1 for part in text.split(".")):
        raise ValueError("not a compact JWS")
    return text


def unverified_header(token: str) -> dict[str, Any]:
    """The header alone, read without checking the signature (ValueError if it is not a JWS header). Only
    the first segment is decoded: PyJWT's own reader checks every character of all three segments in Python,
    which for a 700 kB credits file costs 25 ms, and ``decode`` runs it once anyway."""
    segment = _compact(token).split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, RecursionError):
        raise ValueError("not a JWS header") from None
    if not isinstance(header, dict):
        raise ValueError("not a JWS header")
    return header


def read_header(token: object, typ: str, what: str) -> dict[str, Any]:
    """The strict checks in front of any verification: a compact JWS, alg EdDSA, and the expected ``typ``."""
    if not isinstance(token, str) or not token.strip():
        raise TokenError("malformed", f"The {what} is empty.")
    try:
        header = unverified_header(token)
    except ValueError:
        raise TokenError("malformed", f"This is not a {what}: it is not a signed token.") from None
    if header.get("alg") not in ALGORITHMS:
        raise TokenError("bad_signature", f"The {what} is not signed with Ed25519 (alg {header.get('alg')!r}).")
    if header.get("typ") != typ:
        raise TokenError("malformed", f"This is not a {what} (type {header.get('typ')!r}).")
    return header


def decode(token: str, key: Ed25519PublicKey, what: str) -> dict[str, Any]:
    """The claims of a token whose EdDSA signature verifies with ``key``. Time claims are left to the
    caller, which checks them against the service's own clock, never the host's."""
    try:
        text = _compact(token)
    except ValueError:
        raise TokenError("malformed", f"The {what} could not be read.") from None
    try:
        claims: dict[str, Any] = jwt.decode(text, key, algorithms=ALGORITHMS, options=_CLAIMS_LEFT_TO_THE_CALLER)
    except jwt.InvalidAlgorithmError:
        raise TokenError("bad_signature", f"The {what} is not signed with Ed25519.") from None
    except jwt.InvalidSignatureError:
        raise TokenError("bad_signature", f"The {what}'s signature does not verify: it was forged or edited.") from None
    except (jwt.PyJWTError, RecursionError):
        raise TokenError("malformed", f"The {what} could not be read.") from None
    return claims


def unverified_claims(token: str) -> dict[str, Any]:
    """The claims, read without checking the signature (the emulator's faults and a registration's key)."""
    try:
        claims: dict[str, Any] = jwt.decode(_compact(token), options={"verify_signature": False})
    except (ValueError, jwt.PyJWTError, RecursionError):
        raise TokenError("malformed", "The token could not be read.") from None
    return claims
