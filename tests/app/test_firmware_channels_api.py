"""Firmware channels over REST and the catalog functions the rollout service calls: channels
per family, custom channels, images on channels, promotion, the channel a station follows and
the root a family's images are signed under."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.audit import AuditEntry
from app.platform import Platform
from charging.tables import Station
from enrollment import repository
from enrollment.identifiers import MacRange
from firmware import catalog
from firmware.errors import Downgrade, UnknownStation
from firmware.tables import FirmwareChannelRow
from tests.factories import admin_headers
from tests.firmware.signing_pki import make_root, root_pem
from tests.firmware.uploads import IMAGE, add_family, ready, upload
from tests.problems import assert_problem


@pytest.fixture
def admin(platform: Platform, client: TestClient) -> dict[str, str]:
    ready(platform, "wallbox", "pole")
    return admin_headers(platform, client)


def _image(client: TestClient, admin: dict[str, str], version: str, family: str = "wallbox") -> int:
    response = upload(client, admin, IMAGE + version.encode(), version=version, family=family)
    assert response.status_code == 201, response.text
    image_id: int = response.json()["id"]
    return image_id


def _channels(
    client: TestClient, admin: dict[str, str], family: str = "wallbox"
) -> dict[str, object]:
    response = client.get(f"/api/v1/families/{family}/channels", headers=admin)
    assert response.status_code == 200, response.text
    return {
        item["name"]: item["image"] and item["image"]["version"]
        for item in response.json()["items"]
    }


def test_every_family_has_the_built_in_channels_empty_at_first(
    client: TestClient, admin: dict[str, str]
) -> None:
    body = client.get("/api/v1/families/wallbox/channels", headers=admin).json()
    assert [(c["name"], c["builtin"], c["image"]) for c in body["items"]] == [
        ("stable", True, None),
        ("beta", True, None),
        ("canary", True, None),
    ]
    assert body["default_channel"] == "stable"
    assert body["signing_root"] == "platform" and body["signature_algorithm"] == "rsa-pss-sha256"
    assert body["_links"]["images"]["href"] == "/api/v1/firmware/images?family=wallbox"
    assert_problem(
        client.get("/api/v1/families/nope/channels", headers=admin), 422, "unknown-family"
    )


def test_custom_channels_are_added_once_with_valid_names(
    client: TestClient, admin: dict[str, str]
) -> None:
    url = "/api/v1/families/wallbox/channels"
    created = client.post(url, json={"name": "field-test"}, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["builtin"] is False

    assert_problem(
        client.post(url, json={"name": "field-test"}, headers=admin), 409, "channel-exists"
    )
    assert_problem(client.post(url, json={"name": "beta"}, headers=admin), 409, "channel-exists")
    for bad in ("Has Space", "UPPER", "-dash", "a/b"):
        assert_problem(client.post(url, json={"name": bad}, headers=admin), 422, "invalid-channel")
    assert_problem(client.post(url, json={"name": ""}, headers=admin), 422, "validation-error")
    assert list(_channels(client, admin)) == ["stable", "beta", "canary", "field-test"]
    assert list(_channels(client, admin, "pole")) == ["stable", "beta", "canary"]


def test_concurrent_creation_of_one_custom_channel_makes_one(
    platform: Platform, client: TestClient, admin: dict[str, str]
) -> None:
    def post(_: int) -> int:
        return client.post(
            "/api/v1/families/wallbox/channels", json={"name": "race"}, headers=admin
        ).status_code

    with ThreadPoolExecutor(6) as pool:
        statuses = sorted(pool.map(post, range(6)))
    assert statuses == [201] + [409] * 5
    with Session(platform.engine) as session:
        rows = session.exec(
            select(FirmwareChannelRow).where(FirmwareChannelRow.name == "race")
        ).all()
    assert len(rows) == 1


def test_a_channel_carries_an_image_of_its_own_family_only(
    client: TestClient, admin: dict[str, str]
) -> None:
    own = _image(client, admin, "1.0.0")
    foreign = _image(client, admin, "1.0.0", family="pole")
    url = "/api/v1/families/wallbox/channels/canary"

    response = client.put(url, json={"image_id": own}, headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["_links"]["image"]["href"] == f"/api/v1/firmware/images/{own}"
    assert_problem(client.put(url, json={"image_id": foreign}, headers=admin), 422, "wrong-family")
    assert_problem(client.put(url, json={"image_id": 999}, headers=admin), 404, "not-found")
    assert_problem(
        client.put("/api/v1/families/wallbox/channels/nope", json={"image_id": own}, headers=admin),
        404,
        "not-found",
    )
    assert_problem(client.put(url, json={"image_id": "x"}, headers=admin), 422, "validation-error")
    assert _channels(client, admin)["canary"] == "1.0.0"
    cleared = client.put(url, json={"image_id": None}, headers=admin)
    assert cleared.json()["image"] is None


def test_an_image_is_promoted_canary_beta_stable_and_not_back_without_force(
    platform: Platform, client: TestClient, admin: dict[str, str]
) -> None:
    old = _image(client, admin, "1.9.0")
    new = _image(client, admin, "1.10.0")
    for channel in ("canary", "beta", "stable"):
        response = client.post(
            f"/api/v1/firmware/images/{new}/promote", json={"channel": channel}, headers=admin
        )
        assert response.status_code == 200, response.text
    assert response.json()["channels"] == ["beta", "canary", "stable"]
    assert _channels(client, admin) == {"stable": "1.10.0", "beta": "1.10.0", "canary": "1.10.0"}

    back = client.post(
        f"/api/v1/firmware/images/{old}/promote", json={"channel": "stable"}, headers=admin
    )
    assert "1.10.0" in str(assert_problem(back, 409, "firmware-downgrade")["detail"])
    forced = client.post(
        f"/api/v1/firmware/images/{old}/promote",
        json={"channel": "stable", "force": True},
        headers=admin,
    )
    assert forced.status_code == 200
    assert _channels(client, admin)["stable"] == "1.9.0"
    assert_problem(
        client.post(f"/api/v1/firmware/images/{new}/promote", json={"channel": "x"}, headers=admin),
        404,
        "not-found",
    )
    assert_problem(
        client.post(
            f"/api/v1/firmware/images/{new}/promote",
            json={"channel": "beta", "x": 1},
            headers=admin,
        ),
        422,
        "validation-error",
    )
    with Session(platform.engine) as session:
        promoted = session.exec(
            select(AuditEntry).where(AuditEntry.action == "firmware.image_promoted")
        ).all()
    assert len(promoted) == 4 and promoted[-1].outcome == "success"


def test_promote_from_a_service_is_audited_without_the_api(
    platform: Platform, client: TestClient, admin: dict[str, str]
) -> None:
    image_id = _image(client, admin, "2.0.0")
    with Session(platform.engine) as session:
        catalog.promote(session, image_id, "beta", "rollout:7")
        session.commit()
    with Session(platform.engine) as session:
        family_id = catalog.family(session, "wallbox").id
        assert family_id is not None
        carried = catalog.channel_image(session, family_id, "beta")
        assert carried is not None and carried.id == image_id
        assert catalog.channel_image(session, family_id, "stable") is None
        entry = session.exec(
            select(AuditEntry).where(AuditEntry.action == "firmware.image_promoted")
        ).one()
    assert entry.actor == "rollout:7" and entry.object_id == "wallbox"
    with Session(platform.engine) as session, pytest.raises(Downgrade):
        older = _image(client, admin, "1.0.0")
        catalog.promote(session, older, "beta", "rollout:8")


def test_a_station_follows_its_family_default_until_overridden(
    platform: Platform, client: TestClient, admin: dict[str, str]
) -> None:
    with Session(platform.engine) as session:
        repository.add_mac_range(session, MacRange.parse("02:00:00:00:00:00-02:00:00:00:00:0F"))
        session.commit()
    device = client.post(
        "/api/v1/devices", json={"serial": "CP-1", "family": "wallbox", "lot": "L1"}, headers=admin
    )
    assert device.status_code == 201, device.text
    url = "/api/v1/stations/CP-1/channel"
    assert_problem(client.put(url, json={"channel": "beta"}, headers=admin), 404, "not-found")
    with Session(platform.engine) as session:
        session.add(Station(id="CP-1"))
        session.commit()
        family_id = catalog.family(session, "wallbox").id
        assert catalog.station_channel(session, "CP-1") == (family_id, "stable")

    response = client.put(url, json={"channel": "beta"}, headers=admin)

    assert response.status_code == 200, response.text
    assert response.json()["channel"] == "beta" and response.json()["family"] == "wallbox"
    with Session(platform.engine) as session:
        assert catalog.station_channel(session, "CP-1") == (family_id, "beta")
    assert_problem(client.put(url, json={"channel": "nope"}, headers=admin), 404, "not-found")
    assert_problem(
        client.put(url, json={"channel": "Bad Name"}, headers=admin), 422, "invalid-channel"
    )
    assert client.put(url, json={"channel": None}, headers=admin).json()["channel"] == "stable"
    assert_problem(
        client.put("/api/v1/stations/ghost/channel", json={"channel": "beta"}, headers=admin),
        404,
        "not-found",
    )
    with Session(platform.engine) as session, pytest.raises(UnknownStation):
        catalog.station_channel(session, "ghost")


def test_the_signing_root_is_the_platforms_until_a_vendor_root_is_named(
    platform: Platform, client: TestClient, admin: dict[str, str]
) -> None:
    vendor = root_pem(make_root("Vendor"))
    with Session(platform.engine) as session:
        family_id = catalog.family(session, "wallbox").id
        assert family_id is not None
        assert catalog.signing_root_pem(session, family_id) == platform.ca.manufacturer_root_pem()

    response = client.put(
        "/api/v1/families/wallbox/signing", json={"certificate": vendor}, headers=admin
    )

    assert response.status_code == 200, response.text
    assert response.json()["signing_root"] == "vendor"
    with Session(platform.engine) as session:
        assert catalog.signing_root_pem(session, family_id).strip() == vendor.strip()
    back = client.put("/api/v1/families/wallbox/signing", json={"root": "platform"}, headers=admin)
    assert back.json()["certificate"] == platform.ca.manufacturer_root_pem()
    with Session(platform.engine) as session:
        assert catalog.signing_root_pem(session, family_id) == platform.ca.manufacturer_root_pem()


@pytest.mark.parametrize(
    "certificate",
    [
        "junk",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "leaf",
        "two",
    ],
)
def test_a_bad_vendor_root_is_refused(
    platform: Platform, client: TestClient, admin: dict[str, str], certificate: str
) -> None:
    from tests.firmware.signing_pki import make_signer

    root = make_root("Vendor")
    text = {
        "leaf": make_signer(root).certificate_pem,
        "two": root_pem(root) + root_pem(make_root("Other")),
    }.get(certificate, certificate)
    response = client.put(
        "/api/v1/families/wallbox/signing", json={"certificate": text}, headers=admin
    )
    assert_problem(response, 422, "invalid-signing-root")
    assert (
        client.get("/api/v1/families/wallbox/channels", headers=admin).json()["signing_root"]
        == "platform"
    )


def test_a_family_with_a_default_channel_of_its_own(platform: Platform) -> None:
    ready(platform, "x")
    add_family(platform, "kiosk", channel="beta")
    with Session(platform.engine) as session:
        family_id = catalog.family(session, "kiosk").id
        assert family_id is not None
        assert [c.name for c in catalog.channels(session, family_id)] == [
            "stable",
            "beta",
            "canary",
        ]
