"""Pairing by the two QR labels: codes, lockout, states, races, and giving a station up."""

from __future__ import annotations

import threading
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.audit import AuditEntry
from app.identity.tables import LoginFailure
from app.main import create_app
from app.platform import Platform
from enrollment.qr import LabelKind, encode_payload
from tests.factories import PASSWORD, make_user
from tests.live import LiveServer
from tests.owner_helpers import device_state, login, make_device, pair

WRONG_CODE = "0" * 28


def post_pair(
    client: TestClient, headers: dict[str, str], device: str, packaging: str
) -> httpx.Response:
    return client.post(
        "/api/v1/app/pairings",
        json={"device_label": device, "packaging_label": packaging},
        headers=headers,
    )


def test_an_owner_pairs_a_released_device_and_sees_it(
    client: TestClient, platform: Platform
) -> None:
    labels = make_device(platform, "SN-PAIR-0001")
    headers = login(platform, client, "owner@example.com")
    response = post_pair(client, headers, labels.device, labels.packaging)
    assert response.status_code == 201
    assert response.json()["role"] == "owner" and response.headers["Location"].endswith(
        "SN-PAIR-0001"
    )
    assert device_state(platform, "SN-PAIR-0001") == "paired"
    listed = client.get("/api/v1/app/stations", headers=headers).json()
    assert [s["serial"] for s in listed["items"]] == ["SN-PAIR-0001"]


def test_a_wrong_code_is_refused_without_saying_which(
    client: TestClient, platform: Platform
) -> None:
    labels = make_device(platform, "SN-PAIR-0002")
    headers = login(platform, client, "owner@example.com")
    bad_device = encode_payload(LabelKind.DEVICE, labels.serial, WRONG_CODE)
    bad_packaging = encode_payload(LabelKind.PACKAGING, labels.serial, WRONG_CODE)
    first = post_pair(client, headers, bad_device, labels.packaging)
    second = post_pair(client, headers, labels.device, bad_packaging)
    assert first.status_code == second.status_code == 403
    assert first.json()["detail"] == second.json()["detail"]
    assert first.json()["type"].endswith("/pairing-refused")
    assert device_state(platform, labels.serial) == "released"


def test_wrong_codes_lock_the_guesser_but_never_the_holder_of_both_codes(
    client: TestClient, platform: Platform
) -> None:
    labels = make_device(platform, "SN-PAIR-0003")
    headers = login(platform, client, "owner@example.com")
    bad = encode_payload(LabelKind.DEVICE, labels.serial, WRONG_CODE)
    statuses = [post_pair(client, headers, bad, labels.packaging).status_code for _ in range(5)]
    assert statuses == [403] * 5
    locked = post_pair(client, headers, labels.device, labels.packaging)
    assert locked.status_code == 429 and 0 < int(locked.headers["Retry-After"]) <= 900
    assert locked.json()["type"].endswith("/too-many-attempts")
    prober = login(platform, client, "prober@example.com")  # one try per window on this device
    assert post_pair(client, prober, bad, labels.packaging).status_code == 403
    assert post_pair(client, prober, bad, labels.packaging).status_code == 429
    other = login(platform, client, "other@example.com")
    assert post_pair(client, other, labels.device, labels.packaging).status_code == 201
    age_counters(platform, timedelta(minutes=16))
    assert post_pair(client, headers, labels.device, labels.packaging).status_code == 409


def age_counters(platform: Platform, by: timedelta) -> None:
    with Session(platform.engine) as session:
        for row in session.exec(select(LoginFailure)):
            row.window_started_at -= by
            session.add(row)
        session.commit()


def test_a_burst_of_wrong_codes_passes_the_check_at_most_the_limit_times(
    platform: Platform,
) -> None:
    labels = make_device(platform, "SN-BURST-0001")
    make_user(platform, "burst@example.com")
    bad = encode_payload(LabelKind.DEVICE, labels.serial, WRONG_CODE)
    statuses: list[int] = []
    with LiveServer(create_app(platform=platform)) as server:
        token = httpx.post(
            f"{server.url}/oauth/token",
            data={"grant_type": "password", "username": "burst@example.com", "password": PASSWORD},
        ).json()["access_token"]
        barrier = threading.Barrier(20)

        def attempt() -> None:
            barrier.wait()
            answer = httpx.post(
                f"{server.url}/api/v1/app/pairings",
                json={"device_label": bad, "packaging_label": labels.packaging},
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            statuses.append(answer.status_code)

        threads = [threading.Thread(target=attempt) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(statuses) == [403] * 5 + [429] * 15
    with Session(platform.engine) as session:
        rows = {row.key: row.failures for row in session.exec(select(LoginFailure))}
        failed = session.exec(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "device.pair_failed")
        ).one()
    user_id = next(key for key in rows if key.startswith("pairing:@")).removeprefix("pairing:@")
    assert rows[f"pairing:SN-BURST-0001|{user_id}"] == 5
    assert rows["pairing:SN-BURST-0001"] == 5
    assert rows[f"pairing:@{user_id}"] == 5
    assert failed == 5


def test_a_station_with_an_owner_cannot_be_paired_again(
    client: TestClient, platform: Platform
) -> None:
    labels = make_device(platform, "SN-PAIR-0004")
    pair(client, login(platform, client, "first@example.com"), labels)
    second = post_pair(
        client, login(platform, client, "second@example.com"), labels.device, labels.packaging
    )
    assert second.status_code == 409 and second.json()["type"].endswith("/station-owned")


def test_pairing_a_device_that_is_not_released_names_its_state(
    client: TestClient, platform: Platform
) -> None:
    labels = make_device(platform, "SN-PAIR-0005", release=False)
    response = post_pair(
        client, login(platform, client, "owner@example.com"), labels.device, labels.packaging
    )
    assert response.status_code == 409
    assert response.json()["state"] == "enrolled" and "enrolled" in response.json()["detail"]


@pytest.mark.parametrize(
    ("swap", "cut", "reason"),
    [(True, 0, "wrong_kind"), (False, 2, "truncated"), (False, 40, "truncated")],
)
def test_swapped_or_truncated_payloads_are_refused_with_the_reason(
    client: TestClient, platform: Platform, swap: bool, cut: int, reason: str
) -> None:
    labels = make_device(platform, "SN-PAIR-0006")
    device, packaging = (
        (labels.packaging, labels.device) if swap else (labels.device, labels.packaging)
    )
    if cut:
        device = device[:-cut]
    response = post_pair(client, login(platform, client, "o@example.com"), device, packaging)
    assert response.status_code == 422, response.text
    assert response.json()["reason"] == reason


def test_the_owner_releases_the_station_and_a_new_owner_may_pair(
    client: TestClient, platform: Platform
) -> None:
    labels = make_device(platform, "SN-PAIR-0007")
    owner = login(platform, client, "owner@example.com")
    pair(client, owner, labels)
    released = client.delete(f"/api/v1/app/stations/{labels.serial}/ownership", headers=owner)
    assert released.status_code == 204
    assert device_state(platform, labels.serial) == "released"
    assert client.get(f"/api/v1/app/stations/{labels.serial}", headers=owner).status_code == 404
    pair(client, login(platform, client, "buyer@example.com"), labels)


@pytest.mark.postgres  # the race is decided by PostgreSQL row locks
def test_of_two_users_pairing_at_once_exactly_one_wins(platform: Platform) -> None:
    if platform.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    labels = make_device(platform, "SN-RACE-0001")
    emails = [f"racer{n}@example.com" for n in range(8)]
    for address in emails:
        make_user(platform, address)
    statuses: list[int] = []
    with LiveServer(create_app(platform=platform)) as server:
        tokens = []
        for address in emails:
            answer = httpx.post(
                f"{server.url}/oauth/token",
                data={"grant_type": "password", "username": address, "password": PASSWORD},
            )
            tokens.append(answer.json()["access_token"])
        barrier = threading.Barrier(len(tokens))

        def race(token: str) -> None:
            barrier.wait()
            answer = httpx.post(
                f"{server.url}/api/v1/app/pairings",
                json={"device_label": labels.device, "packaging_label": labels.packaging},
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            statuses.append(answer.status_code)

        threads = [threading.Thread(target=race, args=(t,)) for t in tokens]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(statuses) == [201] + [409] * (len(emails) - 1)
