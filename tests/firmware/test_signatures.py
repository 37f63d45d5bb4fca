"""Firmware signatures: RSA-PSS and ECDSA over the whole file, checked by openssl too."""

from __future__ import annotations

import base64
import os
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.x509.oid import ExtendedKeyUsageOID

from firmware.signatures import (
    MalformedSignature,
    SignatureAlgorithm,
    SignatureMismatch,
    SignerExpired,
    SignerRevoked,
    UntrustedSigner,
    sign_image,
    verify_image,
)
from pki import KeyKind
from tests.firmware.signing_pki import (
    NOW,
    intermediate_under,
    make_root,
    make_signer,
    openssl,
    public_key_pem,
    root_pem,
    write,
)

IMAGE = os.urandom(300_000)


def chunks(data: bytes = IMAGE, size: int = 65_536) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def test_an_rsa_pss_signature_verifies_here_and_with_openssl(tmp_path: Path) -> None:
    root = make_root()
    signer = make_signer(root, KeyKind.RSA_3072)
    signature = sign_image(chunks(), signer.key)

    verified = verify_image(chunks(), signature, signer.certificate_pem, root_pem(root), now=NOW)

    assert verified.algorithm is SignatureAlgorithm.RSA_PSS_SHA256
    assert verified.signer_serial == signer.certificate.serial_number
    image = write(tmp_path / "fw.bin", IMAGE)
    sig = write(tmp_path / "fw.sig", base64.b64decode(signature))
    key = write(tmp_path / "key.pem", public_key_pem(signer))
    result = openssl(
        "dgst", "-sha256", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32",
        "-verify", str(key), "-signature", str(sig), str(image),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Verified OK" in result.stdout


def test_an_ecdsa_signature_verifies_here_and_with_openssl(tmp_path: Path) -> None:
    root = make_root()
    signer = make_signer(root, KeyKind.EC_P256)
    signature = sign_image(chunks(), signer.key)

    verified = verify_image(
        odd_chunks(), signature, signer.certificate_pem, root_pem(root), now=NOW
    )

    assert verified.algorithm is SignatureAlgorithm.ECDSA_SHA256
    image = write(tmp_path / "fw.bin", IMAGE)
    sig = write(tmp_path / "fw.sig", base64.b64decode(signature))
    key = write(tmp_path / "key.pem", public_key_pem(signer))
    result = openssl("dgst", "-sha256", "-verify", str(key), "-signature", str(sig), str(image))
    assert result.returncode == 0, result.stderr


def odd_chunks() -> list[bytes]:  # noqa: N802 - odd chunk sizes: the split must not matter
    return chunks(size=7_777)


def test_openssl_made_signatures_are_accepted(tmp_path: Path) -> None:
    root = make_root()
    signer = make_signer(root, KeyKind.RSA_3072)
    from cryptography.hazmat.primitives import serialization

    key = write(
        tmp_path / "private.pem",
        signer.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    image = write(tmp_path / "fw.bin", IMAGE)
    out = tmp_path / "fw.sig"
    result = openssl(
        "dgst", "-sha256", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32",
        "-sign", str(key), "-out", str(out), str(image),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    signature = base64.b64encode(out.read_bytes()).decode()

    verify_image(chunks(), signature, signer.certificate_pem, root_pem(root), now=NOW)


def test_the_signing_certificate_chains_to_the_root_for_openssl(tmp_path: Path) -> None:
    root = make_root()
    signer = make_signer(root)
    ca = write(tmp_path / "root.pem", root_pem(root))
    leaf = write(tmp_path / "leaf.pem", signer.certificate_pem)
    result = openssl("verify", "-CAfile", str(ca), "-purpose", "any", str(leaf))
    assert result.returncode == 0, result.stdout + result.stderr


def test_one_changed_byte_is_a_mismatch() -> None:
    root = make_root()
    signer = make_signer(root)
    signature = sign_image(chunks(), signer.key)
    tampered = bytearray(IMAGE)
    tampered[123_456] ^= 1

    with pytest.raises(SignatureMismatch, match="does not match"):
        verify_image(
            chunks(bytes(tampered)), signature, signer.certificate_pem, root_pem(root), now=NOW
        )


def test_a_truncated_image_is_a_mismatch() -> None:
    root = make_root()
    signer = make_signer(root, KeyKind.EC_P256)
    signature = sign_image(chunks(), signer.key)

    with pytest.raises(SignatureMismatch):
        verify_image(chunks(IMAGE[:-1]), signature, signer.certificate_pem, root_pem(root), now=NOW)


def test_a_signer_of_another_root_is_untrusted() -> None:
    signer = make_signer(make_root("Other"))
    signature = sign_image(chunks(), signer.key)

    with pytest.raises(UntrustedSigner, match="not issued directly"):
        verify_image(chunks(), signature, signer.certificate_pem, root_pem(make_root()), now=NOW)


def test_a_signer_under_an_intermediate_is_untrusted_even_with_the_right_root() -> None:
    root = make_root()
    signer = make_signer(intermediate_under(root))
    signature = sign_image(chunks(), signer.key)

    with pytest.raises(UntrustedSigner):
        verify_image(chunks(), signature, signer.certificate_pem, root_pem(root), now=NOW)


def test_a_certificate_without_code_signing_is_untrusted() -> None:
    root = make_root()
    signer = make_signer(root, usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    signature = sign_image(chunks(), signer.key)

    with pytest.raises(UntrustedSigner, match="codeSigning"):
        verify_image(chunks(), signature, signer.certificate_pem, root_pem(root), now=NOW)


def test_the_root_cannot_sign_firmware_itself() -> None:
    root = make_root()
    signature = sign_image(chunks(), root.private_key)

    with pytest.raises(UntrustedSigner):
        verify_image(chunks(), signature, root_pem(root), root_pem(root), now=NOW)


def test_an_expired_or_not_yet_valid_signer_is_refused() -> None:
    root = make_root()
    expired = make_signer(root, not_after=NOW - timedelta(seconds=1))
    future = make_signer(root, not_before=NOW + timedelta(hours=1))
    for signer in (expired, future):
        signature = sign_image(chunks(), signer.key)
        with pytest.raises(SignerExpired, match="valid from"):
            verify_image(chunks(), signature, signer.certificate_pem, root_pem(root), now=NOW)


def test_a_revoked_signer_is_refused() -> None:
    root = make_root()
    signer = make_signer(root)
    signature = sign_image(chunks(), signer.key)
    revoked = {signer.certificate.serial_number}

    with pytest.raises(SignerRevoked, match="revoked"):
        verify_image(
            chunks(), signature, signer.certificate_pem, root_pem(root), now=NOW,
            is_revoked=revoked.__contains__,
        )  # fmt: skip


def test_a_family_that_needs_ecdsa_refuses_an_rsa_signature() -> None:
    root = make_root()
    signer = make_signer(root, KeyKind.RSA_3072)
    signature = sign_image(chunks(), signer.key)

    with pytest.raises(UntrustedSigner, match="ecdsa-sha256"):
        verify_image(
            chunks(), signature, signer.certificate_pem, root_pem(root), now=NOW,
            algorithm=SignatureAlgorithm.ECDSA_SHA256,
        )  # fmt: skip


def test_a_p384_signer_is_not_a_firmware_signer() -> None:
    root = make_root()
    signer = make_signer(root, KeyKind.EC_P384)
    with pytest.raises(UntrustedSigner, match="P-256"):
        sign_image(chunks(), signer.key)


@pytest.mark.parametrize(
    ("signature", "certificate"),
    [
        ("not base64 !!", None),
        ("", None),
        (base64.b64encode(b"x" * 2000).decode(), None),
        ("AAAA", "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n"),
        ("AAAA", "hello"),
    ],
)
def test_malformed_signatures_and_certificates_are_refused(
    signature: str, certificate: str | None
) -> None:
    root = make_root()
    signer = make_signer(root)
    with pytest.raises(MalformedSignature):
        verify_image(
            chunks(), signature, certificate or signer.certificate_pem, root_pem(root), now=NOW
        )


def test_two_certificates_in_place_of_one_are_refused() -> None:
    root = make_root()
    signer = make_signer(root)
    signature = sign_image(chunks(), signer.key)
    with pytest.raises(MalformedSignature, match="exactly one"):
        verify_image(
            chunks(), signature, signer.certificate_pem + root_pem(root), root_pem(root), now=NOW
        )
