"""Deliberately bad credits files (``POST .../credits-file?fault=KIND``, only with --emulator-api).

Each is the system's current copy broken in one way, made without touching the database: no
Downloaded tick, no ``seq`` spent, no ledger row; only the journal notes that one was served.
"""

import json
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from flex_emulator.cloud.domain.models import System
from flex_emulator.cloud.domain.ownership import owned_by
from flex_emulator.cloud.domain.signer import Signer
from flex_emulator.cloud.store import Database
from flex_emulator.shared.errors import BadRequest, Conflict
from flex_emulator.shared.journal import token_fields
from flex_emulator.shared.jws import sign, unverified_claims
from flex_emulator.shared.keys import b64url, key_id, system_id_for
from flex_emulator.shared.snapshot_claims import encode_entries
from flex_emulator.shared.timefmt import epoch
from flex_emulator.shared.tokens import CLOUD_ISSUER, COPY_VALIDITY, SNAPSHOT_TYPE, new_jti

# The fault, and the code HOME must refuse the file with.
FILE_FAULTS = {
    "expired": "expired",
    "future": "clock_skew",
    "stale": "stale",
    "tampered": "bad_signature",
    "wrong_system": "wrong_system",
    "alg_none": "bad_signature",
    "untrusted_key": "bad_signature",
    "truncated": "malformed",
}


def base_claims(system: System, latest_token: str | None, now: datetime) -> dict[str, Any]:
    """The latest copy's claims (or an empty set), as a fresh next copy would carry them."""
    claims = unverified_claims(latest_token) if latest_token else encode_entries(())
    return claims | {
        "iss": CLOUD_ISSUER,
        "sub": system.id,
        "aud": system.id,
        "account": system.account_id,
        "iat": epoch(now),
        "exp": epoch(now + COPY_VALIDITY),
        "jti": new_jti(),
        "seq": system.seq + 1,
    }


def segment(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def break_file(kind: str, claims: dict[str, Any], signer: Signer, now: datetime) -> str:
    """``claims`` signed as a credits file, then broken as ``kind`` says."""
    if kind == "expired":
        return signer.sign_claims(
            claims | {"iat": epoch(now - COPY_VALIDITY - timedelta(days=1)), "exp": epoch(now - timedelta(days=1))}
        )
    if kind == "future":
        # HOME keeps (or is given again) a file from its future and applies it once its clock has caught up, so
        # it must not hold a seq the cloud issues later: it is the latest file issued, from the future.
        issued = now + timedelta(days=1)
        return signer.sign_claims(
            claims | {"seq": claims["seq"] - 1, "iat": epoch(issued), "exp": epoch(issued + COPY_VALIDITY)}
        )
    if kind == "stale":
        return signer.sign_claims(claims | {"seq": claims["seq"] - 2})
    if kind == "wrong_system":
        other = system_id_for(Ed25519PrivateKey.generate().public_key())
        return signer.sign_claims(claims | {"aud": other, "sub": other})
    if kind == "untrusted_key":
        stranger = Ed25519PrivateKey.generate()
        return sign(claims, stranger, SNAPSHOT_TYPE, key_id(stranger.public_key()))
    header, _, signature = signer.sign_claims(claims).split(".")
    if kind == "tampered":
        # What a person editing the file would do: more credits on every entry, or a later seq if there are none.
        edited = [[row[0], row[1] * 10, *row[2:]] for row in claims["asg"]]
        return ".".join(
            [header, segment(claims | ({"asg": edited} if edited else {"seq": claims["seq"] + 100})), signature]
        )
    if kind == "alg_none":
        return ".".join([segment({"alg": "none", "typ": SNAPSHOT_TYPE, "kid": signer.kid}), segment(claims), ""])
    payload = segment(claims)
    return f"{header}.{payload[: len(payload) // 2]}"  # truncated: cut inside its contents


async def faulty_credits_file(
    db: Database, signer: Signer, now: datetime, account_id: str, system_id: str, kind: str
) -> tuple[System, int, str]:
    """The file, its seq and its system; refused for an unknown fault or a stale file that cannot exist yet."""
    if kind not in FILE_FAULTS:
        raise BadRequest(f"'fault' must be one of: {', '.join(FILE_FAULTS)}.", code="unknown_fault")
    system = owned_by(account_id, await db.read.systems.get(system_id), "system", system_id)
    if kind == "stale" and system.seq < 2:
        raise Conflict(
            "A stale file is one older than the latest this system was issued, and it has had fewer than two: "
            "download (or assign online) once more first.",
            code="no_older_file",
        )
    if kind == "future" and system.seq < 1:
        raise Conflict(
            "A future file is the latest file this system was issued, dated a day ahead, and it has had none yet: "
            "download (or assign online) once first.",
            code="no_file_yet",
        )
    latest = await db.read.snapshots.latest(system_id)
    claims = base_claims(system, latest.token if latest else None, now)
    token = break_file(kind, claims, signer, now)
    seq = int(claims["seq"]) - (1 if kind == "future" else 0)
    served: dict[str, Any] = {"fault": kind, "expected_code": FILE_FAULTS[kind], "seq": seq} | token_fields(token)
    db.journal.note("file_fault_served", system_id, **served)
    return system, seq, token
