"""CSR loading and checking: every refusal names its reason."""

from __future__ import annotations

import base64

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from hypothesis import given
from hypothesis import strategies as st

from pki.csr import MAX_CSR_CHARACTERS, CheckedCsr, check_csr, load_csr
from pki.errors import CsrRejected
from pki.keys import PrivateKey
from pki.profiles import SERVER, STATION
from tests.pki.builders import OPERATOR, csr_pem, der_to_pem, make_csr


def rejection(pem: str | bytes, **expected: str | None) -> str:
    with pytest.raises(CsrRejected) as caught:
        csr = load_csr(pem)
        check_csr(
            csr,
            profile=STATION,
            expected_common_name=expected.get("cn", "SN-0001"),
            expected_organization=expected.get("o", OPERATOR),
        )
    assert str(caught.value) == caught.value.reason
    return caught.value.reason


def test_a_station_csr_with_an_ec_p256_key_is_accepted(ec_key: PrivateKey) -> None:
    csr = load_csr(csr_pem(make_csr(ec_key)))
    checked = check_csr(
        csr, profile=STATION, expected_common_name="SN-0001", expected_organization=OPERATOR
    )
    assert checked == CheckedCsr(csr, STATION, csr.public_key(), "SN-0001")  # type: ignore[arg-type]


def test_a_station_csr_with_an_rsa_2048_key_is_accepted(rsa_key: PrivateKey) -> None:
    csr = load_csr(csr_pem(make_csr(rsa_key)).encode())
    check_csr(csr, profile=STATION, expected_common_name="SN-0001", expected_organization=OPERATOR)


@pytest.mark.parametrize("curve", [ec.SECP384R1(), ec.SECP521R1()])
def test_csrs_on_the_larger_nist_curves_are_accepted(curve: ec.EllipticCurve) -> None:
    csr = make_csr(ec.generate_private_key(curve), algorithm=hashes.SHA384())
    check_csr(csr, profile=STATION, expected_common_name=None, expected_organization=None)


def test_a_csr_whose_subject_is_not_checked_needs_only_one_cn(ec_key: PrivateKey) -> None:
    csr = make_csr(ec_key, "platform.example", organization=None)
    check_csr(csr, profile=SERVER, expected_common_name=None, expected_organization=None)


def test_an_oversized_csr_is_refused_before_parsing() -> None:
    pem = "A" * (MAX_CSR_CHARACTERS + 500)
    assert rejection(pem) == "too long: 6000 characters, at most 5500"


def test_a_csr_of_exactly_the_limit_is_still_parsed() -> None:
    assert rejection("x" * MAX_CSR_CHARACTERS).startswith("malformed PEM: expected one")


def test_text_without_a_pem_block_is_malformed_pem() -> None:
    assert rejection("hello") == "malformed PEM: expected one CERTIFICATE REQUEST, found 0"


def test_two_pem_blocks_are_malformed_pem(ec_key: PrivateKey) -> None:
    pem = csr_pem(make_csr(ec_key))
    assert rejection(pem + pem) == "malformed PEM: expected one CERTIFICATE REQUEST, found 2"


def test_non_ascii_bytes_are_malformed_pem() -> None:
    assert rejection("é".encode() * 3) == "malformed PEM: not ASCII text"


def test_bad_base64_is_malformed_pem() -> None:
    pem = "-----BEGIN CERTIFICATE REQUEST-----\nab=cd\n-----END CERTIFICATE REQUEST-----\n"
    assert rejection(pem).startswith("malformed PEM: bad base64")


def test_junk_der_inside_good_pem_is_malformed_der() -> None:
    assert rejection(der_to_pem(b"\x30\x03\x02\x01\x01")).startswith("malformed DER: ")


def test_a_certificate_pem_is_not_a_csr(ec_key: PrivateKey) -> None:
    der = make_csr(ec_key).public_bytes(serialization.Encoding.DER)
    assert rejection(der_to_pem(der, "CERTIFICATE")).startswith("malformed PEM: expected one")


def test_the_old_new_certificate_request_label_is_accepted(ec_key: PrivateKey) -> None:
    der = make_csr(ec_key).public_bytes(serialization.Encoding.DER)
    load_csr(der_to_pem(der, "NEW CERTIFICATE REQUEST"))


def test_an_rsa_1024_key_is_too_weak() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    assert rejection(csr_pem(make_csr(key))) == (
        "key too weak: RSA 1024 bits, at least 2048 required"
    )


def test_an_rsa_key_over_8192_bits_is_too_large() -> None:
    # A public key of 8200 bits, in a CSR whose signature is never reached.
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    csr = make_csr(key)
    big = rsa.RSAPublicNumbers(65537, (1 << 8199) | 1).public_key()
    spki_old = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    spki_new = big.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    der = _replace_spki(csr.public_bytes(serialization.Encoding.DER), spki_old, spki_new)
    assert rejection(der_to_pem(der)) == "key too large: RSA 8200 bits, at most 8192"


def test_an_rsa_public_exponent_of_3_is_refused() -> None:
    key = rsa.generate_private_key(public_exponent=3, key_size=2048)
    assert rejection(csr_pem(make_csr(key))) == (
        "RSA public exponent 3 not allowed, 65537 expected"
    )


def test_a_secp256k1_key_is_refused() -> None:
    key = ec.generate_private_key(ec.SECP256K1())
    assert rejection(csr_pem(make_csr(key))) == (
        "curve not allowed: EC secp256k1, only P-256, P-384 or P-521"
    )


def test_a_secp192r1_key_is_refused() -> None:
    try:
        key = ec.generate_private_key(ec.SECP192R1())
    except Exception:  # pragma: no cover - depends on the OpenSSL build
        pytest.skip("this OpenSSL does not offer secp192r1")
    assert rejection(csr_pem(make_csr(key))) == (
        "curve not allowed: EC P-192, only P-256, P-384 or P-521"
    )


def test_an_ed25519_key_is_refused() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    assert rejection(csr_pem(make_csr(key))) == (
        "key type not allowed: Ed25519, RSA or EC required"
    )


def test_a_csr_signed_with_sha1_is_refused(rsa_key: PrivateKey) -> None:
    # cryptography no longer signs with SHA-1; relabel the signature algorithm instead.
    sha256_rsa = bytes.fromhex("06092a864886f70d01010b")
    sha1_rsa = bytes.fromhex("06092a864886f70d010105")
    der = make_csr(rsa_key).public_bytes(serialization.Encoding.DER)
    assert der.count(sha256_rsa) == 1
    pem = der_to_pem(der.replace(sha256_rsa, sha1_rsa))
    assert rejection(pem) == "weak signature hash: sha1, at least sha256 required"


def test_a_tampered_csr_has_a_bad_signature(ec_key: PrivateKey) -> None:
    der = make_csr(ec_key).public_bytes(serialization.Encoding.DER)
    tampered = der.replace(b"SN-0001", b"SN-0002")
    assert rejection(der_to_pem(tampered), cn="SN-0002") == "bad signature"


def test_a_csr_whose_signature_bytes_were_flipped_has_a_bad_signature(
    rsa_key: PrivateKey,
) -> None:
    der = bytearray(make_csr(rsa_key).public_bytes(serialization.Encoding.DER))
    der[-1] ^= 0x01
    assert rejection(der_to_pem(bytes(der))) == "bad signature"


def test_a_subject_naming_another_station_is_refused(ec_key: PrivateKey) -> None:
    pem = csr_pem(make_csr(ec_key, "B"))
    assert rejection(pem, cn="A") == "subject CN 'B' does not name station 'A'"


def test_a_subject_without_cn_is_refused(ec_key: PrivateKey) -> None:
    assert rejection(csr_pem(make_csr(ec_key, None))) == (
        "subject must have exactly one CN, found 0"
    )


def test_a_subject_with_two_cns_is_refused(ec_key: PrivateKey) -> None:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "SN-0001"),
            x509.NameAttribute(NameOID.COMMON_NAME, "SN-0002"),
        ]
    )
    assert rejection(csr_pem(make_csr(ec_key, name=name))) == (
        "subject must have exactly one CN, found 2"
    )


def test_a_subject_of_another_operator_is_refused(ec_key: PrivateKey) -> None:
    pem = csr_pem(make_csr(ec_key, organization="Rival CPO"))
    assert rejection(pem) == f"subject O 'Rival CPO' is not operator {OPERATOR!r}"


def test_a_subject_without_organization_is_refused_when_one_is_expected(
    ec_key: PrivateKey,
) -> None:
    pem = csr_pem(make_csr(ec_key, organization=None))
    assert rejection(pem) == f"subject O none is not operator {OPERATOR!r}"


def test_a_ca_true_request_is_refused(ec_key: PrivateKey) -> None:
    csr = make_csr(ec_key, extensions=(x509.BasicConstraints(ca=True, path_length=None),))
    assert rejection(csr_pem(csr)) == "CA:true requested"


def test_a_ca_false_request_is_fine(ec_key: PrivateKey) -> None:
    csr = make_csr(ec_key, extensions=(x509.BasicConstraints(ca=False, path_length=None),))
    check_csr(csr, profile=STATION, expected_common_name=None, expected_organization=None)


def test_an_unexpected_extension_request_is_refused(ec_key: PrivateKey) -> None:
    csr = make_csr(ec_key, extensions=(x509.OCSPNoCheck(),))
    assert rejection(csr_pem(csr)) == (
        "unexpected extension requested: OCSPNoCheck (1.3.6.1.5.5.7.48.1.5)"
    )


def test_an_unknown_extension_request_is_refused(ec_key: PrivateKey) -> None:
    oid = x509.ObjectIdentifier("1.3.6.1.4.1.55555.1")
    csr = make_csr(ec_key, extensions=(x509.UnrecognizedExtension(oid, b"\x05\x00"),))
    assert rejection(csr_pem(csr)) == (
        "unexpected extension requested: Unknown OID (1.3.6.1.4.1.55555.1)"
    )


@given(st.text(max_size=300))
def test_load_csr_raises_only_csr_rejected_on_any_text(text: str) -> None:
    with pytest.raises(CsrRejected):
        load_csr(text)


@given(st.binary(min_size=1, max_size=400))
def test_load_csr_raises_only_csr_rejected_on_any_der(der: bytes) -> None:
    with pytest.raises(CsrRejected, match="^malformed"):
        load_csr(der_to_pem(der))


@given(st.binary(max_size=600))
def test_load_csr_raises_only_csr_rejected_on_any_bytes(data: bytes) -> None:
    with pytest.raises(CsrRejected):
        load_csr(data)


def _replace_spki(der: bytes, old: bytes, new: bytes) -> bytes:
    """Swap the SPKI inside a CSR and fix the two enclosing DER lengths."""
    assert old in der
    # CertificationRequest ::= SEQUENCE { info SEQUENCE {...}, alg, sig }; both use long form.
    info_start = 4
    info_len = int.from_bytes(der[info_start + 2 : info_start + 4], "big")
    info_body = der[info_start + 4 : info_start + 4 + info_len].replace(old, new)
    rest = der[info_start + 4 + info_len :]
    info = b"\x30\x82" + len(info_body).to_bytes(2, "big") + info_body
    body = info + rest
    return b"\x30\x82" + len(body).to_bytes(2, "big") + body


def test_builders_make_base64_the_way_openssl_does() -> None:
    assert der_to_pem(b"\x00").splitlines()[1] == base64.b64encode(b"\x00").decode()


def test_a_csr_whose_ec_point_is_off_the_curve_has_an_unreadable_key(ec_key: PrivateKey) -> None:
    der = make_csr(ec_key).public_bytes(serialization.Encoding.DER)
    point = ec_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    broken = point[:-1] + bytes([point[-1] ^ 0x01])
    assert rejection(der_to_pem(der.replace(point, broken))).startswith("unreadable public key: ")


def test_a_csr_with_an_unknown_signature_algorithm_is_refused(rsa_key: PrivateKey) -> None:
    sha256_rsa = bytes.fromhex("06092a864886f70d01010b")
    unknown = bytes.fromhex("06092a864886f70d010163")
    der = make_csr(rsa_key).public_bytes(serialization.Encoding.DER)
    reason = rejection(der_to_pem(der.replace(sha256_rsa, unknown)))
    assert reason.startswith("unsupported signature algorithm: ")


def test_a_csr_with_an_unparsable_extension_is_refused(ec_key: PrivateKey) -> None:
    garbage = x509.UnrecognizedExtension(x509.BasicConstraints.oid, b"\x04\x01\x00")
    assert rejection(csr_pem(make_csr(ec_key, extensions=(garbage,)))).startswith(
        "malformed extensions: "
    )
