"""The engine's commands as the platform's station commands (``charging.commands``).

An update goes out signed (1.6 SignedUpdateFirmware, 2.0.1/2.1 UpdateFirmware with signature
and signing certificate) unless the engine asks for a plain one, which it does only where the
policy allows unsigned images. Before the first update a station is made to hold the family's
manufacturer root (GetInstalledCertificateIds, then InstallCertificate
ManufacturerRootCertificate when it is missing), or it could not verify the signature.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from charging.commands import (
    CertificateUse,
    GetDiagnostics,
    GetInstalledCertificateIds,
    GetLog,
    InstallCertificate,
    SignedUpdateFirmware,
    StopCharging,
    Trigger,
    TriggerKind,
    UpdateFirmware,
)
from firmware.service.ports import Answer, LocationIssuer, Protocol_, StationLink
from firmware.tables import FirmwareImageRow

DOWNLOAD_MARGIN = timedelta(hours=1)
"""How long a URL stays valid after the last retry may start (the download itself)."""


class UnsignedImage(Exception):
    """A signed update was asked for an image that carries no signature."""


def url_validity(
    retrieve_at: datetime, *, retries: int, retry_interval: timedelta
) -> tuple[datetime, datetime]:
    """From retrieveDateTime through every retry (retries x retryInterval), plus the download."""
    return retrieve_at, retrieve_at + retry_interval * max(retries, 0) + DOWNLOAD_MARGIN


def update_command(
    image: FirmwareImageRow,
    *,
    locations: LocationIssuer,
    station_id: str,
    target_id: int | None,
    request_id: int,
    signed: bool,
    retrieve_at: datetime,
    retries: int,
    retry_interval: timedelta,
    install_at: datetime | None = None,
    protocol: Protocol_ = "https",
) -> UpdateFirmware | SignedUpdateFirmware:
    """The update of ``station_id`` to ``image`` for request ``request_id``.

    Raises:
        UnsignedImage: ``signed`` and the image has no signature.
    """
    valid_from, valid_until = url_validity(
        retrieve_at, retries=retries, retry_interval=retry_interval
    )
    location = locations.location(
        image=image,
        station_id=station_id,
        target_id=target_id,
        protocol=protocol,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    interval = int(retry_interval.total_seconds())
    if not signed:
        return UpdateFirmware(
            location=location,
            retrieve_at=retrieve_at,
            request_id=request_id,
            retries=retries,
            retry_interval_s=interval,
        )
    if not image.signature or not image.signing_certificate:
        raise UnsignedImage(f"image {image.id} ({image.version}) carries no signature")
    return SignedUpdateFirmware(
        request_id=request_id,
        location=location,
        retrieve_at=retrieve_at,
        signing_certificate=image.signing_certificate,
        signature=image.signature,
        install_at=install_at,
        retries=retries,
        retry_interval_s=interval,
    )


def probe_command(*, signed: bool) -> Trigger:
    """Ask for the current firmware status: a station updating through SignedUpdateFirmware
    (1.6 Security Whitepaper) reports through SignedFirmwareStatusNotification, which only
    ExtendedTriggerMessage asks for; plain 1.6 and 2.x take TriggerMessage (2.x ignores the flag).
    """
    return Trigger(TriggerKind.FIRMWARE_STATUS_NOTIFICATION, extended=signed)


def log_command(location: str, request_id: int, *, diagnostics: bool) -> GetLog | GetDiagnostics:
    """The station's log after a failure: 1.6 GetDiagnostics (plain Firmware Management), or
    GetLog (1.6 whitepaper, 2.x) whose LogStatusNotification carries ``request_id``."""
    if diagnostics:
        return GetDiagnostics(location, retries=2, retry_interval_s=60)
    return GetLog(request_id, location, retries=2, retry_interval_s=60)


def stop_command(transaction_ref: str) -> StopCharging:
    return StopCharging(transaction_ref)


def hash_data(root_pem: str) -> dict[str, str]:
    """OCPP CertificateHashDataType of a self-signed root, SHA-256 (1.6 whitepaper, 2.0.1)."""
    cert = x509.load_pem_x509_certificate(root_pem.encode())
    key = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    spki = _subject_public_key(key)
    return {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": hashlib.sha256(cert.issuer.public_bytes()).hexdigest(),
        "issuerKeyHash": hashlib.sha256(spki).hexdigest(),
        "serialNumber": format(cert.serial_number, "x"),
    }


def _subject_public_key(spki_der: bytes) -> bytes:
    """The BIT STRING contents of a SubjectPublicKeyInfo (what issuerKeyHash hashes)."""
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    load_der_public_key(spki_der)  # validates
    # SEQUENCE { AlgorithmIdentifier, BIT STRING }: skip the outer header, the algorithm, and
    # the BIT STRING's header with its unused-bits byte.
    body, _ = _tlv(spki_der, 0)
    algorithm_end = _tlv(spki_der, body)[1]
    bits_start, _ = _tlv(spki_der, algorithm_end)
    return spki_der[bits_start + 1 :]


def _tlv(der: bytes, at: int) -> tuple[int, int]:
    """(start of contents, end) of the DER element at ``at``."""
    length = der[at + 1]
    start = at + 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(der[start : start + count], "big")
        start += count
    return start, start + length


def installed_hashes(payload: dict[str, Any]) -> list[dict[str, str]]:
    """The certificate hash data of a GetInstalledCertificateIds answer (1.6 or 2.0.1)."""
    found: list[dict[str, str]] = list(payload.get("certificateHashData") or [])
    for entry in payload.get("certificateHashDataChain") or []:
        if isinstance(entry, dict) and isinstance(entry.get("certificateHashData"), dict):
            found.append(entry["certificateHashData"])
    return found


def holds_root(installed: Iterable[dict[str, str]], root: dict[str, str]) -> bool:
    def same(a: dict[str, str]) -> bool:
        return (
            str(a.get("serialNumber", "")).lower().lstrip("0") == root["serialNumber"].lstrip("0")
            and str(a.get("issuerKeyHash", "")).lower() == root["issuerKeyHash"]
        )

    return any(same(entry) for entry in installed if isinstance(entry, dict))


async def ensure_root(link: StationLink, station_id: str, root_pem: str) -> Answer:
    """Install the manufacturer root on the station unless it already holds it.

    Returns the InstallCertificate answer, or an Accepted answer when nothing was needed.
    A station that cannot list its certificates gets the root anyway.
    """
    listed = await link.send(
        station_id, GetInstalledCertificateIds((CertificateUse.MANUFACTURER_ROOT,))
    )
    if listed.status in ("Offline", "Timeout"):
        return listed
    if listed.status == "Accepted" and holds_root(
        installed_hashes(listed.payload), hash_data(root_pem)
    ):
        return Answer("Accepted", detail="root already installed")
    return await link.send(
        station_id, InstallCertificate(CertificateUse.MANUFACTURER_ROOT, root_pem)
    )
