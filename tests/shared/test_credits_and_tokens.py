from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from flex_emulator.shared.errors import TokenError
from flex_emulator.shared.keys import jwks, key_id, keys_from_jwks, system_id_for
from flex_emulator.shared.quarters import CreditAmountError, format_credits, parse_quarters, to_credits
from flex_emulator.shared.tokens import (
    RECEIPT_TYPE,
    Receipt,
    Snapshot,
    new_jti,
    sign_receipt,
    sign_registration,
    sign_snapshot,
    verify_receipt,
    verify_registration,
    verify_snapshot,
)

NOW = datetime(2026, 11, 28, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "quarters"), [(1, 4), (0.25, 1), ("2.75", 11), ("0.5", 2), (100, 400), (1_000_000_000, 4_000_000_000)]
)
def test_credit_amounts_become_whole_quarters(value: object, quarters: int) -> None:
    assert parse_quarters(value) == quarters


@pytest.mark.parametrize(
    "value", [0, -1, 0.1, "1.3", "abc", "", None, True, [], "nan", "inf", 1e400, 1e30, "1_0", 10**10]
)
def test_credit_amounts_that_are_not_positive_quarters_are_refused(value: object) -> None:
    with pytest.raises(CreditAmountError):
        parse_quarters(value)


def test_quarters_show_as_numbers_people_read() -> None:
    assert to_credits(8) == 2 and isinstance(to_credits(8), int)
    assert to_credits(5) == 1.25
    assert format_credits(6) == "1.5"


def test_system_id_and_key_id_are_stable_for_a_key() -> None:
    key = Ed25519PrivateKey.generate().public_key()
    assert system_id_for(key) == system_id_for(key)
    assert system_id_for(key).startswith("home-")
    assert keys_from_jwks(jwks([key])).keys() == {key_id(key)}


def test_snapshot_round_trip_and_refusals() -> None:
    cloud, home = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    system_id = system_id_for(home.public_key())
    trusted = {key_id(cloud.public_key()): cloud.public_key()}
    snap = Snapshot(system_id, 3, NOW, NOW + timedelta(days=30), new_jti(), "acc_x", ())
    token = sign_snapshot(snap, cloud)
    assert verify_snapshot(token, trusted, system_id, NOW) == snap
    with pytest.raises(TokenError) as wrong:
        verify_snapshot(token, trusted, "home-other", NOW)
    assert wrong.value.code == "wrong_system"
    with pytest.raises(TokenError) as expired:
        verify_snapshot(token, trusted, system_id, NOW + timedelta(days=31))
    assert expired.value.code == "expired"
    with pytest.raises(TokenError) as skew:
        verify_snapshot(token, trusted, system_id, NOW - timedelta(hours=1))
    assert skew.value.code == "clock_skew"
    with pytest.raises(TokenError) as untrusted:
        verify_snapshot(token, {}, system_id, NOW)
    assert untrusted.value.code == "bad_signature"


def test_receipt_from_another_home_is_refused_as_wrong_system() -> None:
    home, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    home_id, other_id = system_id_for(home.public_key()), system_id_for(other.public_key())
    token = sign_receipt(Receipt(other_id, 2, (), NOW, new_jti()), other)
    with pytest.raises(TokenError) as refused:
        verify_receipt(token, home_id, home.public_key())
    assert refused.value.code == "wrong_system"
    assert verify_receipt(
        sign_receipt(Receipt(home_id, 2, ("a",), NOW, "j"), home), home_id, home.public_key()
    ).held == ("a",)


def test_a_receipt_carries_what_homes_resources_use_and_one_without_it_stays_valid() -> None:
    home = Ed25519PrivateKey.generate()
    home_id = system_id_for(home.public_key())
    with_usage = sign_receipt(Receipt(home_id, 3, ("a",), NOW, new_jti(), in_use=16), home)
    assert jwt.decode(with_usage, options={"verify_signature": False})["use"] == 16
    assert verify_receipt(with_usage, home_id, home.public_key()).in_use == 16
    older = sign_receipt(Receipt(home_id, 3, ("a",), NOW, new_jti()), home)  # a HOME from before the claim
    assert "use" not in jwt.decode(older, options={"verify_signature": False})
    assert verify_receipt(older, home_id, home.public_key()).in_use is None
    for bad in (-1, 1.5, True, "4", [4]):
        claims = {"iss": home_id, "sub": home_id, "seq": 3, "held": ["a"], "iat": 1, "jti": "j", "use": bad}
        token = jwt.encode(claims, home, algorithm="EdDSA", headers={"typ": RECEIPT_TYPE, "kid": home_id})
        with pytest.raises(TokenError) as refused:
            verify_receipt(token, home_id, home.public_key())
        assert refused.value.code == "malformed", bad


def test_registration_code_names_its_own_key() -> None:
    key = Ed25519PrivateKey.generate()
    code = sign_registration(key, "Studio A")
    registration = verify_registration(code)
    assert registration.system_id == system_id_for(key.public_key())
    assert registration.label == "Studio A"
    header, payload, signature = code.split(".")
    with pytest.raises(TokenError):
        verify_registration(f"{header}.{payload}.{signature[:-4]}AAAA")
