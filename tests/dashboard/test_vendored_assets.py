"""The browser assets from npm are the released files, unchanged, with their licences."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from app.dashboard.render import ASSETS

VENDOR = ASSETS / "vendor"
# Pinned here, apart from the manifest, so that a changed file and a changed manifest together
# still fail: update both on purpose when upgrading a package.
PINNED = {
    "htmx-2.0.11.min.js": "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717",
    "LICENSE-htmx.txt": "d3d2456f76414f2456104660ebd65aff1c04cd7966b942bdabd63f3cdb316a38",
    "uplot-1.6.32.iife.min.js": "19c8d4c6ad88929a79f4ae49d6f7161566dfd0ba3d15cc495e974f787eb78f1f",
    "uplot-1.6.32.min.css": "df630c6a8d6f8eeaff264b50f73ce5b114f646ffd9a0bb74f049b0a00135fa04",
    "LICENSE-uplot.txt": "8f989229699b4fe2f1a0432d0e9edc338a8a911e250e2d1b01ecd770a5f5b1bd",
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_vendored_file_matches_its_pinned_checksum() -> None:
    for name, expected in PINNED.items():
        assert sha256(VENDOR / name) == expected, name


def test_the_vendor_folder_holds_only_listed_files_and_each_package_its_licence() -> None:
    manifest = json.loads((VENDOR / "vendor.json").read_text())
    listed = {name for package in manifest["packages"] for name in package["files"]}
    assert listed == set(PINNED)
    assert {p.name for p in VENDOR.iterdir()} == listed | {"vendor.json"}
    for package in manifest["packages"]:
        assert package["tarball_integrity"].startswith("sha512-")
        assert any(name.startswith("LICENSE") for name in package["files"]), package["name"]
        for name, entry in package["files"].items():
            assert entry["sha256"] == PINNED[name]


def test_the_licences_name_their_projects() -> None:
    assert "Zero-Clause BSD" in (VENDOR / "LICENSE-htmx.txt").read_text()
    assert "Leon Sorokin" in (VENDOR / "LICENSE-uplot.txt").read_text()
