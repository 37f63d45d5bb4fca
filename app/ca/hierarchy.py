"""The CA hierarchies kept in the database: created once, loaded on first use, keys sealed.

Both hierarchies (DESIGN.md "PKI") are created by ``initialize`` unless they exist; the
unique ``ca_material.role`` makes two processes initialising at once end with one hierarchy.
CA private keys are sealed with the key-encryption key of ``app.ca.keys`` before they are
stored. Issued certificates name their CRL and OCSP URLs (RFC 5280 4.2.1.13, 4.2.2.1) under
``settings.api_url``.
"""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app import audit
from app.ca.errors import CANotInitialized
from app.ca.keys import key_encryptor, serial_to_hex
from app.ca.tables import CAMaterial
from app.settings import Settings
from pki import (
    CARole,
    IssuingCA,
    KeyEncryptor,
    KeyProtectionError,
    RevocationUrls,
    certificate_to_pem,
    create_intermediate,
    create_manufacturer_root,
    create_operator_root,
    generate_private_key,
    load_certificate,
    new_serial_number,
    open_private_key,
    seal_private_key,
)
from pki.hierarchy import INTERMEDIATE_ROLES


class CAHierarchy:
    """The operator and manufacturer hierarchies, over the platform's database."""

    def __init__(
        self,
        platform_settings: Settings,
        engine: Engine,
        *,
        encryptor: KeyEncryptor | None = None,
    ) -> None:
        self.settings = platform_settings
        self.engine = engine
        self._encryptor = encryptor
        self._cas: dict[CARole, IssuingCA] | None = None
        self._lock = threading.Lock()

    @property
    def encryptor(self) -> KeyEncryptor:
        if self._encryptor is None:
            self._encryptor = key_encryptor(self.settings)
        return self._encryptor

    def initialize(self, *, now: datetime) -> bool:
        """Create both hierarchies unless they exist; True when this call created them."""
        if self._load():
            return False
        authorities = self._create_hierarchy(now)
        rows = [
            CAMaterial(
                role=ca.role.value,
                serial_hex=serial_to_hex(ca.certificate.serial_number),
                certificate_pem=certificate_to_pem(ca.certificate),
                sealed_key=seal_private_key(ca.private_key, self.encryptor),
            )
            for ca in authorities
        ]
        try:
            with Session(self.engine) as session:
                session.add_all(rows)
                audit.record(
                    session,
                    audit.Actor("system"),
                    "pki.initialized",
                    object_type="ca",
                    operator=self.settings.operator_name,
                    roles=[ca.role.value for ca in authorities],
                )
                session.commit()
        except IntegrityError:
            if self._load():
                return False
            raise
        self._cas = {ca.role: ca for ca in authorities}
        return True

    def _create_hierarchy(self, now: datetime) -> list[IssuingCA]:
        name = self.settings.operator_name
        root = create_operator_root(
            operator_name=name, key=generate_private_key(), serial=new_serial_number(), now=now
        )
        crl_url = self.crl_url(CARole.OPERATOR_ROOT)
        intermediates = [
            create_intermediate(
                root,
                role=role,
                key=generate_private_key(),
                serial=new_serial_number(),
                now=now,
                crl_url=crl_url,
            )
            for role in INTERMEDIATE_ROLES
        ]
        manufacturer = create_manufacturer_root(
            manufacturer_name=name, key=generate_private_key(), serial=new_serial_number(), now=now
        )
        return [root, *intermediates, manufacturer]

    def _load(self) -> bool:
        with self._lock:
            if self._cas is not None:
                return True
            with Session(self.engine) as session:
                rows = session.exec(select(CAMaterial)).all()
            if not rows:
                return False
            try:
                self._cas = {
                    CARole(row.role): IssuingCA(
                        CARole(row.role),
                        load_certificate(row.certificate_pem),
                        open_private_key(row.sealed_key, self.encryptor),
                    )
                    for row in rows
                }
            except KeyProtectionError as exc:
                raise KeyProtectionError(f"CA keys do not open with this KEK: {exc}") from exc
            return True

    def authority(self, role: CARole) -> IssuingCA:
        """The CA of ``role`` (loads the hierarchy on first use)."""
        if not self._load():
            raise CANotInitialized()
        assert self._cas is not None
        return self._cas[role]

    @property
    def initialized(self) -> bool:
        return self._load()

    def crl_url(self, role: CARole) -> str:
        return f"{self.settings.api_url}/pki/crl/{role.value}.crl"

    @property
    def ocsp_url(self) -> str:
        return f"{self.settings.api_url}/pki/ocsp"

    def revocation_urls(self, role: CARole) -> RevocationUrls:
        return RevocationUrls(crl_url=self.crl_url(role), ocsp_url=self.ocsp_url)

    def root_pem(self) -> str:
        return certificate_to_pem(self.authority(CARole.OPERATOR_ROOT).certificate)

    def manufacturer_root_pem(self) -> str:
        return certificate_to_pem(self.authority(CARole.MANUFACTURER_ROOT).certificate)

    def chain_pem(self, role: CARole) -> str:
        """The CA certificate of ``role``, followed by the operator root for intermediates."""
        pem = certificate_to_pem(self.authority(role).certificate)
        return pem + self.root_pem() if role in INTERMEDIATE_ROLES else pem
