"""A signed token as the inspector shows it: its JOSE header and claims, and whether its signature verifies.

The signature is checked here, on the server, with the key that should have made it: the cloud's
signing key for credits snapshots and files, the system's own key (the one it was linked with) for
HOME's receipts and revoke keys. Only the signature: whether HOME should have accepted the file
(audience, expiry, seq) is HOME's decision, which the timeline shows as HOME's own event.
"""

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from flex_emulator.shared.errors import TokenError
from flex_emulator.shared.jws import decode, unverified_claims, unverified_header
from flex_emulator.shared.tokens import RECEIPT_TYPE

CLOUD_SIGNS = "the cloud's key"
HOME_SIGNS = "HOME's key"


def signed_by(header: dict[str, Any]) -> str:
    """Whose key must have signed a token of this header's type."""
    return HOME_SIGNS if header.get("typ") == RECEIPT_TYPE else CLOUD_SIGNS


def describe_token(
    token: str, cloud_keys: dict[str, Ed25519PublicKey], home_key: Ed25519PublicKey | None
) -> dict[str, Any]:
    """``{compact, header, claims, signature: {verified, key, note}}``; a token that cannot be read says so."""
    view: dict[str, Any] = {"compact": token}
    try:
        header = unverified_header(token)
    except ValueError:
        return view | {"signature": {"verified": False, "key": None, "note": "This is not a signed token (JWS)."}}
    view["header"] = header
    try:
        view["claims"] = unverified_claims(token)
    except TokenError:
        return view | {"signature": {"verified": False, "key": None, "note": "Its claims cannot be read."}}
    whose = signed_by(header)
    kid = header.get("kid")
    if whose == HOME_SIGNS:
        key = home_key
        missing = "The cloud does not know this system's key (it is not linked)."
    else:
        key = cloud_keys.get(kid) if isinstance(kid, str) else None
        missing = f"The cloud holds no key {kid!r}: it was not signed by this cloud."
    if key is None:
        return view | {"signature": {"verified": False, "key": whose, "note": missing}}
    try:
        decode(token, key, "token")
    except TokenError as exc:
        return view | {"signature": {"verified": False, "key": whose, "note": exc.message}}
    return view | {"signature": {"verified": True, "key": whose, "note": f"Ed25519 signature verified with {whose}."}}
