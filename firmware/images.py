"""Accepting, re-verifying and deleting firmware images.

An image is accepted only whole and checked: the staged bytes (``firmware.staging``) match any
declared sha256/MD5, the family exists and has no image of that version, and the image is
either signed by the platform's firmware-signing key or arrives with a signature whose signer
was issued directly by the family's root (vendor's or platform's), is codeSigning, valid now
and not revoked. Only then are the bytes stored, under a key of their own, and the row
committed; a refusal or a lost race (two uploads of one version: the unique constraint decides)
leaves no row and no file behind.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from firmware import catalog
from firmware.audit_port import AuditFn, record
from firmware.errors import (
    ChecksumMismatch,
    DuplicateVersion,
    ImageInUse,
    ImageUnreadable,
    InvalidVersion,
    MalformedUpload,
    SigningUnavailable,
)
from firmware.ports import ImageSigner
from firmware.signatures import SignatureAlgorithm, SignatureError, verify_image
from firmware.staging import StagedImage
from firmware.storage import ArtifactMissing, ArtifactStore
from firmware.tables import FirmwareImageRow
from firmware.versions import is_parseable

VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.+_~-]{0,49}$")
FILENAME = re.compile(r"^[^/\\\x00-\x1f]{1,255}$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
MAX_NOTES = 20_000


@dataclass(frozen=True, slots=True)
class ImageUpload:
    """What comes with an image's bytes. Exactly one of ``sign``, ``signature`` (with
    ``certificate``) or ``unsigned`` says how it is signed."""

    family: str
    version: str
    filename: str
    release_notes: str = ""
    sha256: str | None = None
    md5: str | None = None
    sign: bool = False
    signature: str | None = None
    certificate: str | None = None
    unsigned: bool = False

    def checked(self) -> ImageUpload:
        """Raises InvalidVersion or MalformedUpload for fields that cannot be right."""
        if not VERSION.match(self.version) or not is_parseable(self.version):
            raise InvalidVersion(
                "a version is a semantic version of at most 50 characters (1.4.2, v2.0.0-rc.1),"
                f" not {self.version[:60]!r}",
                field="version",
            )
        if not FILENAME.match(self.filename):
            raise MalformedUpload(
                "the file name must be 1 to 255 characters, no path", field="file"
            )
        if len(self.release_notes) > MAX_NOTES:
            raise MalformedUpload(
                f"release notes are at most {MAX_NOTES} characters", field="notes"
            )
        for name, value, pattern in (("sha256", self.sha256, HEX64), ("md5", self.md5, HEX32)):
            if value is not None and not pattern.match(value.lower()):
                raise MalformedUpload(
                    f"{name} must be {pattern.pattern[6:8]} hex digits", field=name
                )
        presigned = self.signature is not None or self.certificate is not None
        if presigned and (self.signature is None or self.certificate is None):
            raise MalformedUpload("a pre-signed image needs both signature and certificate")
        if [self.sign, presigned, self.unsigned].count(True) != 1:
            raise MalformedUpload(
                "say how the image is signed: sign (by the platform), signature and"
                " certificate (pre-signed), or unsigned"
            )
        return self


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome of re-verifying a stored image."""

    valid: bool
    problem: str | None = None  # the error's class name, e.g. SignatureMismatch
    detail: str | None = None
    signature_algorithm: str | None = None


def accept_image(
    session: Session,
    upload: ImageUpload,
    staged: StagedImage,
    *,
    store: ArtifactStore,
    signer: ImageSigner,
    actor: Any,
    now: datetime,
    audit: AuditFn = None,
) -> FirmwareImageRow:
    """Check, store and record one image (commits ``session``); see the module docstring.

    Raises:
        UnknownFamily, InvalidVersion, MalformedUpload, ChecksumMismatch, DuplicateVersion,
        SigningUnavailable, SignatureError (its subclasses).
    """
    upload.checked()
    staged.finish()
    family = catalog.family(session, upload.family)
    assert family.id is not None
    if staged.size == 0:
        raise MalformedUpload("the image is empty", field="file")
    if upload.sha256 is not None and upload.sha256.lower() != staged.sha256:
        raise ChecksumMismatch(
            f"the declared sha256 {upload.sha256.lower()} is not that of the received"
            f" {staged.size} bytes ({staged.sha256}): corrupt, truncated or the wrong file"
        )
    if upload.md5 is not None and upload.md5.lower() != staged.md5:
        raise ChecksumMismatch(f"the declared MD5 is not that of the received bytes ({staged.md5})")
    if catalog.image_by_version(session, family.id, upload.version) is not None:
        raise DuplicateVersion(family.name, upload.version)
    signature, certificate, algorithm = _signature(
        session, upload, staged, family.id, signer, actor, now
    )

    key = f"{family.id}/{staged.sha256}-{secrets.token_hex(6)}"
    row = FirmwareImageRow(
        family_id=family.id,
        version=upload.version,
        filename=upload.filename,
        size=staged.size,
        sha256=staged.sha256,
        md5=staged.md5,
        storage_key=key,
        signature=signature,
        signing_certificate=certificate,
        signature_algorithm=algorithm,
        release_notes=upload.release_notes,
        created_by=_name(actor)[:80],
        created_at=now,
    )
    stored = store.put(key, staged.chunks())
    try:
        if stored != staged.size:
            raise ImageUnreadable(f"the store kept {stored} of {staged.size} bytes")
        session.add(row)
        session.flush()
        record(
            audit,
            session,
            actor,
            "firmware.image_uploaded",
            family.name,
            image_id=row.id,
            version=row.version,
            sha256=row.sha256,
            size=row.size,
            signed_by="platform" if upload.sign else ("none" if upload.unsigned else "uploader"),
            signature_algorithm=algorithm,
        )
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        store.delete(key)
        raise DuplicateVersion(family.name, upload.version) from exc
    except BaseException:
        session.rollback()
        store.delete(key)
        raise
    return row


def _signature(
    session: Session,
    upload: ImageUpload,
    staged: StagedImage,
    family_id: int,
    signer: ImageSigner,
    actor: Any,
    now: datetime,
) -> tuple[str | None, str | None, str | None]:
    algorithm = catalog.signature_algorithm(session, family_id)
    if upload.unsigned:
        return None, None, None
    if upload.sign:
        if catalog.vendor_root_pem(session, family_id) is not None:
            raise SigningUnavailable(
                f"family {upload.family!r} verifies images under its vendor's own root; the"
                " platform cannot sign for it: upload the image pre-signed"
            )
        made = signer.sign_firmware(
            session, staged.sha256_digest, algorithm, actor_name=_name(actor), now=now
        )
        return made.signature, made.certificate_pem, made.algorithm.value
    assert upload.signature is not None and upload.certificate is not None
    verified = verify_image(
        staged.sha256_digest,
        upload.signature,
        upload.certificate,
        _root(session, family_id, signer),
        now=now,
        is_revoked=signer.is_revoked,
        algorithm=algorithm,
    )
    return upload.signature.strip(), upload.certificate.strip() + "\n", verified.algorithm.value


def _root(session: Session, family_id: int, signer: ImageSigner) -> str:
    return catalog.vendor_root_pem(session, family_id) or signer.manufacturer_root_pem()


def reverify(
    session: Session,
    image_id: int,
    *,
    store: ArtifactStore,
    signer: ImageSigner,
    actor: Any,
    now: datetime,
    audit: AuditFn = None,
) -> Verification:
    """Read the stored bytes again and check digest, size and signature as of ``now``."""
    row = catalog.image(session, image_id)
    family = catalog.family_by_id(session, row.family_id)
    try:
        staged_digest = _stored_digest(store, row)
        if row.signature is not None and row.signing_certificate is not None:
            verify_image(
                staged_digest,
                row.signature,
                row.signing_certificate,
                _root(session, row.family_id, signer),
                now=now,
                is_revoked=signer.is_revoked,
            )
        result = Verification(True, signature_algorithm=row.signature_algorithm)
    except (SignatureError, ImageUnreadable) as exc:
        result = Verification(False, type(exc).__name__, str(exc), row.signature_algorithm)
    record(
        audit,
        session,
        actor,
        "firmware.image_verified",
        family.name,
        image_id=row.id,
        version=row.version,
        valid=result.valid,
        problem=result.problem,
    )
    return result


def _stored_digest(store: ArtifactStore, row: FirmwareImageRow) -> bytes:
    import hashlib

    digest = hashlib.sha256()
    size = 0
    try:
        for chunk in store.read(row.storage_key):
            digest.update(chunk)
            size += len(chunk)
    except ArtifactMissing as exc:
        raise ImageUnreadable(f"the stored bytes of image {row.id} are missing") from exc
    if size != row.size or digest.hexdigest() != row.sha256:
        raise ImageUnreadable(
            f"the stored bytes of image {row.id} differ from those uploaded"
            f" ({size} bytes, sha256 {digest.hexdigest()})"
        )
    return digest.digest()


def delete_image(
    session: Session,
    image_id: int,
    *,
    store: ArtifactStore,
    actor: Any,
    audit: AuditFn = None,
) -> None:
    """Delete an image no channel carries (commits; the bytes go after the commit).

    Raises:
        UnknownImage, ImageInUse.
    """
    row = catalog.image(session, image_id)
    carrying = catalog.channels_carrying(session, image_id)
    if carrying:
        raise ImageInUse(
            f"image {image_id} ({row.version}) is on channel(s) {', '.join(carrying)}:"
            " put another image there first"
        )
    family = catalog.family_by_id(session, row.family_id)
    key = row.storage_key
    session.delete(row)
    record(
        audit,
        session,
        actor,
        "firmware.image_deleted",
        family.name,
        image_id=image_id,
        version=row.version,
    )
    try:
        session.commit()
    except IntegrityError as exc:  # something (a rollout) still refers to it
        session.rollback()
        raise ImageInUse(f"image {image_id} is still referred to: {exc.orig}") from exc
    store.delete(key)


def _name(actor: Any) -> str:
    return actor if isinstance(actor, str) else str(getattr(actor, "name", actor))


__all__ = [
    "ImageUpload",
    "SignatureAlgorithm",
    "Verification",
    "accept_image",
    "delete_image",
    "reverify",
]
