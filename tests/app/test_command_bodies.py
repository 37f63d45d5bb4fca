"""Command bodies that could never fit a station's frame are refused at the REST edge."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.platform import Platform
from tests.factories import admin_headers
from tests.problems import assert_problem


def test_a_data_transfer_whose_data_cannot_fit_a_frame_is_422_naming_the_field(
    platform: Platform, client: TestClient
) -> None:
    headers = admin_headers(platform, client)
    body = {"vendor_id": "com.example", "data": "x" * (64 * 1024)}
    response = client.post(
        "/api/v1/stations/CP-1/commands/data-transfer", json=body, headers=headers
    )
    problem = assert_problem(response, 422, "validation-error")
    assert [e["field"] for e in problem["errors"]] == ["data"]
    assert "longer than 65536 characters" in response.text

    body["data"] = {"nested": ["y" * 1000] * 10}
    fits = client.post("/api/v1/stations/CP-1/commands/data-transfer", json=body, headers=headers)
    assert fits.status_code == 404, fits.text  # passed validation; no station CP-1
