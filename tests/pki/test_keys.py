"""Key generation and the names refusals give to keys."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa, x25519

from pki.keys import KeyKind, describe_public_key, generate_private_key, signature_hash


@pytest.mark.parametrize(
    ("kind", "description"),
    [
        (KeyKind.EC_P256, "EC P-256"),
        (KeyKind.EC_P384, "EC P-384"),
        (KeyKind.RSA_2048, "RSA 2048 bits"),
        (KeyKind.RSA_3072, "RSA 3072 bits"),
    ],
)
def test_each_key_kind_generates_the_key_it_names(kind: KeyKind, description: str) -> None:
    assert describe_public_key(generate_private_key(kind).public_key()) == description


def test_the_default_key_is_ec_p256() -> None:
    key = generate_private_key()
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert key.curve.name == "secp256r1"


def test_rsa_keys_use_the_usual_public_exponent() -> None:
    key = generate_private_key(KeyKind.RSA_2048)
    assert isinstance(key, rsa.RSAPrivateKey)
    assert key.public_key().public_numbers().e == 65537


def test_keys_refusals_may_meet_are_named_too() -> None:
    assert describe_public_key(ed25519.Ed25519PrivateKey.generate().public_key()) == "Ed25519"
    assert describe_public_key(ed448.Ed448PrivateKey.generate().public_key()) == "Ed448"
    x25519_key = x25519.X25519PrivateKey.generate().public_key()
    assert describe_public_key(x25519_key) == type(x25519_key).__name__
    assert describe_public_key(ec.generate_private_key(ec.SECP256K1()).public_key()) == (
        "EC secp256k1"
    )


@pytest.mark.parametrize(
    ("curve", "hash_name"),
    [(ec.SECP256R1(), "sha256"), (ec.SECP384R1(), "sha384"), (ec.SECP521R1(), "sha512")],
)
def test_ec_keys_sign_with_a_hash_of_matching_strength(
    curve: ec.EllipticCurve, hash_name: str
) -> None:
    assert signature_hash(ec.generate_private_key(curve)).name == hash_name
