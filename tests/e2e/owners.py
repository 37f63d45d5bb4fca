"""Owners in the end-to-end tests: logging in over HTTP and pairing a station."""

from __future__ import annotations

import httpx

from tests.e2e.conftest import RunningPlatform
from tests.owner_helpers import make_device


async def login(http: httpx.AsyncClient, address: str, password: str) -> dict[str, str]:
    answer = await http.post(
        "/oauth/token", data={"grant_type": "password", "username": address, "password": password}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def pair(
    http: httpx.AsyncClient, headers: dict[str, str], running: RunningPlatform, serial: str
) -> None:
    labels = make_device(running.platform, serial)
    running.add_station(serial)
    paired = await http.post(
        "/api/v1/app/pairings",
        json={"device_label": labels.device, "packaging_label": labels.packaging},
        headers=headers,
    )
    assert paired.status_code == 201, paired.text
