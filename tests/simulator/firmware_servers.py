"""What simulated firmware updates need around them: a manufacturer PKI, signatures made with
``openssl``, a tiny HTTPS file server (Range, cut connections, uploads) and an FTP server.

The servers are the test's own, not the platform's download endpoints.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import ipaddress
import re
import ssl
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aioftp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

NOW = datetime.now(UTC)
Key = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Chargeline Test"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _certificate(
    subject: str,
    key: Key,
    *,
    issuer: tuple[x509.Certificate, Key] | None = None,
    ca: bool,
    not_after: datetime | None = None,
    san_ip: str | None = None,
) -> x509.Certificate:
    issuer_name = issuer[0].subject if issuer else _name(subject)
    signer = issuer[1] if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(not_after or NOW + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if san_ip:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(san_ip))]),
            critical=False,
        )
    return builder.sign(signer, hashes.SHA256())


def pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def _write_key(path: Path, key: Key) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


@dataclass(frozen=True)
class Signer:
    """A firmware-signing certificate and its key file (for ``openssl``)."""

    certificate: x509.Certificate
    key_file: Path
    ec: bool

    @property
    def pem(self) -> str:
        return pem(self.certificate)

    def sign(self, image: Path) -> str:
        """The base64 signature of ``image``, made by ``openssl dgst`` (RSA-PSS, salt 32, or
        ECDSA, both SHA-256)."""
        options = [] if self.ec else ["-sigopt", "rsa_padding_mode:pss"]
        options += [] if self.ec else ["-sigopt", "rsa_pss_saltlen:32"]
        signature = subprocess.run(
            ["openssl", "dgst", "-sha256", *options, "-sign", str(self.key_file), str(image)],
            check=True,
            capture_output=True,
        ).stdout
        return base64.b64encode(signature).decode()


@dataclass(frozen=True)
class Pki:
    root: x509.Certificate  # the manufacturer root the stations trust
    rsa: Signer
    ec: Signer
    other_root: x509.Certificate  # a root the stations do not have
    stranger: Signer  # signed by ``other_root``
    expired: Signer  # under ``root``, but out of date
    tls_ca_file: Path
    tls_cert_file: Path
    tls_key_file: Path

    @property
    def root_pem(self) -> str:
        return pem(self.root)


def make_pki(folder: Path) -> Pki:
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = _certificate("Manufacturer Root", root_key, ca=True)
    other_key = ec.generate_private_key(ec.SECP256R1())
    other = _certificate("Another Root", other_key, ca=True)

    def signer(name: str, key: Key, issuer: tuple[x509.Certificate, Key], **more: object) -> Signer:
        certificate = _certificate(name, key, issuer=issuer, ca=False, **more)  # type: ignore[arg-type]
        return Signer(
            certificate,
            _write_key(folder / f"{name}.key", key),
            isinstance(key, ec.EllipticCurvePrivateKey),
        )

    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tls_key = ec.generate_private_key(ec.SECP256R1())
    tls_ca_key = ec.generate_private_key(ec.SECP256R1())
    tls_ca = _certificate("Test TLS CA", tls_ca_key, ca=True)
    tls = _certificate(
        "127.0.0.1", tls_key, issuer=(tls_ca, tls_ca_key), ca=False, san_ip="127.0.0.1"
    )
    (folder / "tls-ca.pem").write_text(pem(tls_ca))
    (folder / "tls.pem").write_text(pem(tls))
    return Pki(
        root=root,
        rsa=signer("signing-rsa", rsa_key, (root, root_key)),
        ec=signer("signing-ec", ec.generate_private_key(ec.SECP256R1()), (root, root_key)),
        other_root=other,
        stranger=signer("stranger", ec.generate_private_key(ec.SECP256R1()), (other, other_key)),
        expired=signer(
            "expired",
            ec.generate_private_key(ec.SECP256R1()),
            (root, root_key),
            not_after=NOW - timedelta(minutes=1),
        ),
        tls_ca_file=folder / "tls-ca.pem",
        tls_cert_file=folder / "tls.pem",
        tls_key_file=_write_key(folder / "tls.key", tls_key),
    )


def client_context(pki: Pki) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(pki.tls_ca_file))


@dataclass
class Seen:
    method: str
    path: str
    range: str | None
    at: float  # time.time()


@dataclass
class FileServer:
    """HTTPS on loopback: GET with ``Range: bytes=N-`` (206), 404 for unknown paths, POST
    stores the body. ``cut_after`` bytes, the first GET of a file breaks off."""

    files: dict[str, bytes] = field(default_factory=dict)
    cut_after: int | None = None
    digest: dict[str, bytes] = field(default_factory=dict)  # path -> the sha-256 to announce
    seen: list[Seen] = field(default_factory=list)
    uploads: dict[str, bytes] = field(default_factory=dict)
    url: str = ""
    _cut: set[str] = field(default_factory=set)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await self._one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        line = await reader.readline()
        if not line:
            return False
        method, target, _ = line.decode().split(" ", 2)
        headers: dict[str, str] = {}
        while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = header.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        path = target.split("?", 1)[0]
        self.seen.append(Seen(method, path, headers.get("range"), time.time()))
        if method == "POST":
            self.uploads[path] = await reader.readexactly(int(headers["content-length"]))
            writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            return True
        data = self.files.get(path)
        if data is None:
            writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            return True
        start, status, extra = 0, "200 OK", ""
        wanted = re.fullmatch(r"bytes=(\d+)-", headers.get("range", ""))
        if wanted:
            start = int(wanted.group(1))
            status = "206 Partial Content"
            extra = f"Content-Range: bytes {start}-{len(data) - 1}/{len(data)}\r\n"
        if path in self.digest:
            extra += f"Repr-Digest: sha-256=:{base64.b64encode(self.digest[path]).decode()}:\r\n"
        body = data[start:]
        writer.write(
            f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n{extra}"
            "Accept-Ranges: bytes\r\n\r\n".encode()
        )
        if self.cut_after is not None and path not in self._cut:
            self._cut.add(path)
            writer.write(body[: self.cut_after])
            await writer.drain()
            return False  # the connection breaks off mid-body
        writer.write(body)
        await writer.drain()
        return True


@contextlib.asynccontextmanager
async def https_server(pki: Pki, server: FileServer | None = None) -> AsyncIterator[FileServer]:
    server = server or FileServer()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(pki.tls_cert_file), str(pki.tls_key_file))
    listening = await asyncio.start_server(server._handle, "127.0.0.1", 0, ssl=context)
    server.url = f"https://127.0.0.1:{listening.sockets[0].getsockname()[1]}"
    try:
        yield server
    finally:
        listening.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(listening.wait_closed(), 2)


@dataclass
class FtpServer:
    root: Path
    port: int
    user: str
    password: str

    def url(self, name: str, *, password: str | None = None) -> str:
        return f"ftp://{self.user}:{password or self.password}@127.0.0.1:{self.port}/{name}"


@contextlib.asynccontextmanager
async def ftp_server(
    root: Path, user: str = "station", password: str = "s3cret-Pass"
) -> AsyncIterator[FtpServer]:
    root.mkdir(parents=True, exist_ok=True)
    permissions = [aioftp.Permission("/", readable=True, writable=True)]
    server = aioftp.Server([aioftp.User(user, password, base_path=root, permissions=permissions)])
    await server.start("127.0.0.1", 0)
    port = server.server.sockets[0].getsockname()[1]
    try:
        yield FtpServer(root, port, user, password)
    finally:
        await server.close()


def write_image(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()
