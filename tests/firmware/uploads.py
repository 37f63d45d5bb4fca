"""Helpers for the firmware API tests: families, uploads and what is left on disk."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.platform import Platform
from common.clock import utcnow
from enrollment import repository
from firmware.signatures import sign_image
from firmware.tables import FirmwareImageRow
from tests.firmware.signing_pki import Signer

IMAGE = os.urandom(200_000)


def add_family(platform: Platform, name: str = "wallbox", channel: str = "stable") -> int:
    with Session(platform.engine) as session:
        row = repository.add_family(
            session, name=name, vendor="ACME", model="WB", ocpp_version="1.6",
            default_channel=channel,
        )  # fmt: skip
        session.commit()
        assert row.id is not None
        return row.id


def ready(platform: Platform, *families: str) -> None:
    """The CA initialised and the families made."""
    platform.ca.initialize(now=utcnow())
    for name in families or ("wallbox",):
        add_family(platform, name)


def upload(
    client: TestClient | httpx.Client,
    headers: dict[str, str],
    data: bytes = IMAGE,
    *,
    filename: str = "fw.bin",
    **fields: str,
) -> httpx.Response:
    form = {"family": "wallbox", "version": "1.0.0", **fields}
    if "signature" not in form and "unsigned" not in form and "sign" not in form:
        form["sign"] = "true"
    return client.post(
        "/api/v1/firmware/images", data=form, files={"file": (filename, data)}, headers=headers
    )


def presigned(signer: Signer, data: bytes = IMAGE) -> dict[str, str]:
    return {"signature": sign_image([data], signer.key), "certificate": signer.certificate_pem}


def image_count(platform: Platform) -> int:
    with Session(platform.engine) as session:
        return session.exec(select(func.count()).select_from(FirmwareImageRow)).one()


def stored_files(platform: Platform) -> list[Path]:
    """Every file under the firmware store and the staging directory."""
    settings = platform.settings
    roots = [settings.firmware_dir, settings.data_dir / "staging"]
    return sorted(p for root in roots if root.exists() for p in root.rglob("*") if p.is_file())


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
