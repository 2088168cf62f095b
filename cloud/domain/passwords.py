"""Password hashing with scrypt (a standard memory-hard KDF) and bearer-token digests."""

import base64
import hashlib
import hmac
import secrets

_N, _R, _P = 2**14, 8, 1
# Only for users the emulator API creates when the cloud runs with --cheap-passwords (test worlds):
# about a thousand times cheaper to hash and to check (0.05 ms here), and far too weak for a password anyone
# cares about. A test world makes an admin per account and signs in often: at 2**8 each cost 0.5 ms.
CHEAP_N = 2**4


def hash_password(password: str, *, cheap: bool = False) -> str:
    """A salted scrypt hash; the cost is stored with it, so ``verify_password`` handles either cost."""
    n = CHEAP_N if cheap else _N
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=_R, p=_P, dklen=32)
    return f"scrypt${n}${_R}${_P}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """Sessions are stored by digest, so a copy of the database holds no usable token."""
    return hashlib.sha256(token.encode()).hexdigest()
