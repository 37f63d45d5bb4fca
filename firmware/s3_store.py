"""Firmware images in S3 (``firmware.storage.ArtifactStore`` over boto3).

Objects live under ``<prefix><key>``. A put streams: small files go up in one PutObject, bigger
ones as a multipart upload of ``part_size`` parts (S3 wants at least 5 MiB but the last),
aborted on any failure so no half-written object or orphaned parts stay behind. Reads use
ranged GetObject and stream its body; ``presigned_url`` signs a GetObject for the stations (or
the platform's short redirect URL, whose target it is).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from firmware.storage import CHUNK, ArtifactMissing, checked_key

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

MIN_PART = 5 * 1024 * 1024
DEFAULT_PART = 8 * 1024 * 1024


def s3_client(region: str | None = None, endpoint_url: str | None = None) -> S3Client:
    """A boto3 S3 client that signs with SigV4 (presigned URLs name their own expiry)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        region_name=region,
        endpoint_url=endpoint_url,
        config=Config(signature_version="s3v4", retries={"max_attempts": 3, "mode": "standard"}),
    )


class S3ArtifactStore:
    """Images as S3 objects in one bucket, under one prefix."""

    def __init__(
        self,
        client: S3Client,
        bucket: str,
        prefix: str = "",
        *,
        part_size: int = DEFAULT_PART,
    ) -> None:
        if part_size < MIN_PART:
            raise ValueError(f"S3 multipart parts are at least {MIN_PART} bytes")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.part_size = part_size

    def object_key(self, key: str) -> str:
        return self.prefix + checked_key(key)

    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        name = self.object_key(key)
        buffer = bytearray()
        iterator = iter(chunks)
        for chunk in iterator:
            buffer += chunk
            if len(buffer) >= self.part_size:
                return self._multipart(name, buffer, iterator)
        self.client.put_object(Bucket=self.bucket, Key=name, Body=bytes(buffer))
        return len(buffer)

    def _multipart(self, name: str, buffer: bytearray, rest: Iterator[bytes]) -> int:
        upload = self.client.create_multipart_upload(Bucket=self.bucket, Key=name)
        upload_id = upload["UploadId"]
        parts: list[dict[str, Any]] = []
        size = 0

        def send(data: bytes) -> None:
            nonlocal size
            answer = self.client.upload_part(
                Bucket=self.bucket,
                Key=name,
                UploadId=upload_id,
                PartNumber=len(parts) + 1,
                Body=data,
            )
            parts.append({"ETag": answer["ETag"], "PartNumber": len(parts) + 1})
            size += len(data)

        try:
            for chunk in rest:
                buffer += chunk
                while len(buffer) >= self.part_size:
                    send(bytes(buffer[: self.part_size]))
                    del buffer[: self.part_size]
            while len(buffer) >= self.part_size:  # the first chunk alone can exceed one part
                send(bytes(buffer[: self.part_size]))
                del buffer[: self.part_size]
            if buffer or not parts:
                send(bytes(buffer))
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=name,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},  # type: ignore[typeddict-item]
            )
        except BaseException:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload_id)
            raise
        return size

    def size(self, key: str) -> int:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except self.client.exceptions.ClientError as exc:
            if _missing(exc):
                raise ArtifactMissing(key) from exc
            raise
        return int(head["ContentLength"])

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        if end is not None and end <= start:
            return iter(())
        byte_range = f"bytes={start}-" if end is None else f"bytes={start}-{end - 1}"
        try:
            answer = self.client.get_object(
                Bucket=self.bucket, Key=self.object_key(key), Range=byte_range
            )
        except self.client.exceptions.NoSuchKey as exc:
            raise ArtifactMissing(key) from exc
        except self.client.exceptions.ClientError as exc:
            if _missing(exc):
                raise ArtifactMissing(key) from exc
            if exc.response.get("Error", {}).get("Code") == "InvalidRange":
                return iter(())
            raise
        return _stream(answer["Body"])

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key))

    def presigned_url(self, key: str, *, expires_in: int) -> str | None:
        url: str = self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": self.object_key(key)},
            ExpiresIn=expires_in,
        )
        return url


def _missing(exc: Any) -> bool:
    code = str(exc.response.get("Error", {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NotFound")


def _stream(body: Any) -> Iterator[bytes]:
    try:
        while chunk := body.read(CHUNK):
            yield chunk
    finally:
        body.close()
