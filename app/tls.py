"""TLS for the OCPP gateway port (security profiles 2 and 3).

OCPP 2.0.1 Part 2 A00 and the 1.6 Security Whitepaper ask for TLS 1.2 or later with the
ECDHE_ECDSA and ECDHE_RSA AES-GCM suites. The gateway therefore holds two server certificates
from the ``server`` intermediate, one for an EC P-256 key and one for an RSA 2048 key, both
loaded into one context: OpenSSL picks the one the client's signature algorithms and suites
allow. They are issued afresh at every start; their keys live in memory and touch the disk only
encrypted, for the moment ``load_cert_chain`` needs a file.

Client certificates are requested but optional (``CERT_OPTIONAL``), so profile-2 stations with
a password still connect; a certificate that is presented must chain to the station CA under
the operator root, and the gatekeeper re-checks it (revocation, CN = station id, EKU) through
``CertificateAuthority.check_station_certificate``.
"""

from __future__ import annotations

import ipaddress
import secrets
import ssl
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from sqlmodel import Session

from app import audit
from app.ca import CertificateAuthority
from app.settings import Settings
from common.clock import utcnow
from pki import (
    SERVER,
    CARole,
    KeyKind,
    certificate_to_pem,
    generate_private_key,
    issue_server_certificate,
    new_serial_number,
)
from pki.keys import PrivateKey

TLS12_CIPHERS = ":".join(
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES256-GCM-SHA384",
    )
)
SERVER_KEY_KINDS = (KeyKind.EC_P256, KeyKind.RSA_2048)


@dataclass(frozen=True, slots=True)
class ServerIdentity:
    """One server certificate chain (leaf + server CA) with its private key."""

    chain_pem: str
    private_key: PrivateKey
    serial_hex: str


def server_names(
    settings: Settings,
) -> tuple[str, list[str], list[ipaddress.IPv4Address | ipaddress.IPv6Address]]:
    """(CN, extra DNS names, IP addresses) for the gateway's certificates.

    CN is the host of ``public_url`` when it is a name, else ``localhost``; every host setting
    that is an IP address goes into the SAN as one.
    """
    hosts = [urlsplit(settings.public_url).hostname or ""] if settings.public_url else []
    hosts += [settings.ocpp_host, settings.api_host]
    names: list[str] = []
    addresses: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    for host in filter(None, hosts):
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            names.append(host.lower())
            continue
        if not address.is_unspecified and address not in addresses:
            addresses.append(address)
    unique = list(dict.fromkeys([*names, "localhost"]))
    return unique[0], unique[1:], addresses


def issue_server_identities(
    ca: CertificateAuthority, *, now: datetime | None = None
) -> list[ServerIdentity]:
    """An EC P-256 and an RSA 2048 server certificate, recorded and audited as issued."""
    now = now or utcnow()
    fqdn, extra, addresses = server_names(ca.settings)
    issuer = ca.authority(CARole.SERVER)
    identities = []
    with Session(ca.engine) as session:
        for kind in SERVER_KEY_KINDS:
            key = generate_private_key(kind)
            cert = issue_server_certificate(
                key.public_key(),
                issuer=issuer,
                fqdn=fqdn,
                serial=new_serial_number(),
                now=now,
                extra_dns_names=extra,
                ip_addresses=addresses,
                revocation_urls=ca.revocation_urls(CARole.SERVER),
            )
            issued = ca.store(session, cert, SERVER, audit.Actor("system", "gateway"))
            chain = certificate_to_pem(cert) + certificate_to_pem(issuer.certificate)
            identities.append(ServerIdentity(chain, key, issued.serial_hex))
        session.commit()
    return identities


def gateway_ssl_context(
    ca: CertificateAuthority, *, identities: list[ServerIdentity] | None = None
) -> ssl.SSLContext:
    """The TLS port's context: TLS 1.2+, ECDHE AES-GCM, EC and RSA chains, optional client
    certificates from the station CA."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(TLS12_CIPHERS)
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE
    context.options |= ssl.OP_NO_RENEGOTIATION
    for identity in identities or issue_server_identities(ca):
        load_identity(context, identity)
    context.verify_mode = ssl.CERT_OPTIONAL
    context.load_verify_locations(
        cadata=ca.chain_pem(CARole.STATION)  # station CA + operator root
    )
    return context


def load_identity(context: ssl.SSLContext, identity: ServerIdentity) -> None:
    """``load_cert_chain`` from a private temporary directory; the key file is encrypted with
    a one-time password and both files are gone when this returns."""
    password = secrets.token_urlsafe(32)
    key_pem = identity.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password.encode()),
    )
    with tempfile.TemporaryDirectory(prefix="chargeline-tls-") as directory:
        chain_path, key_path = Path(directory) / "chain.pem", Path(directory) / "key.pem"
        chain_path.write_text(identity.chain_pem)
        key_path.write_bytes(key_pem)
        key_path.chmod(0o600)
        context.load_cert_chain(chain_path, key_path, password=password)
