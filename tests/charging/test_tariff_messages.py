"""OCPP 2.1 SetDefaultTariff / ChangeTransactionTariff payloads, checked against the schemas."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import ocpp
import pytest
from jsonschema import Draft6Validator, FormatChecker

from charging.day_ahead import series
from charging.errors import TariffError
from charging.tariff_messages import change_transaction_tariff, set_default_tariff
from charging.tariffs import FRIDAY, SATURDAY, SUNDAY, WEEKDAYS, Tariff, Window

D = Decimal
SCHEMAS = Path(ocpp.__file__).parent / "v21" / "schemas"


def valid(action: str, payload: dict[str, Any]) -> None:
    schema = json.loads((SCHEMAS / f"{action}Request.json").read_text())
    Draft6Validator(schema, format_checker=FormatChecker()).validate(payload)
    json.dumps(payload)  # plain JSON, nothing left to convert


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


TARIFF = Tariff(
    "EUR",
    D("0.19"),
    D("0.30"),
    "Europe/Berlin",
    (
        Window(WEEKDAYS - {FRIDAY}, time(22), time(6), D("0.20")),
        Window(frozenset({SATURDAY, SUNDAY}), time(0), time(0), D("-0.01")),
    ),
)


def test_set_default_tariff_carries_windows_before_the_base_price() -> None:
    payload = set_default_tariff(
        TARIFF, tariff_id="night-rate", evse_id=1, valid_from=at(2026, 6, 1)
    )
    valid("SetDefaultTariff", payload)
    tariff = payload["tariff"]
    assert tariff["currency"] == "EUR"
    assert tariff["validFrom"] == "2026-06-01T00:00:00Z"
    assert tariff["energy"]["taxRates"] == [{"type": "VAT", "tax": 19.0}]
    assert tariff["energy"]["prices"] == [
        {
            "priceKwh": 0.2,
            "conditions": {
                "dayOfWeek": ["Monday", "Tuesday", "Wednesday", "Thursday"],
                "startTimeOfDay": "22:00",
                "endTimeOfDay": "00:00",
            },
        },
        {
            "priceKwh": 0.2,
            "conditions": {
                "dayOfWeek": ["Tuesday", "Wednesday", "Thursday", "Friday"],
                "startTimeOfDay": "00:00",
                "endTimeOfDay": "06:00",
            },
        },
        {"priceKwh": -0.01, "conditions": {"dayOfWeek": ["Saturday", "Sunday"]}},
        {"priceKwh": 0.3},
    ]


def test_day_ahead_slots_come_first_as_dated_local_elements() -> None:
    step = timedelta(minutes=15)
    start = at(2026, 6, 5, 21, 30)  # Friday 23:30 CEST
    prices = series([(start + i * step, start + (i + 1) * step, D(i) / 10) for i in range(4)])
    tariff = Tariff("EUR", D("0.19"), D("0.30"), "Europe/Berlin", day_ahead=prices)
    payload = change_transaction_tariff(
        tariff, tariff_id="t1", transaction_id="tx-42", series_from=start + step
    )
    valid("ChangeTransactionTariff", payload)
    assert payload["transactionId"] == "tx-42"
    assert payload["tariff"]["energy"]["prices"] == [
        {
            "priceKwh": 0.1,
            "conditions": {
                "validFromDate": "2026-06-05",
                "validToDate": "2026-06-06",
                "startTimeOfDay": "23:45",
                "endTimeOfDay": "00:00",
            },
        },
        {
            "priceKwh": 0.2,
            "conditions": {
                "validFromDate": "2026-06-06",
                "validToDate": "2026-06-07",
                "startTimeOfDay": "00:00",
                "endTimeOfDay": "00:15",
            },
        },
        {
            "priceKwh": 0.3,
            "conditions": {
                "validFromDate": "2026-06-06",
                "validToDate": "2026-06-07",
                "startTimeOfDay": "00:15",
                "endTimeOfDay": "00:30",
            },
        },
        {"priceKwh": 0.3},
    ]


def test_a_window_ending_at_midnight_stays_one_element() -> None:
    tariff = Tariff(
        "CHF",
        D("0.081"),
        D("0.25"),
        "Europe/Zurich",
        (Window(frozenset({FRIDAY}), time(18), time(0), D("0.2")),),
    )
    payload = set_default_tariff(tariff, tariff_id="x")
    valid("SetDefaultTariff", payload)
    assert payload["evseId"] == 0
    assert len(payload["tariff"]["energy"]["prices"]) == 2
    assert payload["tariff"]["energy"]["taxRates"][0]["tax"] == pytest.approx(8.1)


def test_ids_outside_the_ocpp_limits_are_refused() -> None:
    with pytest.raises(TariffError):
        set_default_tariff(TARIFF, tariff_id="x" * 61)
    with pytest.raises(TariffError):
        set_default_tariff(TARIFF, tariff_id="")
    with pytest.raises(TariffError):
        set_default_tariff(TARIFF, tariff_id="x", evse_id=-1)
    with pytest.raises(TariffError):
        change_transaction_tariff(TARIFF, tariff_id="x", transaction_id="t" * 37)
