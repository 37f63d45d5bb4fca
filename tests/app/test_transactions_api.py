"""The transactions API: filters, detail with meter values and curve, and refusals."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.platform import Platform
from charging import events as ev
from charging.energy import ENERGY_REGISTER, POWER
from charging.outcomes import TransactionDecision
from charging.service import ChargingCore
from tests.charging.conftest import FAST_PASSWORDS, PASSWORD, T0, at
from tests.factories import admin_headers, bearer, make_user, password_tokens
from tests.problems import assert_problem

TAG = ev.IdToken("04A1B2C3")


def seed(platform: Platform) -> tuple[int, int]:
    """One ended 1.6 transaction on CP-1 and one active one on CP-2; returns their ids."""
    core = ChargingCore(platform.engine, passwords=FAST_PASSWORDS)
    core.add_station("CP-1", PASSWORD, now=T0)
    core.add_station("CP-2", PASSWORD, now=T0)
    first = core.handle(ev.TransactionStarted("CP-1", None, 1, 1, TAG, at(0), 1_000.0), now=at(0))
    assert isinstance(first, TransactionDecision) and first.transaction_id is not None
    samples = (
        ev.MeterSample(at(30), ENERGY_REGISTER, 4_500.0, "Wh"),
        ev.MeterSample(at(30), POWER, 7_000.0, "W"),
    )
    core.handle(ev.MeterSampled("CP-1", 1, 1, samples, str(first.transaction_id)), now=at(30))
    core.handle(
        ev.TransactionEnded("CP-1", str(first.transaction_id), None, None, TAG, at(60), 8_000.0),
        now=at(60),
    )
    other = ev.TransactionStarted("CP-2", "tx-b", 1, 1, ev.IdToken("CARD-2"), at(120), 0.0, 0)
    core.handle(other, now=at(120))
    progress = ev.TransactionUpdated(
        "CP-2",
        "tx-b",
        1,
        1,
        None,
        at(150),
        1,
        samples=(ev.MeterSample(at(150), ENERGY_REGISTER, 2_000.0, "Wh"),),
    )
    core.handle(progress, now=at(150))
    return first.transaction_id, first.transaction_id + 1


def test_transactions_are_filtered(platform: Platform, client: TestClient) -> None:
    headers = admin_headers(platform, client)
    ended, active = seed(platform)

    def ids(query: str) -> list[int]:
        response = client.get(f"/api/v1/transactions{query}", headers=headers)
        assert response.status_code == 200, response.text
        return [t["id"] for t in response.json()["items"]]

    assert ids("") == [active, ended]
    assert ids("?station_id=CP-1") == [ended]
    assert ids(f"?id_token={TAG.value}") == [ended]
    assert ids("?active=true") == [active]
    assert ids("?active=false") == [ended]
    assert ids("?since=2026-03-01T13:00:00Z") == [active]
    assert ids("?until=2026-03-01T13:00:00%2B00:00") == [ended]
    assert ids("?station_id=CP-404") == []


def test_a_transaction_shows_its_meter_values_curve_and_energy(
    platform: Platform, client: TestClient
) -> None:
    headers = admin_headers(platform, client)
    ended, active = seed(platform)
    body = client.get(f"/api/v1/transactions/{ended}", headers=headers).json()
    assert (body["state"], body["energy_wh"], body["transaction_ref"]) == (
        "ended",
        7_000.0,
        str(ended),
    )
    assert [m["measurand"] for m in body["meter_values"]] == [ENERGY_REGISTER, POWER]
    assert [p["power_w"] for p in body["curve"]] == [7_000.0]
    assert body["_links"]["station"]["href"] == "/api/v1/stations/CP-1"
    live = client.get(f"/api/v1/transactions/{active}", headers=headers).json()
    assert (live["state"], live["energy_wh"]) == ("active", 2_000.0)


def test_malformed_transaction_filters_are_422(platform: Platform, client: TestClient) -> None:
    headers = admin_headers(platform, client)
    for query, field in [
        ("?since=not-a-date", "query.since"),
        ("?active=perhaps", "query.active"),
        ("?offset=-1", "query.offset"),
    ]:
        problem = assert_problem(
            client.get(f"/api/v1/transactions{query}", headers=headers), 422, "validation-error"
        )
        assert problem["detail"] == f"invalid request: {field}"
    backwards = client.get(
        "/api/v1/transactions?since=2026-03-02T00:00:00Z&until=2026-03-01T00:00:00Z",
        headers=headers,
    )
    assert assert_problem(backwards, 422, "validation-error")["detail"] == (
        "invalid request: since is after until"
    )


def test_unknown_or_malformed_transaction_ids_are_refused(
    platform: Platform, client: TestClient
) -> None:
    headers = admin_headers(platform, client)
    missing = client.get("/api/v1/transactions/9999", headers=headers)
    assert assert_problem(missing, 404, "not-found")["detail"] == "transaction not found"
    for bad in ("abc", "0", str(2**63)):
        response = client.get(f"/api/v1/transactions/{bad}", headers=headers)
        assert_problem(response, 422, "validation-error")


def test_transactions_are_for_admins_only(platform: Platform, client: TestClient) -> None:
    make_user(platform, "owner@example.com", "owner")
    owner = bearer(password_tokens(client, "owner@example.com")["access_token"])
    assert_problem(client.get("/api/v1/transactions", headers=owner), 403, "forbidden")
    assert_problem(client.get("/api/v1/transactions/1", headers=owner), 403, "forbidden")
