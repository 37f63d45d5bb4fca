"""The ``openssl`` command line against the running platform: chains, CRL, OCSP and the TLS port.

DESIGN.md "PKI": openssl must verify every chain, CRL and OCSP answer; the gateway's TLS port
serves both an ECDSA and an RSA certificate, TLS 1.2 or later only, client certificates optional.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from sqlmodel import Session

from app.audit import Actor
from app.ca import CertificateAuthority
from app.platform import Platform
from pki import CARole, KeyKind, RevocationReason, generate_private_key
from tests.e2e.tls import NOW, TlsGateway, enrol
from tests.live import LiveServer
from tests.pki.builders import csr_pem, make_csr
from tests.pki.conftest import build_test_ca

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


def openssl(*args: str | Path, ok: bool = True) -> str:
    done = subprocess.run(
        ["openssl", *map(str, args)], input=b"", capture_output=True, check=False, timeout=60
    )
    output = done.stdout.decode(errors="replace") + done.stderr.decode(errors="replace")
    assert (done.returncode == 0) == ok, output
    return output


def test_openssl_verifies_issued_chains_the_crl_and_live_ocsp_answers(
    platform: Platform, tmp_path: Path
) -> None:
    platform.ca.initialize(now=NOW)
    with LiveServer(_app(platform)) as live:
        settings = platform.settings.model_copy(update={"public_url": live.url})
        ca = CertificateAuthority(settings, platform.engine)  # URLs pointing at the live server
        root = tmp_path / "root.pem"
        root.write_text(ca.root_pem())
        station_ca = tmp_path / "station-ca.pem"
        station_ca.write_text(
            ca.chain_pem(CARole.STATION).split("-----END CERTIFICATE-----")[0]
            + "-----END CERTIFICATE-----\n"
        )
        good = enrol(ca, tmp_path, "CP-A", KeyKind.EC_P256)
        bad = enrol(ca, tmp_path, "CP-B", KeyKind.RSA_2048)
        for station in (good, bad):
            assert "OK" in openssl(
                "verify", "-CAfile", root, "-untrusted", station_ca, station.cert
            )
        with Session(platform.engine) as session:
            ca.revoke(
                session,
                bad.serial_hex,
                RevocationReason.KEY_COMPROMISE,
                actor=Actor("test"),
                now=NOW,
            )
            session.commit()
        crl = tmp_path / "station.crl"
        crl.write_bytes(_get(f"{live.url}/pki/crl/station.crl"))
        both = tmp_path / "both.pem"
        both.write_text(ca.chain_pem(CARole.STATION))
        assert "verify OK" in openssl(
            "crl", "-inform", "DER", "-in", crl, "-CAfile", both, "-noout"
        )
        assert "CRL check" not in openssl(
            "verify", "-crl_check", "-CAfile", both, "-CRLfile", crl, good.cert
        )
        refused = openssl(
            "verify", "-crl_check", "-CAfile", both, "-CRLfile", _pem_crl(crl), bad.cert, ok=False
        )
        assert "certificate revoked" in refused
        url = f"{live.url}/pki/ocsp"
        answer = openssl(
            "ocsp", "-issuer", station_ca, "-CAfile", root, "-url", url, "-cert", good.cert
        )
        assert "Response verify OK" in answer and f"{good.cert}: good" in answer
        answer = openssl(
            "ocsp", "-issuer", station_ca, "-CAfile", root, "-url", url, "-cert", bad.cert
        )
        assert f"{bad.cert}: revoked" in answer and "Reason: keyCompromise" in answer


def _app(platform: Platform):  # type: ignore[no-untyped-def]
    from app.main import create_app

    return create_app(platform=platform)


def _get(url: str) -> bytes:
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback test
        body: bytes = response.read()
        return body


def _pem_crl(der_path: Path) -> Path:
    pem = der_path.with_suffix(".crl.pem")
    openssl("crl", "-inform", "DER", "-in", der_path, "-out", pem)
    return pem


async def s_client(port: int, *args: str | Path, ok: bool = True, brief: bool = True) -> str:
    options = ["-brief"] if brief else []
    return await asyncio.to_thread(
        openssl, "s_client", "-connect", f"127.0.0.1:{port}", *options, *args, ok=ok
    )


@pytest.mark.parametrize(
    ("cipher", "key_type"),
    [("ECDHE-ECDSA-AES128-GCM-SHA256", "EC"), ("ECDHE-RSA-AES128-GCM-SHA256", "RSA")],
    ids=["ecdsa", "rsa"],
)
async def test_the_tls_port_serves_an_ecdsa_and_an_rsa_chain_over_tls12(
    tls_gateway: TlsGateway, cipher: str, key_type: str
) -> None:
    output = await s_client(
        tls_gateway.port,
        "-tls1_2",
        "-cipher",
        cipher,
        "-CAfile",
        tls_gateway.root,
        "-verify_return_error",
    )
    assert f"Ciphersuite: {cipher}" in output
    assert "Verification: OK" in output
    assert "Protocol version: TLSv1.2" in output
    full = await s_client(
        tls_gateway.port, "-tls1_2", "-cipher", cipher, "-CAfile", tls_gateway.root, brief=False
    )
    bits = "256" if key_type == "EC" else "2048"
    assert f"Server public key is {bits} bit" in full
    assert "Compression: NONE" in full


async def test_a_client_certificate_is_optional_but_checked_when_presented(
    tls_gateway: TlsGateway,
) -> None:
    station = enrol(tls_gateway.platform.ca, tls_gateway.files, "CP-A", KeyKind.RSA_2048)
    without = await s_client(tls_gateway.port, "-CAfile", tls_gateway.root, "-verify_return_error")
    assert "Verification: OK" in without
    with_cert = await s_client(
        tls_gateway.port,
        "-CAfile",
        tls_gateway.root,
        "-cert",
        station.cert,
        "-key",
        station.key,
        "-verify_return_error",
    )
    assert "Verification: OK" in with_cert
    foreign = build_test_ca(now=NOW - timedelta(days=1))
    from pki import STATION, certificate_to_pem, check_csr, issue_certificate, load_csr

    key = generate_private_key()
    checked = check_csr(
        load_csr(csr_pem(make_csr(key, "CP-A"))),
        profile=STATION,
        expected_common_name="CP-A",
        expected_organization=None,
    )
    stranger = tls_gateway.files / "stranger.pem"
    stranger.write_text(
        certificate_to_pem(issue_certificate(checked, issuer=foreign.station, serial=99, now=NOW))
    )
    stranger_key = tls_gateway.files / "stranger.key"
    stranger_key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    refused = await s_client(
        tls_gateway.port,
        "-tls1_2",
        "-CAfile",
        tls_gateway.root,
        "-cert",
        stranger,
        "-key",
        stranger_key,
        ok=False,
    )
    # Python's TLS layer drops the handshake (no alert is sent): the client sees no session.
    assert "CONNECTION ESTABLISHED" not in refused


async def test_tls_11_is_refused(tls_gateway: TlsGateway) -> None:
    output = await s_client(tls_gateway.port, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0", ok=False)
    assert "CONNECTION ESTABLISHED" not in output
    assert "Protocol version: TLSv1.1" not in output
