"""The CA's tables: CA material (one row per role) and every certificate issued.

``ca_material.role`` is unique, so two processes initialising at once cannot both create a
hierarchy: the second insert fails and that process loads the first one's. Private keys are
stored only as sealed blobs (``pki.protection.seal_private_key``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, LargeBinary, String, Text
from sqlmodel import Field, SQLModel

from app.identity.tables import utc_column
from common.clock import utcnow


class CertificateStatus(StrEnum):
    """An issued certificate's state; ``revoked`` covers superseded ones (reason superseded)."""

    ISSUED = "issued"
    REVOKED = "revoked"


class CAMaterial(SQLModel, table=True):
    """A CA certificate and its sealed private key."""

    __tablename__ = "ca_material"

    id: int | None = Field(default=None, primary_key=True)
    role: str = Field(sa_column=Column(String(32), unique=True, nullable=False))
    serial_hex: str = Field(max_length=40)
    certificate_pem: str = Field(sa_column=Column(Text, nullable=False))
    sealed_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class IssuedCertificateRow(SQLModel, table=True):
    """One leaf certificate the platform signed, with its revocation state."""

    __tablename__ = "issued_certificates"

    id: int | None = Field(default=None, primary_key=True)
    serial_hex: str = Field(sa_column=Column(String(40), unique=True, nullable=False))
    issuer_role: str = Field(max_length=32, index=True)
    profile: str = Field(max_length=32, index=True)
    subject_cn: str = Field(max_length=200)
    station_id: str | None = Field(default=None, max_length=48, index=True)
    user_id: str | None = Field(default=None, max_length=36, index=True)
    not_before: datetime = Field(sa_column=utc_column())
    not_after: datetime = Field(sa_column=utc_column(index=True))
    status: str = Field(default=CertificateStatus.ISSUED.value, max_length=16, index=True)
    revoked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    revocation_reason: str | None = Field(default=None, max_length=32)
    certificate_pem: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class FirmwareSigningKeyRow(SQLModel, table=True):
    """The platform's firmware-signing certificate of one algorithm and its sealed key.

    One per algorithm (``rsa-pss-sha256``, ``ecdsa-sha256``): the unique column makes two
    processes that create it at once end with one. Issued directly by the manufacturer root.
    """

    __tablename__ = "firmware_signing_keys"

    id: int | None = Field(default=None, primary_key=True)
    algorithm: str = Field(sa_column=Column(String(32), unique=True, nullable=False))
    serial_hex: str = Field(max_length=40)
    certificate_pem: str = Field(sa_column=Column(Text, nullable=False))
    sealed_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    not_after: datetime = Field(sa_column=utc_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
