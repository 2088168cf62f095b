"""The signing and checking every token here shares: Ed25519 JWS with an explicit ``typ``,
time claims checked against the service's own clock, and one error type with the contract's codes."""

from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

ALGORITHM = "EdDSA"


class TokenError(ValueError):
    """A token was refused; ``code`` is the contract's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def sign(claims: dict[str, Any], key: Ed25519PrivateKey, typ: str, kid: str) -> str:
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"typ": typ, "kid": kid})


def read_header(token: object, typ: str, what: str) -> dict[str, Any]:
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


def decode(token: str, key: Ed25519PublicKey, what: str) -> dict[str, Any]:
    # Time claims are checked against the service's own clock, never the host's.
    options = {"verify_exp": False, "verify_iat": False, "verify_nbf": False, "verify_aud": False}
    try:
        claims = jwt.decode(token.strip(), key, algorithms=[ALGORITHM], options=options)
    except jwt.InvalidSignatureError:
        raise TokenError("bad_signature", f"The {what}'s signature does not verify: it was forged or edited.") from None
    except jwt.PyJWTError:
        raise TokenError("malformed", f"The {what} could not be read.") from None
    return claims


def unverified_claims(token: str) -> dict[str, Any]:
    try:
        return jwt.decode(token.strip(), options={"verify_signature": False})
    except jwt.PyJWTError:
        raise TokenError("malformed", "The token could not be read.") from None
