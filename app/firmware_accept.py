"""Accepting a firmware image with the platform's store, signer, clock and audit trail: the one
call the REST upload and ``chargeline firmware upload`` share."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from app import audit
from app.platform import Platform
from common.clock import utcnow
from firmware import images
from firmware.staging import StagedImage
from firmware.tables import FirmwareImageRow


def accept_upload(
    platform: Platform,
    session: Session,
    upload: images.ImageUpload,
    staged: StagedImage,
    actor: Any,
) -> FirmwareImageRow:
    """See :func:`firmware.images.accept_image` (commits ``session``; raises its errors)."""
    return images.accept_image(
        session,
        upload,
        staged,
        store=platform.artifacts,
        signer=platform.firmware_signer,
        actor=actor,
        now=utcnow(),
        audit=audit.record,
    )
