"""Station certificate issuance rate against the raw signing rate of the same CA key.

Full path per certificate: ``load_csr`` (PEM text) + ``check_csr`` (key, hash, signature,
extensions, subject) + ``issue_certificate`` (build and sign). The raw rate signs a 32-byte message
with the same CA key and hash, so the ratio shows what the PKI adds on top of the signature.
"bare cert/s" is cryptography signing a certificate with no extensions at all. "floor/s" is the
ideal path's crypto alone: verifying the CSR's signature (mandatory) plus one raw signature with
the CA key, nothing encoded or parsed; its ratio to the raw rate is the most any issuance path can
reach. Verifying an ECDSA P-256 signature costs about 2.5 times signing one, so with an EC P-256
CA and EC CSRs that ceiling is near 30%, whatever the PKI code does.

The workloads run interleaved, in short turns, so a busy machine slows all of them alike.

Run: ``PYTHONPATH=. python benchmarks/pki_issuance.py [--seconds 2]``.
"""

from __future__ import annotations

import argparse
import os
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
TURN = 20


def rates(work: dict[str, Callable[[int], object]], seconds: float) -> dict[str, float]:
    """Calls per second of each ``work[name](i)``, taking turns until each ran ``seconds``."""
    spent = dict.fromkeys(work, 0.0)
    done = dict.fromkeys(work, 0)
    while min(spent.values()) < seconds:
        for name, call in work.items():
            start = time.perf_counter()
            for _ in range(TURN):
                call(done[name])
                done[name] += 1
            spent[name] += time.perf_counter() - start
    return {name: done[name] / spent[name] for name in work}


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


def floor_of(ca: IssuingCA, pems: list[str]) -> Callable[[int], object]:
    """CSR signature verification plus one raw CA signature: the crypto no path can skip."""
    csrs = [load_csr(pem) for pem in pems]
    sign = raw_signer(ca.private_key)

    def verify_and_sign(i: int) -> object:
        if not csrs[i % POOL].is_signature_valid:
            raise AssertionError("benchmark CSR does not verify")
        return sign(i)

    return verify_and_sign


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    seconds = parser.parse_args().seconds
    print(
        f"python {platform.python_version()}, cryptography {cryptography.__version__},"
        f" {platform.machine()}, {os.cpu_count()} CPUs, {seconds:.1f} s per figure, one thread"
    )
    header = (
        f"{'CA key':<10} {'CSR key':<10} {'issued/s':>9} {'raw sign/s':>11} {'ratio':>6}"
        f" {'floor/s':>8} {'ratio':>6} {'bare cert/s':>12} {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    pools = {kind: csr_pool(kind) for kind in (KeyKind.EC_P256, KeyKind.RSA_2048)}
    for ca_kind in (KeyKind.EC_P256, KeyKind.RSA_2048):
        ca = station_ca(ca_kind)
        for csr_kind, pems in pools.items():
            measured = rates(
                {
                    "issued": issuer_of(ca, pems),
                    "raw": raw_signer(ca.private_key),
                    "floor": floor_of(ca, pems),
                    "bare": bare_certificate_signer(ca.private_key),
                },
                seconds,
            )
            raw = measured["raw"]
            print(
                f"{ca_kind.value:<10} {csr_kind.value:<10} {measured['issued']:>9.0f}"
                f" {raw:>11.0f} {measured['issued'] / raw:>6.0%}"
                f" {measured['floor']:>8.0f} {measured['floor'] / raw:>6.0%}"
                f" {measured['bare']:>12.0f} {measured['bare'] / raw:>6.0%}"
            )


if __name__ == "__main__":
    main()
