"""Interop with the real ``openssl`` command line: chains, CRLs, OCSP and CSRs it makes.

DESIGN.md "PKI": openssl must be able to verify every chain, CRL and OCSP answer we produce.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from pki.csr import check_csr, load_csr
from pki.hierarchy import certificate_to_pem
from pki.issuance import RevocationUrls, issue_certificate, issue_server_certificate
from pki.keys import KeyKind, PrivateKey, generate_private_key
from pki.profiles import STATION
from pki.revocation import (
    CertStatus,
    RevocationReason,
    RevokedEntry,
    answer_ocsp,
    build_crl,
    crl_to_der,
)
from tests.pki.builders import OPERATOR, make_csr
from tests.pki.conftest import ThrowawayCA, build_test_ca

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")

# openssl checks validity against the real clock, so these tests issue relative to it.
TODAY = datetime.now(UTC).replace(microsecond=0)
URLS = RevocationUrls(crl_url="http://pki.test/station.crl", ocsp_url="http://pki.test/ocsp")


def openssl(*args: str | Path, stdin: bytes | None = None) -> str:
    done = subprocess.run(
        ["openssl", *map(str, args)], input=stdin, capture_output=True, check=False, timeout=60
    )
    output = done.stdout.decode() + done.stderr.decode()
    assert done.returncode == 0, output
    return output


@pytest.fixture(scope="module", params=[KeyKind.EC_P256, KeyKind.RSA_2048], ids=["ec", "rsa"])
def live_ca(request: pytest.FixtureRequest) -> ThrowawayCA:
    return build_test_ca(request.param, now=TODAY - timedelta(days=1))


def write(path: Path, cert: x509.Certificate) -> Path:
    path.write_text(certificate_to_pem(cert))
    return path


def station_cert(ca: ThrowawayCA, key: PrivateKey, serial: int) -> x509.Certificate:
    checked = check_csr(
        make_csr(key), profile=STATION, expected_common_name="SN-0001", expected_organization=None
    )
    return issue_certificate(
        checked, issuer=ca.station, serial=serial, now=TODAY, revocation_urls=URLS
    )


@pytest.fixture
def files(live_ca: ThrowawayCA, tmp_path: Path) -> dict[str, Path]:
    return {
        "root": write(tmp_path / "root.pem", live_ca.root.certificate),
        "station_ca": write(tmp_path / "station-ca.pem", live_ca.station.certificate),
        "server_ca": write(tmp_path / "server-ca.pem", live_ca.server.certificate),
    }


def test_openssl_verifies_a_station_chain(
    live_ca: ThrowawayCA, files: dict[str, Path], tmp_path: Path
) -> None:
    leaf = write(tmp_path / "leaf.pem", station_cert(live_ca, generate_private_key(), 0x42))
    output = openssl(
        "verify",
        "-CAfile",
        files["root"],
        "-untrusted",
        files["station_ca"],
        "-purpose",
        "sslclient",
        leaf,
    )
    assert output.strip() == f"{leaf}: OK"


@pytest.mark.parametrize("kind", [KeyKind.EC_P256, KeyKind.RSA_2048])
def test_openssl_verifies_both_server_certificates(
    live_ca: ThrowawayCA, files: dict[str, Path], tmp_path: Path, kind: KeyKind
) -> None:
    cert = issue_server_certificate(
        generate_private_key(kind).public_key(),
        issuer=live_ca.server,
        fqdn="ocpp.example.com",
        serial=0x43,
        now=TODAY,
    )
    leaf = write(tmp_path / "server.pem", cert)
    output = openssl(
        "verify",
        "-CAfile",
        files["root"],
        "-untrusted",
        files["server_ca"],
        "-purpose",
        "sslserver",
        "-verify_hostname",
        "ocpp.example.com",
        leaf,
    )
    assert output.strip() == f"{leaf}: OK"


def test_openssl_shows_the_expected_extensions(live_ca: ThrowawayCA, tmp_path: Path) -> None:
    leaf = write(tmp_path / "leaf.pem", station_cert(live_ca, generate_private_key(), 0x44))
    text = openssl("x509", "-noout", "-text", "-in", leaf)
    assert f"Subject: C = DE, O = {OPERATOR}, CN = SN-0001" in text
    assert "X509v3 Basic Constraints: critical\n                CA:FALSE" in text
    assert "X509v3 Key Usage: critical\n                Digital Signature" in text
    assert "X509v3 Extended Key Usage: \n                TLS Web Client Authentication" in text
    assert "X509v3 Subject Key Identifier:" in text
    assert "X509v3 Authority Key Identifier:" in text
    assert "URI:http://pki.test/station.crl" in text
    assert "OCSP - URI:http://pki.test/ocsp" in text


def test_openssl_verifies_a_crl_and_sees_the_revocation(
    live_ca: ThrowawayCA, files: dict[str, Path], tmp_path: Path
) -> None:
    entry = RevokedEntry(0x99, TODAY - timedelta(hours=1), RevocationReason.KEY_COMPROMISE)
    crl = build_crl(
        live_ca.station, [entry], now=TODAY, next_update=TODAY + timedelta(days=7), crl_number=3
    )
    path = tmp_path / "station.crl"
    path.write_bytes(crl_to_der(crl))
    output = openssl(
        "crl",
        "-inform",
        "DER",
        "-in",
        path,
        "-CAfile",
        files["station_ca"],
        "-noout",
        "-text",
        "-verify",
    )
    assert "verify OK" in output
    assert "Serial Number: 99" in output
    assert "Key Compromise" in output
    # And a chain check with the CRL in force fails for the revoked certificate.
    revoked = write(tmp_path / "revoked.pem", station_cert(live_ca, generate_private_key(), 0x99))
    crl_pem = tmp_path / "station-crl.pem"
    crl_pem.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    done = subprocess.run(
        [
            "openssl",
            "verify",
            "-crl_check",
            "-CRLfile",
            str(crl_pem),
            "-CAfile",
            str(files["root"]),
            "-untrusted",
            str(files["station_ca"]),
            str(revoked),
        ],
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert done.returncode != 0
    assert b"certificate revoked" in done.stdout + done.stderr


@pytest.mark.parametrize(("serial", "word"), [(0x42, "good"), (0x99, "revoked")])
def test_openssl_accepts_our_ocsp_answers(
    live_ca: ThrowawayCA, files: dict[str, Path], tmp_path: Path, serial: int, word: str
) -> None:
    leaf = write(tmp_path / "leaf.pem", station_cert(live_ca, generate_private_key(), serial))
    request, response = tmp_path / "req.der", tmp_path / "resp.der"
    openssl("ocsp", "-issuer", files["station_ca"], "-cert", leaf, "-reqout", request, "-no_nonce")
    entry = RevokedEntry(0x99, TODAY - timedelta(hours=1), RevocationReason.SUPERSEDED)

    def status_of(asked: int) -> CertStatus:
        return CertStatus.revoked_by(entry) if asked == 0x99 else CertStatus.good()

    response.write_bytes(
        answer_ocsp(request.read_bytes(), issuers=[live_ca.station], status_of=status_of, now=TODAY)
    )
    output = openssl(
        "ocsp",
        "-respin",
        response,
        "-issuer",
        files["station_ca"],
        "-CAfile",
        files["root"],
        "-cert",
        leaf,
    )
    assert "Response verify OK" in output
    assert f"{leaf}: {word}" in output


@pytest.mark.parametrize(
    "key_args",
    [["-newkey", "rsa:2048"], ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]],
    ids=["rsa-2048", "ec-p256"],
)
def test_csrs_made_by_openssl_req_are_accepted(tmp_path: Path, key_args: list[str]) -> None:
    csr_path = tmp_path / "station.csr"
    openssl(
        "req",
        "-new",
        *key_args,
        "-nodes",
        "-keyout",
        tmp_path / "key.pem",
        "-subj",
        f"/O={OPERATOR}/CN=SN-0001",
        "-out",
        csr_path,
    )
    csr = load_csr(csr_path.read_text())
    check_csr(csr, profile=STATION, expected_common_name="SN-0001", expected_organization=OPERATOR)
