"""Firmware images for the delivery tests: a family, bytes in a store, the image row."""

from __future__ import annotations

import hashlib
import os
from datetime import timedelta

import boto3
from sqlmodel import Session, select

from app.platform import Platform
from common.clock import utcnow
from enrollment.tables import HardwareFamilyRow
from firmware.s3_store import S3ArtifactStore
from firmware.storage import CHUNK
from firmware.tables import FirmwareImageRow

HOUR = timedelta(hours=1)


def image_bytes(size: int, seed: int = 1) -> bytes:
    """``size`` bytes that differ at every offset, so a wrong range shows."""
    block = hashlib.sha256(str(seed).encode()).digest() * 2048
    return (block * (size // len(block) + 1))[:size]


def add_image(
    platform: Platform,
    content: bytes,
    *,
    version: str = "1.2.0",
    filename: str = "wb11-1.2.0.bin",
    family: str = "wallbox-11",
) -> FirmwareImageRow:
    """Store ``content`` in the platform's artifact store and add its image row."""
    store = platform.artifacts
    with Session(platform.engine, expire_on_commit=False) as session:
        row = session.exec(
            select(HardwareFamilyRow).where(HardwareFamilyRow.name == family)
        ).first()
        if row is None:
            row = HardwareFamilyRow(name=family, vendor="ACME", model="WB11", ocpp_version="2.0.1")
            session.add(row)
            session.flush()
        sha256 = hashlib.sha256(content).hexdigest()
        key = f"{row.id}/{sha256}"
        store.put(key, [content[i : i + CHUNK] for i in range(0, len(content), CHUNK)])
        assert row.id is not None
        image = FirmwareImageRow(
            family_id=row.id,
            version=version,
            filename=filename,
            size=len(content),
            sha256=sha256,
            md5=hashlib.md5(content).hexdigest(),  # noqa: S324 - PublishFirmware's checksum
            storage_key=key,
        )
        session.add(image)
        session.commit()
        return image


def window(hours_before: float = 0.1, hours_after: float = 1.0) -> dict[str, object]:
    now = utcnow()
    return {"valid_from": now - hours_before * HOUR, "valid_until": now + hours_after * HOUR}


def s3_store(bucket: str, region: str = "eu-central-1") -> S3ArtifactStore:
    """The platform's S3 store over a fresh bucket (boto3, under moto)."""
    client = boto3.client("s3", region_name=region)
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    return S3ArtifactStore(client, bucket)


def session_credentials(token_length: int = 1024) -> dict[str, str]:
    """Temporary (session) AWS credentials as ECS task roles hand them out: their session
    token is about a kilobyte (moto's own STS tokens are 356 characters)."""
    token = (hashlib.sha512(b"session").hexdigest() * (token_length // 128 + 1))[:token_length]
    return {
        "AWS_ACCESS_KEY_ID": "ASIAEXAMPLEFIRMWARE1",
        "AWS_SECRET_ACCESS_KEY": "secret-" + "x" * 33,
        "AWS_SESSION_TOKEN": token,
        "AWS_DEFAULT_REGION": "eu-central-1",
    }


def clear_aws_profile() -> None:
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        os.environ.pop(name, None)
