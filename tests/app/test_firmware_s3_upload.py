"""Uploads with S3 storage chosen in the settings: the image lands in the bucket, a refusal
leaves no object behind (moto)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from moto import mock_aws

from app.main import create_app
from app.platform import Platform, build_platform
from firmware.s3_store import S3ArtifactStore, s3_client
from tests.conftest import make_settings
from tests.factories import admin_headers
from tests.firmware.uploads import IMAGE, image_count, ready, upload
from tests.problems import assert_problem

BUCKET = "fleet-firmware"


@pytest.fixture
def s3_platform(tmp_path: Path, database_url: str) -> Iterator[Platform]:
    with mock_aws():
        s3_client("eu-central-1").create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"}
        )
        settings = make_settings(
            tmp_path,
            database_url,
            firmware_storage="s3",
            firmware_s3_bucket=BUCKET,
            firmware_s3_prefix="images",
            aws_region="eu-central-1",
        )
        platform = build_platform(settings)
        yield platform
        platform.close()


def _objects() -> list[str]:
    listed = s3_client("eu-central-1").list_objects_v2(Bucket=BUCKET)
    return [item["Key"] for item in listed.get("Contents", [])]


def test_an_upload_lands_in_the_bucket_and_a_refusal_leaves_nothing(
    s3_platform: Platform,
) -> None:
    assert isinstance(s3_platform.artifacts, S3ArtifactStore)
    with TestClient(create_app(platform=s3_platform)) as client:
        ready(s3_platform)
        admin = admin_headers(s3_platform, client)

        created = upload(client, admin)
        assert created.status_code == 201, created.text
        assert_problem(upload(client, admin, b"other"), 409, "firmware-version-exists")
        assert_problem(
            upload(client, admin, version="1.0.1", sha256="f" * 64), 422, "checksum-mismatch"
        )

        (key,) = _objects()
        assert key.startswith("images/") and created.json()["sha256"] in key
        body = s3_client("eu-central-1").get_object(Bucket=BUCKET, Key=key)["Body"].read()
        assert hashlib.sha256(body).digest() == hashlib.sha256(IMAGE).digest()
        verdict = client.post(
            f"/api/v1/firmware/images/{created.json()['id']}/verify", headers=admin
        ).json()
        assert verdict["valid"] is True
        deleted = client.delete(f"/api/v1/firmware/images/{created.json()['id']}", headers=admin)
        assert deleted.status_code == 204
        assert _objects() == [] and image_count(s3_platform) == 0
