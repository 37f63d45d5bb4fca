"""Pairing with bad QR payloads (422 with the reason) and devices not released (409 naming the
state); none of them is counted as a failed attempt or changes the device."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from app.identity.tables import LoginFailure
from app.platform import Platform
from enrollment.ownership.tables import Membership
from enrollment.qr import QrPayloadError, decode_payload
from tests.owner_helpers import Labels, device_state, login, make_device

SERIAL = "SN-QR-0001"


def post_pair(
    client: TestClient, headers: dict[str, str], device: str, packaging: str
) -> httpx.Response:
    return client.post(
        "/api/v1/app/pairings",
        json={"device_label": device, "packaging_label": packaging},
        headers=headers,
    )


def nothing_counted(platform: Platform) -> None:
    with Session(platform.engine) as session:
        assert (
            session.exec(
                select(func.coalesce(func.sum(LoginFailure.failures), 0)).where(
                    col(LoginFailure.key).startswith("pairing:")
                )
            ).one()
            == 0
        )
        assert session.exec(select(func.count()).select_from(Membership)).one() == 0


def corrupt(payload: str, position: int) -> str:
    """``payload`` with one character replaced by another of the QR alphanumeric set."""
    replacement = "7" if payload[position] != "7" else "8"
    return payload[:position] + replacement + payload[position + 1 :]


@pytest.fixture
def labels(platform: Platform) -> Labels:
    return make_device(platform, SERIAL)


@pytest.fixture
def owner(client: TestClient, platform: Platform) -> dict[str, str]:
    return login(platform, client, "owner@example.com")


def cases(labels: Labels, other: Labels) -> dict[str, tuple[str, str, str]]:
    device, packaging = labels.device, labels.packaging
    return {
        "swapped": (packaging, device, "wrong_kind"),
        "both device labels": (device, device, "wrong_kind"),
        "device label cut short": (device[:-2], packaging, "truncated"),
        "packaging label cut to its prefix": (device, packaging[:2], "truncated"),
        "packaging label without checksum": (device, packaging.rsplit(":", 1)[0], "truncated"),
        "device code mangled": (corrupt(device, len(device) - 8), packaging, "checksum_mismatch"),
        "packaging checksum mangled": (
            device,
            corrupt(packaging, len(packaging) - 1),
            "checksum_mismatch",
        ),
        "labels of two stations": (device, other.packaging, "serial_mismatch"),
        "a newer format": ("CL2:" + device[4:], packaging, "unsupported_version"),
        "not a label": ("https://example.com/", packaging, "unknown_format"),
        "extra field": (device + ":X", packaging, "unknown_format"),
    }


CASE_NAMES = [
    "swapped",
    "both device labels",
    "device label cut short",
    "packaging label cut to its prefix",
    "packaging label without checksum",
    "device code mangled",
    "packaging checksum mangled",
    "labels of two stations",
    "a newer format",
    "not a label",
    "extra field",
]


@pytest.mark.parametrize("case", CASE_NAMES)
def test_a_bad_payload_is_refused_with_its_reason_and_not_counted(
    client: TestClient, platform: Platform, labels: Labels, owner: dict[str, str], case: str
) -> None:
    scenarios = cases(labels, make_device(platform, "SN-QR-0002"))
    assert sorted(scenarios) == sorted(CASE_NAMES)
    device, packaging, reason = scenarios[case]
    response = post_pair(client, owner, device, packaging)
    assert response.status_code == 422, response.text
    assert response.json()["type"].endswith("/invalid-qr-payload")
    assert response.json()["reason"] == reason
    assert device_state(platform, SERIAL) == "released"
    nothing_counted(platform)


def test_every_single_character_corruption_is_a_422_never_a_counted_failure(
    client: TestClient, platform: Platform, labels: Labels, owner: dict[str, str]
) -> None:
    for position in range(len(labels.device)):
        mangled = corrupt(labels.device, position)
        response = post_pair(client, owner, mangled, labels.packaging)
        assert response.status_code == 422, (position, mangled, response.text)
        with pytest.raises(QrPayloadError) as refused:
            decode_payload(mangled)
        assert response.json()["reason"] == refused.value.reason.value
    assert device_state(platform, SERIAL) == "released"
    nothing_counted(platform)
    assert post_pair(client, owner, labels.device, labels.packaging).status_code == 201


def test_a_device_still_at_the_factory_is_not_pairable_and_says_so(
    client: TestClient, platform: Platform, owner: dict[str, str]
) -> None:
    enrolled = make_device(platform, "SN-QR-0003", release=False)
    response = post_pair(client, owner, enrolled.device, enrolled.packaging)
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["type"].endswith("/device-not-released") and body["state"] == "enrolled"
    assert "enrolled" in body["detail"]
    assert device_state(platform, "SN-QR-0003") == "enrolled"
    nothing_counted(platform)
