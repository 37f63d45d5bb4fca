"""``chargeline firmware``: upload (platform-signed, pre-signed, refused), list, promote,
channels and signing roots, on the database the server uses."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from app.cli import main
from firmware.signatures import sign_image
from tests.firmware.signing_pki import make_root, make_signer, root_pem, write


def run(data_dir: Path, group: str, *args: str) -> int:
    return main([group, *args, "--data-dir", str(data_dir)])


@pytest.fixture
def data_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    family = ["--name", "wb", "--vendor", "ACME", "--model", "W", "--ocpp-version", "1.6"]
    assert run(tmp_path, "devices", "add-family", *family, "--create") == 0
    assert run(tmp_path, "pki", "init") == 0
    capsys.readouterr()
    return tmp_path


def test_upload_sign_list_promote_and_channels(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = write(data_dir / "fw.bin", os.urandom(100_000))

    assert run(data_dir, "firmware", "upload", str(image), "--family", "wb", "--version",
               "1.0.0", "--sign", "--notes", "first") == 0  # fmt: skip
    uploaded = capsys.readouterr().out.split("\t")
    assert uploaded[:3] == ["1", "wb", "1.0.0"] and uploaded[5] == "rsa-pss-sha256"

    assert run(data_dir, "firmware", "promote", "1", "canary") == 0
    assert capsys.readouterr().out.rstrip().endswith("\tcanary")
    assert run(data_dir, "firmware", "channels", "wb", "--add", "lab") == 0
    assert capsys.readouterr().out.splitlines() == [
        "stable (default)\t-",
        "beta\t-",
        "canary\t1.0.0 (image 1)",
        "lab\t-",
    ]
    assert run(data_dir, "firmware", "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("ID\tFAMILY") and lines[1].startswith("1\twb\t1.0.0\t100000\t")


def test_a_presigned_upload_under_a_vendor_root(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_root("Vendor")
    signer = make_signer(root)
    data = os.urandom(50_000)
    image = write(data_dir / "fw.bin", data)
    raw_signature = base64.b64decode(sign_image([data], signer.key))
    sig = write(data_dir / "fw.sig", raw_signature)  # raw, as openssl dgst writes it
    cert = write(data_dir / "signer.pem", signer.certificate_pem)
    vendor = write(data_dir / "vendor.pem", root_pem(root))

    assert run(data_dir, "firmware", "signing-root", "wb", "--certificate", str(vendor)) == 0
    assert "signed under the vendor root" in capsys.readouterr().out
    assert run(data_dir, "firmware", "upload", str(image), "--family", "wb", "--version", "2.0.0",
               "--signature", str(sig), "--certificate", str(cert)) == 0  # fmt: skip
    assert "\t2.0.0\t" in capsys.readouterr().out
    assert len([p for p in (data_dir / "firmware").rglob("*") if p.is_file()]) == 1

    other = make_signer(make_root("Other"))
    write(data_dir / "other.pem", other.certificate_pem)
    write(data_dir / "other.sig", sign_image([data], other.key))  # base64 text this time
    assert run(data_dir, "firmware", "upload", str(image), "--family", "wb", "--version", "2.0.1",
               "--signature", str(data_dir / "other.sig"),
               "--certificate", str(data_dir / "other.pem")) == 1  # fmt: skip
    assert "not issued directly" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--family", "nope", "--version", "1.0.0", "--sign"], "no hardware family 'nope'"),
        (["--family", "wb", "--version", "x y", "--sign"], "semantic version"),
        (["--family", "wb", "--version", "1.0.0", "--sign", "--sha256", "0" * 64], "sha256"),
        (["--family", "wb", "--version", "1.0.0", "--signature", "fw.bin"], "--certificate"),
    ],
)
def test_bad_uploads_fail_with_the_reason_and_store_nothing(
    data_dir: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    image = write(data_dir / "fw.bin", b"firmware")
    args = [str(data_dir / a) if a == "fw.bin" else a for a in args]

    assert run(data_dir, "firmware", "upload", str(image), *args) == 1

    assert message in capsys.readouterr().err
    kept = [p for d in ("firmware", "staging") for p in (data_dir / d).rglob("*") if p.is_file()]
    assert kept == []
    assert run(data_dir, "firmware", "list") == 0
    assert capsys.readouterr().out.splitlines()[1:] == []


def test_a_missing_file_and_an_unknown_image_are_reported(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = data_dir / "missing.bin"
    assert run(data_dir, "firmware", "upload", str(missing), "--family", "wb", "--version",
               "1.0.0", "--unsigned") == 1  # fmt: skip
    assert "cannot read" in capsys.readouterr().err
    assert run(data_dir, "firmware", "promote", "42", "beta") == 1
    assert "no firmware image 42" in capsys.readouterr().err
    assert run(data_dir, "firmware", "channels", "nope") == 1
    assert run(data_dir, "firmware", "signing-root", "wb", "--certificate", str(missing)) == 1
