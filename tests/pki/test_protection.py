"""CA keys sealed at rest: local KEK and KMS envelope (against moto's fake KMS)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from moto import mock_aws

from pki.errors import KeyProtectionError
from pki.keys import KeyKind, generate_private_key
from pki.protection import (
    KmsEnvelopeEncryptor,
    LocalKeyEncryptor,
    generate_kek,
    open_private_key,
    seal_private_key,
)


def private_numbers_equal(a: Any, b: Any) -> bool:
    return bool(a.private_numbers() == b.private_numbers())


@pytest.mark.parametrize("kind", list(KeyKind))
def test_a_sealed_key_opens_to_the_same_key(kind: KeyKind) -> None:
    key = generate_private_key(kind)
    encryptor = LocalKeyEncryptor(generate_kek())
    assert private_numbers_equal(open_private_key(seal_private_key(key, encryptor), encryptor), key)


def test_a_sealed_key_does_not_contain_the_plain_key() -> None:
    key = generate_private_key()
    blob = seal_private_key(key, LocalKeyEncryptor(generate_kek()))
    pkcs8 = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert pkcs8[-32:] not in blob
    assert blob.startswith(b"CLK\x01")


def test_sealing_twice_gives_different_blobs() -> None:
    key, encryptor = generate_private_key(), LocalKeyEncryptor(generate_kek())
    assert seal_private_key(key, encryptor) != seal_private_key(key, encryptor)


def test_a_wrong_kek_does_not_open_a_sealed_key() -> None:
    blob = seal_private_key(generate_private_key(), LocalKeyEncryptor(generate_kek()))
    with pytest.raises(
        KeyProtectionError, match="^sealed key does not open: tampered or wrong key$"
    ):
        open_private_key(blob, LocalKeyEncryptor(generate_kek()))


@pytest.mark.parametrize("position", [4, 10, 20, -1])
def test_a_tampered_blob_does_not_open(position: int) -> None:
    encryptor = LocalKeyEncryptor(generate_kek())
    blob = bytearray(seal_private_key(generate_private_key(), encryptor))
    blob[position] ^= 0x80
    with pytest.raises(KeyProtectionError, match="^sealed key does not open"):
        open_private_key(bytes(blob), encryptor)


@pytest.mark.parametrize("blob", [b"", b"CLK", b"CLK\x01", b"CLK\x01" + b"\x00" * 12])
def test_a_truncated_blob_does_not_open(blob: bytes) -> None:
    with pytest.raises(KeyProtectionError):
        open_private_key(blob, LocalKeyEncryptor(generate_kek()))


def test_a_blob_of_another_format_is_named_as_such() -> None:
    with pytest.raises(KeyProtectionError, match="^not a sealed key of format 1$"):
        LocalKeyEncryptor(generate_kek()).unwrap(b"CLK\x02rest")


@pytest.mark.parametrize("size", [0, 16, 31, 33])
def test_a_kek_must_be_32_bytes(size: int) -> None:
    with pytest.raises(KeyProtectionError, match=f"^KEK must be 32 bytes, got {size}$"):
        LocalKeyEncryptor(b"k" * size)


def test_the_kek_does_not_show_in_repr() -> None:
    kek = generate_kek()
    assert kek.hex() not in repr(LocalKeyEncryptor(kek))
    assert repr(LocalKeyEncryptor(kek)) == "LocalKeyEncryptor(kek=<hidden>)"


def test_a_payload_that_is_not_pkcs8_is_refused() -> None:
    encryptor = LocalKeyEncryptor(generate_kek())
    with pytest.raises(KeyProtectionError, match="^sealed payload is not a PKCS#8 private key$"):
        open_private_key(encryptor.wrap(b"not a key"), encryptor)


def test_a_sealed_key_of_another_type_is_refused() -> None:
    encryptor = LocalKeyEncryptor(generate_kek())
    other = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(KeyProtectionError, match="^sealed key of unsupported type"):
        open_private_key(encryptor.wrap(other), encryptor)


@pytest.fixture
def kms(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield boto3.client("kms", region_name="us-east-1")


def test_a_key_sealed_under_kms_opens_again(kms: Any) -> None:
    key_id = kms.create_key(Description="CA keys")["KeyMetadata"]["KeyId"]
    encryptor = KmsEnvelopeEncryptor(kms, key_id)
    key = generate_private_key(KeyKind.RSA_2048)
    blob = seal_private_key(key, encryptor)
    assert blob.startswith(b"CLK\x02")
    assert private_numbers_equal(open_private_key(blob, encryptor), key)


def test_a_kms_blob_with_a_tampered_payload_does_not_open(kms: Any) -> None:
    encryptor = KmsEnvelopeEncryptor(kms, kms.create_key()["KeyMetadata"]["KeyId"])
    blob = bytearray(seal_private_key(generate_private_key(), encryptor))
    blob[-5] ^= 0x01
    with pytest.raises(KeyProtectionError, match="^sealed key does not open"):
        open_private_key(bytes(blob), encryptor)


def test_a_kms_blob_with_a_tampered_data_key_does_not_open(kms: Any) -> None:
    encryptor = KmsEnvelopeEncryptor(kms, kms.create_key()["KeyMetadata"]["KeyId"])
    blob = bytearray(seal_private_key(generate_private_key(), encryptor))
    blob[12] ^= 0x01
    with pytest.raises(KeyProtectionError, match="^KMS Decrypt failed: "):
        open_private_key(bytes(blob), encryptor)


def test_a_kms_blob_does_not_open_under_another_kms_key(kms: Any) -> None:
    first = KmsEnvelopeEncryptor(kms, kms.create_key()["KeyMetadata"]["KeyId"])
    second = KmsEnvelopeEncryptor(kms, kms.create_key()["KeyMetadata"]["KeyId"])
    with pytest.raises(KeyProtectionError, match="^KMS Decrypt failed: "):
        open_private_key(seal_private_key(generate_private_key(), first), second)


def test_sealing_under_a_missing_kms_key_fails_cleanly(kms: Any) -> None:
    encryptor = KmsEnvelopeEncryptor(kms, "alias/does-not-exist")
    with pytest.raises(KeyProtectionError, match="^KMS GenerateDataKey failed: "):
        seal_private_key(generate_private_key(), encryptor)


@pytest.mark.parametrize("blob", [b"CLK\x02", b"CLK\x02\x00\x00", b"CLK\x02\x00\x40abc"])
def test_a_truncated_kms_blob_does_not_reach_kms(blob: bytes) -> None:
    encryptor = KmsEnvelopeEncryptor(kms_client=None, key_id="unused")  # type: ignore[arg-type]
    with pytest.raises(KeyProtectionError, match="^sealed key is truncated$"):
        encryptor.unwrap(blob)
