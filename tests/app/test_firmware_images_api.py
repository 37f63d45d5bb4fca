"""Firmware images over REST: upload (platform-signed or pre-signed), refusals that store
nothing, the size limit while streaming, concurrent uploads, list, verify, delete."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.audit import AuditEntry
from app.main import create_app
from app.platform import Platform, build_platform
from app.settings import Settings
from common.clock import utcnow
from firmware.tables import FirmwareImageRow
from pki import IssuingCA, KeyKind, RevocationReason
from tests.e2e.http import TIMEOUT
from tests.factories import TEST_ACTOR, admin_headers, admin_headers_http, make_user
from tests.firmware.signing_pki import (
    make_root,
    make_signer,
    openssl,
    root_pem,
    write,
)
from tests.firmware.uploads import IMAGE, image_count, presigned, ready, stored_files, upload
from tests.live import LiveServer
from tests.problems import assert_problem


@pytest.fixture
def admin(platform: Platform, client: TestClient) -> dict[str, str]:
    ready(platform)
    return admin_headers(platform, client)


def _vendor_family(client: TestClient, admin: dict[str, str], root_pem_text: str) -> None:
    response = client.put(
        "/api/v1/families/wallbox/signing",
        json={"root": "vendor", "certificate": root_pem_text},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    assert response.json()["signing_root"] == "vendor"


def test_a_platform_signed_upload_is_stored_with_its_digests_and_verifies_with_openssl(
    platform: Platform, client: TestClient, admin: dict[str, str], tmp_path: Path
) -> None:
    response = upload(
        client, admin, notes="fixes the relay", sha256=hashlib.sha256(IMAGE).hexdigest()
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["size"] == len(IMAGE)
    assert body["sha256"] == hashlib.sha256(IMAGE).hexdigest()
    assert body["md5"] == hashlib.md5(IMAGE, usedforsecurity=False).hexdigest()
    assert body["signature_algorithm"] == "rsa-pss-sha256"
    assert body["release_notes"] == "fixes the relay"
    assert body["_links"]["verify"]["href"] == f"/api/v1/firmware/images/{body['id']}/verify"
    with Session(platform.engine) as session:
        row = session.get(FirmwareImageRow, body["id"])
        assert row is not None
    assert b"".join(platform.artifacts.read(row.storage_key)) == IMAGE

    root = write(tmp_path / "root.pem", platform.ca.manufacturer_root_pem())
    leaf = write(tmp_path / "leaf.pem", body["signing_certificate"])
    chain = openssl("verify", "-CAfile", str(root), "-purpose", "any", str(leaf))
    assert chain.returncode == 0, chain.stdout + chain.stderr
    key = openssl("x509", "-in", str(leaf), "-noout", "-pubkey")
    pub = write(tmp_path / "pub.pem", key.stdout)
    sig = write(tmp_path / "fw.sig", base64.b64decode(body["signature"]))
    image = write(tmp_path / "fw.bin", IMAGE)
    checked = openssl(
        "dgst", "-sha256", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32",
        "-verify", str(pub), "-signature", str(sig), str(image),
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    text = openssl("x509", "-in", str(leaf), "-noout", "-text").stdout
    assert "Code Signing" in text and "Public-Key: (3072 bit)" in text


def test_an_ecdsa_family_gets_an_ecdsa_signature(
    client: TestClient, admin: dict[str, str], tmp_path: Path
) -> None:
    client.put(
        "/api/v1/families/wallbox/signing",
        json={"signature_algorithm": "ecdsa-sha256"},
        headers=admin,
    ).raise_for_status()

    body = upload(client, admin).json()

    assert body["signature_algorithm"] == "ecdsa-sha256"
    leaf = write(tmp_path / "leaf.pem", body["signing_certificate"])
    pub = write(tmp_path / "pub.pem", openssl("x509", "-in", str(leaf), "-noout", "-pubkey").stdout)
    sig = write(tmp_path / "fw.sig", base64.b64decode(body["signature"]))
    image = write(tmp_path / "fw.bin", IMAGE)
    checked = openssl("dgst", "-sha256", "-verify", str(pub), "-signature", str(sig), str(image))
    assert checked.returncode == 0, checked.stderr


def test_a_presigned_image_under_the_vendors_root_is_accepted(
    platform: Platform, client: TestClient, admin: dict[str, str]
) -> None:
    root = make_root("Vendor")
    _vendor_family(client, admin, root_pem(root))
    signer = make_signer(root, KeyKind.RSA_3072)

    response = upload(client, admin, **presigned(signer))

    assert response.status_code == 201, response.text
    assert response.json()["signing_certificate"].strip() == signer.certificate_pem.strip()
    assert len(stored_files(platform)) == 1


def test_the_platform_does_not_sign_for_a_family_with_a_vendor_root(
    platform: Platform, client: TestClient, admin: dict[str, str]
) -> None:
    _vendor_family(client, admin, root_pem(make_root()))
    assert_problem(upload(client, admin, sign="true"), 422, "signing-unavailable")
    assert image_count(platform) == 0 and stored_files(platform) == []


Refusal = tuple[dict[str, str], bytes, int, str]


def _refusals() -> tuple[list[Refusal], IssuingCA]:
    root = make_root("Vendor")
    good = make_signer(root)
    other = make_signer(make_root("Other"))
    expired = make_signer(root, not_after=utcnow() - timedelta(minutes=1))
    tampered = bytearray(IMAGE)
    tampered[-1] ^= 0xFF
    return [
        ({"sha256": "0" * 64}, IMAGE, 422, "checksum-mismatch"),
        ({"md5": "0" * 32}, IMAGE, 422, "checksum-mismatch"),
        ({"sha256": hashlib.sha256(IMAGE).hexdigest()}, IMAGE[:-10], 422, "checksum-mismatch"),
        ({"family": "nope"}, IMAGE, 422, "unknown-family"),
        ({"version": "not a version"}, IMAGE, 422, "invalid-version"),
        ({"version": "banana"}, IMAGE, 422, "invalid-version"),
        ({"sign": "false"}, IMAGE, 422, "malformed-upload"),
        ({"sign": "maybe"}, IMAGE, 422, "malformed-upload"),
        ({"extra": "x"}, IMAGE, 422, "malformed-upload"),
        ({}, b"", 422, "malformed-upload"),
        ({"signature": presigned(good)["signature"]}, IMAGE, 422, "malformed-upload"),
        (presigned(good, bytes(tampered)), IMAGE, 422, "signature-mismatch"),
        (presigned(other), IMAGE, 422, "untrusted-signer"),
        (presigned(expired), IMAGE, 422, "signer-expired"),
        ({**presigned(good), "signature": "%%%"}, IMAGE, 422, "malformed-signature"),
        ({**presigned(good), "certificate": "junk"}, IMAGE, 422, "malformed-signature"),
    ], root


@pytest.mark.parametrize("case", range(16))
def test_each_bad_upload_is_a_clear_problem_and_stores_nothing(
    platform: Platform, client: TestClient, admin: dict[str, str], case: int
) -> None:
    cases, root = _refusals()
    fields, data, status, slug = cases[case]
    _vendor_family(client, admin, root_pem(root))
    if "signature" not in fields and "certificate" not in fields and "sign" not in fields:
        fields = {**fields, "unsigned": "true"}

    body = assert_problem(upload(client, admin, data, **fields), status, slug)

    assert body["detail"]
    assert image_count(platform) == 0
    assert stored_files(platform) == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"version": "x y"}, "version"), ({"sign": "maybe"}, "sign"), ({"md5": "zz"}, "md5")],
)
def test_a_refused_field_is_named(
    client: TestClient, admin: dict[str, str], fields: dict[str, str], field: str
) -> None:
    response = upload(client, admin, **fields)
    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == [field]


def test_a_revoked_platform_signer_is_refused_on_upload_and_on_reverify(
    platform: Platform, client: TestClient, admin: dict[str, str]
) -> None:
    first = upload(client, admin).json()
    with Session(platform.engine) as session:
        serial = f"{_serial(first['signing_certificate']):X}"
        platform.ca.revoke(
            session, serial, RevocationReason.KEY_COMPROMISE, actor=TEST_ACTOR, now=utcnow()
        )
        session.commit()
    stale = {"signature": first["signature"], "certificate": first["signing_certificate"]}

    assert_problem(upload(client, admin, version="1.0.1", **stale), 422, "signer-revoked")
    verdict = client.post(f"/api/v1/firmware/images/{first['id']}/verify", headers=admin).json()
    assert verdict["valid"] is False and verdict["problem"] == "SignerRevoked"
    # the platform makes a new signing key instead of signing with the revoked one
    renewed = upload(client, admin, version="1.0.2").json()
    assert _serial(renewed["signing_certificate"]) != _serial(first["signing_certificate"])
    assert image_count(platform) == 2


def _serial(pem: str) -> int:
    from pki import load_certificate

    return load_certificate(pem).serial_number


def test_a_duplicate_version_is_409_and_keeps_the_first(
    platform: Platform, client: TestClient, admin: dict[str, str]
) -> None:
    assert upload(client, admin).status_code == 201
    assert_problem(upload(client, admin, b"other bytes"), 409, "firmware-version-exists")
    assert image_count(platform) == 1 and len(stored_files(platform)) == 1


def _raw(boundary: str, parts: list[tuple[str, str | None, bytes]], *, close: bool = True) -> bytes:
    body = b""
    for name, filename, value in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += (
            f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + value + b"\r\n"
        )
    return body + (f"--{boundary}--\r\n".encode() if close else b"")


@pytest.mark.parametrize(
    ("body", "content_type", "detail"),
    [
        (
            _raw(
                "XyZ",
                [
                    ("family", None, b"wallbox"),
                    ("version", None, b"1.0.0"),
                    ("unsigned", None, b"true"),
                    ("file", "fw.bin", IMAGE),
                ],
                close=False,
            )[:-50],
            "multipart/form-data; boundary=XyZ",
            "truncated",
        ),
        (
            _raw(
                "XyZ",
                [
                    ("family", None, b"wallbox"),
                    ("version", None, b"1.0.0"),
                    ("unsigned", None, b"true"),
                ],
            ),
            "multipart/form-data; boundary=XyZ",
            "'file'",
        ),
        (
            _raw(
                "XyZ",
                [("family", None, b"wallbox"), ("family", None, b"again"), ("file", "a", b"x")],
            ),
            "multipart/form-data; boundary=XyZ",
            "twice",
        ),
        (
            _raw("XyZ", [("notes", None, b"n" * 70_000), ("file", "a", b"x")]),
            "multipart/form-data; boundary=XyZ",
            "longer than",
        ),
        (b"garbage without any boundary", "multipart/form-data; boundary=XyZ", "malformed"),
        (b"{}", "multipart/form-data", "boundary"),
        (
            _raw("XyZ", [("file", "a", b"x"), ("file", "b", b"y")]),
            "multipart/form-data; boundary=XyZ",
            "exactly one file",
        ),
        (
            _raw("XyZ", [("family", None, b"\xff\xfe"), ("file", "a", b"x")]),
            "multipart/form-data; boundary=XyZ",
            "UTF-8",
        ),
    ],  # fmt: skip
)
def test_malformed_and_truncated_forms_are_refused_and_leave_nothing(
    platform: Platform,
    client: TestClient,
    admin: dict[str, str],
    body: bytes,
    content_type: str,
    detail: str,
) -> None:
    response = client.post(
        "/api/v1/firmware/images",
        content=body,
        headers={**admin, "Content-Type": content_type},
    )
    problem = assert_problem(response, 422, "malformed-upload")
    assert detail in str(problem["detail"])
    assert image_count(platform) == 0 and stored_files(platform) == []


def test_images_over_the_global_body_limit_are_accepted(
    platform: Platform, client: TestClient, admin: dict[str, str]
) -> None:
    big = bytes(range(256)) * (3 * 4096)  # 3 MiB, three times the 1 MiB limit of other routes
    response = upload(client, admin, big)
    assert response.status_code == 201, response.text
    assert response.json()["size"] == len(big)


def test_the_image_limit_applies_while_streaming_and_leaves_nothing(
    tmp_path: Path, database_url: str
) -> None:
    from tests.conftest import make_settings

    settings: Settings = make_settings(tmp_path, database_url, firmware_max_bytes=64 * 1024)
    platform = build_platform(settings)
    try:
        with TestClient(create_app(platform=platform)) as client:
            ready(platform)
            headers = admin_headers(platform, client)
            assert upload(client, headers, b"x" * (64 * 1024)).status_code == 201

            over = upload(client, headers, b"x" * (64 * 1024 + 1), version="2.0.0")

            problem = assert_problem(over, 413, "payload-too-large")
            assert "65536 bytes" in str(problem["detail"])

            def chunked() -> object:  # no Content-Length: only the streaming check can stop it
                boundary = "B0undary"
                yield (
                    f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                    'filename="fw.bin"\r\n\r\n'
                ).encode()
                for _ in range(100):
                    yield b"y" * 65_536
                yield f"\r\n--{boundary}--\r\n".encode()

            streamed = client.post(
                "/api/v1/firmware/images",
                content=chunked(),  # type: ignore[arg-type]
                headers={**headers, "Content-Type": "multipart/form-data; boundary=B0undary"},
            )
            assert_problem(streamed, 413, "payload-too-large")
            assert image_count(platform) == 1 and len(stored_files(platform)) == 1
    finally:
        platform.close()


def test_other_routes_keep_the_global_body_limit(client: TestClient, admin: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/families",
        content=b'{"name": "' + b"a" * 2_000_000 + b'"}',
        headers={**admin, "Content-Type": "application/json"},
    )
    assert_problem(response, 413, "payload-too-large")


def test_two_uploads_of_one_version_at_once_make_one_image_and_one_file(
    platform: Platform, live_server: LiveServer
) -> None:
    ready(platform)
    import asyncio

    async def headers() -> dict[str, str]:
        async with httpx.AsyncClient(base_url=live_server.url, timeout=TIMEOUT) as http:
            return await admin_headers_http(platform, http)

    admin = asyncio.run(headers())

    def post(index: int) -> int:
        with httpx.Client(base_url=live_server.url, timeout=60) as http:
            return upload(http, admin, IMAGE + bytes([index])).status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = sorted(pool.map(post, range(4)))

    assert statuses == [201, 409, 409, 409]
    assert image_count(platform) == 1
    assert len(stored_files(platform)) == 1


def test_images_are_listed_newest_version_first_with_pages(
    client: TestClient, admin: dict[str, str]
) -> None:
    for version in ("1.2.0", "1.10.0", "1.9.3", "2.0.0-rc.1"):
        assert upload(client, admin, IMAGE + version.encode(), version=version, unsigned="true",
                      sign="false").status_code == 201  # fmt: skip

    page = client.get("/api/v1/firmware/images?family=wallbox&limit=3", headers=admin).json()

    assert [item["version"] for item in page["items"]] == ["2.0.0-rc.1", "1.10.0", "1.9.3"]
    assert page["total"] == 4 and "next" in page["_links"]
    rest = client.get(page["_links"]["next"]["href"], headers=admin).json()
    assert [item["version"] for item in rest["items"]] == ["1.2.0"]
    assert_problem(
        client.get("/api/v1/firmware/images?family=nope", headers=admin), 422, "unknown-family"
    )


def test_one_image_is_read_and_an_unknown_one_is_404(
    client: TestClient, admin: dict[str, str]
) -> None:
    created = upload(client, admin).json()
    assert client.get(f"/api/v1/firmware/images/{created['id']}", headers=admin).json() == created
    assert_problem(client.get("/api/v1/firmware/images/999", headers=admin), 404, "not-found")


def test_an_unused_image_is_deleted_with_its_file_and_a_used_one_is_kept(
    platform: Platform, client: TestClient, admin: dict[str, str]
) -> None:
    used = upload(client, admin).json()
    unused = upload(client, admin, IMAGE + b"2", version="1.0.1").json()
    client.post(f"/api/v1/firmware/images/{used['id']}/promote", json={"channel": "beta"},
                headers=admin).raise_for_status()  # fmt: skip

    assert (
        client.delete(f"/api/v1/firmware/images/{unused['id']}", headers=admin).status_code == 204
    )
    refused = client.delete(f"/api/v1/firmware/images/{used['id']}", headers=admin)

    assert "beta" in str(assert_problem(refused, 409, "image-in-use")["detail"])
    assert image_count(platform) == 1 and len(stored_files(platform)) == 1
    assert_problem(client.delete("/api/v1/firmware/images/999", headers=admin), 404, "not-found")


def test_reverify_finds_an_image_whose_stored_bytes_changed(
    platform: Platform, client: TestClient, admin: dict[str, str]
) -> None:
    created = upload(client, admin).json()
    url = f"/api/v1/firmware/images/{created['id']}/verify"
    assert client.post(url, headers=admin).json()["valid"] is True

    (path,) = stored_files(platform)
    path.write_bytes(IMAGE[:-1] + bytes([IMAGE[-1] ^ 0xFF]))  # always a different byte
    verdict = client.post(url, headers=admin).json()

    assert verdict["valid"] is False and verdict["problem"] == "ImageUnreadable"
    path.unlink()
    assert client.post(url, headers=admin).json()["problem"] == "ImageUnreadable"


def test_uploads_and_verifications_are_audited(
    platform: Platform, client: TestClient, admin: dict[str, str]
) -> None:
    created = upload(client, admin).json()
    client.post(f"/api/v1/firmware/images/{created['id']}/verify", headers=admin)
    with Session(platform.engine) as session:
        entries = session.exec(
            select(AuditEntry).where(AuditEntry.action.startswith("firmware."))
        ).all()  # type: ignore[attr-defined]
    actions = [entry.action for entry in entries]
    assert "firmware.signing_key_created" in actions
    assert "firmware.image_uploaded" in actions and "firmware.image_verified" in actions
    uploaded = next(e for e in entries if e.action == "firmware.image_uploaded")
    assert json.loads(uploaded.detail)["signed_by"] == "platform"
    assert uploaded.actor.startswith("user:")


def test_only_admins_upload(platform: Platform, client: TestClient) -> None:
    ready(platform)
    make_user(platform, "owner@example.com")
    from tests.factories import bearer, password_tokens

    owner = bearer(password_tokens(client, "owner@example.com")["access_token"])
    assert_problem(upload(client, owner), 403, "forbidden")
    assert image_count(platform) == 0 and stored_files(platform) == []


def test_an_upload_streams_memory_does_not_grow_with_the_image(
    platform: Platform, live_server: LiveServer
) -> None:
    """Over a real socket (the test client would buffer the body): client and server together
    stay far below the image's size."""
    import asyncio
    import tracemalloc

    ready(platform)

    async def headers() -> dict[str, str]:
        async with httpx.AsyncClient(base_url=live_server.url, timeout=TIMEOUT) as http:
            return await admin_headers_http(platform, http)

    admin = asyncio.run(headers())

    boundary = "MemBoundary"
    size = 48 * 1024 * 1024
    block = bytes(range(256)) * 256  # 64 KiB

    def body() -> Iterator[bytes]:
        for name, value in (("family", "wallbox"), ("version", "9.0.0"), ("unsigned", "true")):
            yield (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            ).encode()
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"'
            "\r\n\r\n"
        ).encode()
        for _ in range(size // len(block)):
            yield block
        yield f"\r\n--{boundary}--\r\n".encode()

    tracemalloc.start()
    try:
        with httpx.Client(base_url=live_server.url, timeout=120) as http:
            response = http.post(
                "/api/v1/firmware/images",
                content=body(),
                headers={**admin, "Content-Type": f"multipart/form-data; boundary={boundary}"},
            )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert response.status_code == 201, response.text
    assert response.json()["size"] == size
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes for a {size}-byte image"
