"""Perpetual licenses: a ``.lic`` file the cloud signs for one system, which HOME verifies and keeps."""

from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from flex_emulator.shared.errors import TokenError
from flex_emulator.shared.jws import decode, read_header, sign, unverified_header
from flex_emulator.shared.keys import key_id
from flex_emulator.shared.timefmt import claim_time, epoch
from flex_emulator.shared.tokens import CLOUD_ISSUER

LICENSE_TYPE = "flex-license+jwt"
# Licenses of one file, at most: the cloud issues up to 10,000; far more could not be summed and stored safely.
MAX_LICENSE_COUNT = 1_000_000


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
    return sign(claims, key, LICENSE_TYPE, key_id(key.public_key()))


def token_type(token: object) -> str | None:
    """The ``typ`` a token claims, to tell a credits file from a perpetual license."""
    if not isinstance(token, str):
        return None
    try:
        typ = unverified_header(token).get("typ")
    except ValueError:
        return None
    return typ if isinstance(typ, str) else None


def verify_perpetual(token: object, trusted: dict[str, Ed25519PublicKey], system_id: str) -> PerpetualLicense:
    header = read_header(token, LICENSE_TYPE, "license file")
    assert isinstance(token, str)
    key = trusted.get(str(header.get("kid")))
    if key is None:
        raise TokenError("bad_signature", "The license file is signed by a key this HOME does not trust.")
    claims = decode(token, key, "license file")
    try:
        count = claims["count"]
        if type(count) is not int or not 1 <= count <= MAX_LICENSE_COUNT:
            raise ValueError("count")
        license = PerpetualLicense(
            str(claims["aud"]), str(claims["license_type"]), count, claim_time(claims["iat"]), str(claims["jti"])
        )
    except (KeyError, TypeError, ValueError):
        raise TokenError("malformed", "The license file is signed but its contents are not valid.") from None
    if license.system_id != system_id:
        raise TokenError(
            "wrong_system", f"This license file is for system {license.system_id}, not this one ({system_id})."
        )
    return license
