"""The station's own signature check and its downloads, fed hostile input: signatures made by
``openssl`` with the wrong parameters, broken base64, servers that lie about ranges and sizes."""

from __future__ import annotations

import base64
import hashlib
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from simulator.signing import CertificateRefused, signature_matches, signing_certificate
from simulator.transfers import (
    Download,
    TransferError,
    download,
    download_http,
    ftp_location,
)
from tests.simulator.firmware_servers import (
    FileServer,
    Pki,
    client_context,
    https_server,
    make_pki,
    pem,
    write_image,
)

DATA = b"firmware bytes " * 1000
DIGEST = hashlib.sha256(DATA).digest()
NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_image(tmp_path_factory.mktemp("image"), "fw.bin", DATA)


def test_rsa_pss_and_ecdsa_signatures_made_by_openssl_verify(pki: Pki, image: Path) -> None:
    assert signature_matches(DIGEST, pki.rsa.sign(image), pki.rsa.certificate)
    assert signature_matches(DIGEST, pki.ec.sign(image), pki.ec.certificate)


def test_a_pss_signature_with_another_salt_length_does_not_verify(pki: Pki, image: Path) -> None:
    raw = subprocess.run(
        [
            "openssl",
            "dgst",
            "-sha256",
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            "rsa_pss_saltlen:20",
            "-sign",
            str(pki.rsa.key_file),
            str(image),
        ],
        check=True,
        capture_output=True,
    ).stdout
    assert not signature_matches(DIGEST, base64.b64encode(raw).decode(), pki.rsa.certificate)


def test_a_pkcs1_v15_signature_does_not_pass_for_pss(pki: Pki, image: Path) -> None:
    raw = subprocess.run(
        ["openssl", "dgst", "-sha256", "-sign", str(pki.rsa.key_file), str(image)],
        check=True,
        capture_output=True,
    ).stdout
    assert not signature_matches(DIGEST, base64.b64encode(raw).decode(), pki.rsa.certificate)


@pytest.mark.parametrize("signature", ["", "not base64 at all!", "AAAA", "=" * 8])
def test_garbage_signatures_do_not_verify(pki: Pki, signature: str) -> None:
    assert not signature_matches(DIGEST, signature, pki.rsa.certificate)
    assert not signature_matches(DIGEST, signature, pki.ec.certificate)


def test_a_signature_of_another_file_or_by_another_key_does_not_verify(
    pki: Pki, image: Path
) -> None:
    assert not signature_matches(
        hashlib.sha256(b"other").digest(), pki.ec.sign(image), pki.ec.certificate
    )
    assert not signature_matches(DIGEST, pki.ec.sign(image), pki.stranger.certificate)
    assert not signature_matches(DIGEST, pki.rsa.sign(image), pki.ec.certificate)


def test_the_signing_certificate_must_come_from_an_installed_root_and_be_current(
    pki: Pki,
) -> None:
    assert signing_certificate(pki.rsa.pem, [pki.other_root, pki.root], NOW) == pki.rsa.certificate
    cases = [
        (pki.stranger.pem, [pki.root], "not issued by an installed root"),
        (pki.rsa.pem, [pki.other_root], "not issued by an installed root"),
        (pki.rsa.pem, [], "no manufacturer root"),
        (pki.expired.pem, [pki.root], "not valid now"),
        (pki.rsa.pem, [pki.root], "not valid now"),  # checked a year and a day from now
        ("-----BEGIN CERTIFICATE-----\n", [pki.root], "not a PEM certificate"),
        (pem(pki.other_root), [pki.root], "not issued by an installed root"),
    ]
    for number, (text, roots, message) in enumerate(cases):
        when = NOW + timedelta(days=367) if number == 4 else NOW
        with pytest.raises(CertificateRefused, match=message):
            signing_certificate(text, roots, when)


async def test_a_server_that_resumes_at_the_wrong_offset_fails_the_download(pki: Pki) -> None:
    class Lying(FileServer):
        async def _one(self, reader, writer):  # type: ignore[no-untyped-def]
            line = await reader.readline()
            if not line:
                return False
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass
            self.seen.append(line)  # type: ignore[arg-type]
            if len(self.seen) == 1:  # first answer cut short
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 10)
                await writer.drain()
                return False
            writer.write(
                b"HTTP/1.1 206 Partial Content\r\nContent-Length: 10\r\n"
                b"Content-Range: bytes 50-59/100\r\n\r\n" + b"y" * 10
            )
            await writer.drain()
            return True

    async with https_server(pki, Lying()) as files:
        with pytest.raises(TransferError, match="wrong offset"):
            await download_http(files.url + "/fw.bin", verify=client_context(pki))


async def test_a_server_whose_certificate_the_station_does_not_trust_is_refused(
    pki: Pki,
) -> None:
    async with https_server(pki, FileServer(files={"/fw.bin": DATA})) as files:
        with pytest.raises(TransferError, match="cannot download"):
            await download_http(files.url + "/fw.bin", verify=True)
        got = await download_http(files.url + "/fw.bin", verify=client_context(pki))
    assert (got.size, got.digest) == (len(DATA), DIGEST)


async def test_an_unknown_scheme_and_an_unreachable_server_fail_the_download() -> None:
    with pytest.raises(TransferError, match="cannot download over file"):
        await download("file:///etc/passwd")
    with pytest.raises(TransferError, match="cannot download over no scheme"):
        await download("fw.bin")
    with pytest.raises(TransferError) as refused:
        await download("https://station:secret@127.0.0.1:1/fw.bin?X-Amz-Signature=abc")
    assert "secret" not in str(refused.value) and "X-Amz" not in str(refused.value)


def test_a_download_shorter_or_other_than_announced_fails_its_check() -> None:
    short = Download(expected_size=10)
    short.feed(b"12345")
    with pytest.raises(TransferError, match="got 5 bytes of 10"):
        short.check()
    other = Download(expected_sha256=hashlib.sha256(b"a").digest())
    other.feed(b"b")
    with pytest.raises(TransferError, match="digest"):
        other.check()


def test_ftp_locations_decode_their_credentials() -> None:
    where = ftp_location("ftp://st%40tion:p%3Ass@files.example:2121/fw/a%20b.bin")
    assert (where.user, where.password, where.host, where.port, where.path) == (
        "st@tion",
        "p:ss",
        "files.example",
        2121,
        "/fw/a b.bin",
    )
    anonymous = ftp_location("ftp://files.example/fw.bin")
    assert (anonymous.user, anonymous.port) == ("anonymous", 21)
    with pytest.raises(TransferError, match="not an FTP URL"):
        ftp_location("https://files.example/fw.bin")
