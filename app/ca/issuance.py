"""Issuance: station and user certificates signed from CSRs, recorded and audited.

Every issuance is stored (``issued_certificates``) and audited with the caller's transaction;
a refused CSR is audited in its own transaction, so the refusal survives the caller's rollback.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.x509.oid import NameOID
from sqlmodel import Session

from app import audit
from app.ca.hierarchy import CAHierarchy
from app.ca.keys import serial_to_hex
from app.ca.tables import IssuedCertificateRow
from ocpp_edge.admission import STATION_ID
from pki import (
    STATION,
    USER,
    CARole,
    CsrRejected,
    IssuanceRefused,
    LeafProfile,
    certificate_to_pem,
    chain_pem,
    check_csr,
    issue_certificate,
    load_csr,
    new_serial_number,
    user_subject_alt_names,
)


@dataclass(frozen=True, slots=True)
class IssuedCertificate:
    """What a caller gets back from an issuance: the leaf, the chain a station installs."""

    serial_hex: str
    certificate_pem: str
    chain_pem: str  # leaf + intermediate, as OCPP CertificateSigned carries it
    root_pem: str
    not_after: datetime


class CertificateIssuance(CAHierarchy):
    """The hierarchies, signing leaf certificates."""

    def issue_station_certificate(
        self,
        session: Session,
        csr_pem: str,
        *,
        station_id: str,
        actor: audit.Actor,
        now: datetime,
    ) -> IssuedCertificate:
        """Sign a station's CSR (profile 3 client certificate, CN = ``station_id``).

        Raises:
            CsrRejected: the CSR is malformed, weak, or names another station; the refusal is
                audited in its own transaction.
        """
        try:
            if not STATION_ID.fullmatch(station_id):
                raise CsrRejected(f"not a valid station id: {station_id[:60]!r}")
            checked = check_csr(
                load_csr(csr_pem),
                profile=STATION,
                expected_common_name=station_id,
                expected_organization=None,
            )
        except CsrRejected as exc:
            self.record_refusal(actor, "pki.certificate_refused", station_id, exc.reason)
            raise
        issuer = self.authority(CARole.STATION)
        cert = issue_certificate(
            checked,
            issuer=issuer,
            serial=new_serial_number(),
            now=now,
            revocation_urls=self.revocation_urls(CARole.STATION),
        )
        return self.store(session, cert, STATION, actor, station_id=station_id)

    def issue_user_certificate(
        self,
        session: Session,
        csr_pem: str,
        *,
        user_id: str,
        station_ids: list[str],
        validity: timedelta,
        actor: audit.Actor,
        now: datetime,
    ) -> IssuedCertificate:
        """A short-lived user certificate (CN = ``user_id``) bound to ``station_ids`` by SAN.

        Raises:
            CsrRejected: the CSR is refused; IssuanceRefused: no stations, or a validity
                outside (0, 7 days].
        """
        try:
            if not station_ids:
                raise IssuanceRefused("a user certificate must name at least one station")
            if not timedelta(0) < validity <= USER.validity:
                raise IssuanceRefused(f"validity must be more than 0 and at most {USER.validity}")
            profile = replace(USER, validity=validity)
            checked = check_csr(
                load_csr(csr_pem),
                profile=profile,
                expected_common_name=None,
                expected_organization=None,
            )
        except (CsrRejected, IssuanceRefused) as exc:
            self.record_refusal(actor, "pki.certificate_refused", user_id, str(exc))
            raise
        issuer = self.authority(CARole.USER)
        subject = x509.Name(
            [
                *issuer.name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME),
                x509.NameAttribute(NameOID.COMMON_NAME, user_id),
            ]
        )
        cert = issue_certificate(
            checked,
            issuer=issuer,
            serial=new_serial_number(),
            now=now,
            subject=subject,
            san=user_subject_alt_names(user_id, station_ids),
            revocation_urls=self.revocation_urls(CARole.USER),
        )
        return self.store(session, cert, profile, actor, user_id=user_id)

    def store(
        self,
        session: Session,
        cert: x509.Certificate,
        profile: LeafProfile,
        actor: audit.Actor,
        *,
        station_id: str | None = None,
        user_id: str | None = None,
    ) -> IssuedCertificate:
        """Record a certificate this CA signed and audit the issuance (commits with ``session``)."""
        issuer = self.authority(profile.issuer_role)
        serial_hex = serial_to_hex(cert.serial_number)
        common_name = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        pem = certificate_to_pem(cert)
        session.add(
            IssuedCertificateRow(
                serial_hex=serial_hex,
                issuer_role=issuer.role.value,
                profile=profile.name,
                subject_cn=str(common_name),
                station_id=station_id,
                user_id=user_id,
                not_before=cert.not_valid_before_utc,
                not_after=cert.not_valid_after_utc,
                certificate_pem=pem,
            )
        )
        audit.record(
            session,
            actor,
            "pki.certificate_issued",
            object_type="certificate",
            object_id=serial_hex,
            profile=profile.name,
            station_id=station_id,
            user_id=user_id,
            not_after=cert.not_valid_after_utc,
        )
        return IssuedCertificate(
            serial_hex=serial_hex,
            certificate_pem=pem,
            chain_pem=chain_pem(cert, [issuer.certificate]),
            root_pem=self.root_pem(),
            not_after=cert.not_valid_after_utc,
        )

    def record_refusal(
        self, actor: audit.Actor, action: str, object_id: str, reason: str, **detail: object
    ) -> None:
        """Audit a refusal in its own transaction, so it survives the caller's rollback."""
        with Session(self.engine) as session:
            audit.record(
                session,
                actor,
                action,
                object_type="certificate",
                object_id=object_id[:200],
                outcome="failure",
                reason=reason,
                **detail,
            )
            session.commit()
