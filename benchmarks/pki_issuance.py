"""Station certificate issuance rate against the raw signing rate of the same CA key.

Full path per certificate: ``load_csr`` (PEM text) + ``check_csr`` (key, hash, signature,
extensions, subject) + ``issue_certificate`` (build and sign). The raw rate signs a 32-byte message
with the same CA key and hash, so the ratio shows what the PKI adds on top of the signature.
"bare cert/s" is cryptography signing a certificate with no extensions at all: the floor that
no issuance path built on it can pass.

Run: ``python benchmarks/pki_issuance.py [--seconds 2]``.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime

import cryptography
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.x509.oid import NameOID

from pki.csr import check_csr, load_csr
from pki.hierarchy import CARole, IssuingCA, create_intermediate, create_operator_root
from pki.issuance import issue_certificate
from pki.keys import KeyKind, PrivateKey, generate_private_key, signature_hash
from pki.profiles import STATION

OPERATOR = "Benchmark CPO"
NOW = datetime(2026, 3, 1, tzinfo=UTC)
POOL = 200


def rate(work: Callable[[int], object], seconds: float) -> float:
    """Calls per second of ``work(i)`` over at least ``seconds``."""
    done, start = 0, time.perf_counter()
    while True:
        for _ in range(50):
            work(done)
            done += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done / elapsed


def station_ca(kind: KeyKind) -> IssuingCA:
    root = create_operator_root(
        operator_name=OPERATOR, key=generate_private_key(kind), serial=1, now=NOW
    )
    return create_intermediate(
        root, role=CARole.STATION, key=generate_private_key(kind), serial=2, now=NOW
    )


def csr_pool(kind: KeyKind) -> list[str]:
    key = generate_private_key(kind)  # one key, many subjects: key generation is not measured
    pems = []
    for i in range(POOL):
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, OPERATOR),
                x509.NameAttribute(NameOID.COMMON_NAME, f"SN-{i:06d}"),
            ]
        )
        csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
        pems.append(csr.public_bytes(serialization.Encoding.PEM).decode())
    return pems


def raw_signer(key: PrivateKey) -> Callable[[int], object]:
    message = b"\x5a" * 32
    algorithm = signature_hash(key)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return lambda _i: key.sign(message, ec.ECDSA(algorithm))
    return lambda _i: key.sign(message, padding.PKCS1v15(), algorithm)


def bare_certificate_signer(key: PrivateKey) -> Callable[[int], object]:
    """cryptography's own floor: a certificate with a one-CN name and no extensions."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW)
        .not_valid_after(NOW + STATION.validity)
    )
    algorithm = signature_hash(key)
    return lambda _i: builder.sign(key, algorithm)


def issuer_of(ca: IssuingCA, pems: list[str]) -> Callable[[int], object]:
    def issue(i: int) -> object:
        serial_cn = f"SN-{i % POOL:06d}"
        checked = check_csr(
            load_csr(pems[i % POOL]),
            profile=STATION,
            expected_common_name=serial_cn,
            expected_organization=OPERATOR,
        )
        return issue_certificate(checked, issuer=ca, serial=i + 1, now=NOW)

    return issue


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    seconds = parser.parse_args().seconds
    print(
        f"python {platform.python_version()}, cryptography {cryptography.__version__},"
        f" {platform.machine()}, {seconds:.1f} s per figure, one thread"
    )
    header = (
        f"{'CA key':<10} {'CSR key':<10} {'issued/s':>10} {'raw sign/s':>11} {'ratio':>7}"
        f" {'bare cert/s':>12} {'ratio':>7}"
    )
    print(header)
    print("-" * len(header))
    pools = {kind: csr_pool(kind) for kind in (KeyKind.EC_P256, KeyKind.RSA_2048)}
    for ca_kind in (KeyKind.EC_P256, KeyKind.RSA_2048):
        ca = station_ca(ca_kind)
        raw = rate(raw_signer(ca.private_key), seconds)
        bare = rate(bare_certificate_signer(ca.private_key), seconds)
        for csr_kind, pems in pools.items():
            issued = rate(issuer_of(ca, pems), seconds)
            print(
                f"{ca_kind.value:<10} {csr_kind.value:<10} {issued:>10.0f} {raw:>11.0f}"
                f" {issued / raw:>6.0%} {bare:>12.0f} {bare / raw:>6.0%}"
            )


if __name__ == "__main__":
    main()
