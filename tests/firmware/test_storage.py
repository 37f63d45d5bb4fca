"""Both artifact stores behind one interface: local files and S3 (moto), same behaviour."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

from firmware.s3_store import MIN_PART, S3ArtifactStore, s3_client
from firmware.storage import ArtifactMissing, ArtifactStore, LocalArtifactStore

BUCKET = "chargeline-firmware"


@pytest.fixture
def s3() -> Iterator[S3ArtifactStore]:
    with mock_aws():
        client = s3_client("eu-west-1")
        client.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        yield S3ArtifactStore(client, BUCKET, "firmware", part_size=MIN_PART)


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    if request.param == "local":
        return LocalArtifactStore(tmp_path / "firmware")
    s3_store: S3ArtifactStore = request.getfixturevalue("s3")
    return s3_store


def _chunks(data: bytes, size: int = 100_000) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def test_a_put_is_read_back_whole_and_by_range(store: ArtifactStore) -> None:
    data = os.urandom(300_001)
    assert store.put("1/abc", _chunks(data)) == len(data)

    assert store.size("1/abc") == len(data)
    assert b"".join(store.read("1/abc")) == data
    assert b"".join(store.read("1/abc", 1000, 2000)) == data[1000:2000]
    assert b"".join(store.read("1/abc", 299_999)) == data[299_999:]
    assert b"".join(store.read("1/abc", 10, 10)) == b""


def test_missing_keys_raise_and_deleting_twice_is_harmless(store: ArtifactStore) -> None:
    with pytest.raises(ArtifactMissing):
        store.size("1/none")
    with pytest.raises(ArtifactMissing):
        b"".join(store.read("1/none"))
    store.put("1/x", [b"abc"])
    store.delete("1/x")
    store.delete("1/x")
    with pytest.raises(ArtifactMissing):
        store.size("1/x")


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a//b", ".hidden", "a/../b", "x" * 300])
def test_hostile_keys_are_refused(store: ArtifactStore, key: str) -> None:
    with pytest.raises(ValueError, match="not a valid artifact key"):
        store.put(key, [b"x"])


def test_an_empty_file_is_stored(store: ArtifactStore) -> None:
    assert store.put("1/empty", []) == 0
    assert store.size("1/empty") == 0


def test_a_big_file_goes_up_in_parts_with_memory_bounded_by_the_part(
    s3: S3ArtifactStore,
) -> None:
    part = MIN_PART
    data = os.urandom(part * 2 + 12_345)
    sent: list[int] = []
    original = s3.client.upload_part

    def counting(**kwargs: object) -> object:
        body = kwargs["Body"]
        assert isinstance(body, bytes)
        sent.append(len(body))
        return original(**kwargs)  # type: ignore[arg-type]

    s3.client.upload_part = counting  # type: ignore[method-assign]

    assert s3.put("1/big", _chunks(data, 1_000_000)) == len(data)

    assert sent == [part, part, 12_345]
    answer = s3.client.get_object(Bucket=BUCKET, Key="firmware/1/big")
    assert hashlib.sha256(answer["Body"].read()).digest() == hashlib.sha256(data).digest()


def test_a_failing_multipart_upload_is_aborted_and_leaves_no_object(s3: S3ArtifactStore) -> None:
    def failing() -> Iterator[bytes]:
        yield os.urandom(MIN_PART + 1)
        raise OSError("the staged file went away")

    with pytest.raises(OSError, match="went away"):
        s3.put("1/broken", failing())

    assert s3.client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    with pytest.raises(ArtifactMissing):
        s3.size("1/broken")


def test_a_presigned_url_serves_the_object_whole_and_by_range(
    s3: S3ArtifactStore,
) -> None:
    import requests  # moto answers requests' HTTP calls inside mock_aws

    s3.put("1/img", [b"firmware bytes"])

    url = s3.presigned_url("1/img", expires_in=300)

    assert url is not None and "X-Amz-Signature=" in url and "X-Amz-Expires=300" in url
    assert "/firmware/1/img" in url
    assert requests.get(url, timeout=5).content == b"firmware bytes"
    ranged = requests.get(url, headers={"Range": "bytes=0-7"}, timeout=5)
    assert ranged.status_code == 206 and ranged.content == b"firmware"


def test_the_local_store_has_no_presigned_urls(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    store.put("1/a", [b"x"])
    assert store.presigned_url("1/a", expires_in=60) is None


def test_settings_choose_the_store(tmp_path: Path) -> None:
    from app.platform import build_artifact_store
    from app.settings import Settings

    local = build_artifact_store(Settings(data_dir=tmp_path))
    assert isinstance(local, LocalArtifactStore) and local.root == tmp_path / "firmware"
    with mock_aws():
        chosen = build_artifact_store(
            Settings(
                data_dir=tmp_path,
                firmware_storage="s3",
                firmware_s3_bucket=BUCKET,
                aws_region="eu-west-1",
            )
        )
    assert isinstance(chosen, S3ArtifactStore)
    assert chosen.bucket == BUCKET and chosen.prefix == "firmware/"
    with pytest.raises(ValueError, match="FIRMWARE_S3_BUCKET"):
        Settings(data_dir=tmp_path, firmware_storage="s3")
