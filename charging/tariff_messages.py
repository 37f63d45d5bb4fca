"""OCPP 2.1 tariffs (``TariffType``) built from a :class:`~charging.tariffs.Tariff`, as dicts.

The payloads of SetDefaultTariff (OCPP 2.1 I07) and ChangeTransactionTariff (I10), so that a
station can show the driver the cost while charging. OCPP 2.1 prices energy net (``priceKwh``,
"excl. tax") with VAT as a tax rate in percent, which is how a :class:`Tariff` keeps its prices.

A station uses the first price element whose conditions hold, so the elements come in the order
the platform applies them (:mod:`charging.tariffs`):

1. day-ahead slots from ``series_from`` on: each a dated element (``validFromDate`` the slot's
   local day, ``validToDate`` the next day, ``startTimeOfDay``/``endTimeOfDay`` its local
   times). On the day the clocks go back, the two passes of the repeated hour read alike; the
   station then shows the first pass's price for both (the platform's own cost is exact);
2. windows by ``dayOfWeek``; a window that runs past midnight becomes two elements (until
   00:00 on its days, from 00:00 on the following days), so no station has to guess which day a
   wrapping window belongs to; a whole-day window carries no times;
3. the base price, without conditions.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from charging.errors import TariffError
from charging.tariffs import Tariff, Window

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MIDNIGHT = time(0)


def tariff_type(
    tariff: Tariff,
    *,
    tariff_id: str,
    valid_from: datetime | None = None,
    series_from: datetime | None = None,
) -> dict[str, Any]:
    """The OCPP 2.1 ``TariffType`` for ``tariff`` (day-ahead slots ending after ``series_from``).

    Raises:
        TariffError: (``tariff_id``) empty or longer than 60 characters.
    """
    if not 1 <= len(tariff_id) <= 60:
        raise TariffError("tariff_id", "an OCPP tariff id has 1 to 60 characters")
    prices = [*_series_prices(tariff, series_from), *_window_prices(tariff.windows)]
    prices.append({"priceKwh": float(tariff.base_price_per_kwh)})
    payload: dict[str, Any] = {
        "tariffId": tariff_id,
        "currency": tariff.currency,
        "energy": {
            "prices": prices,
            "taxRates": [{"type": "VAT", "tax": float(tariff.vat_rate * 100)}],
        },
    }
    if valid_from is not None:
        payload["validFrom"] = _timestamp(valid_from)
    return payload


def set_default_tariff(
    tariff: Tariff,
    *,
    tariff_id: str,
    evse_id: int = 0,
    valid_from: datetime | None = None,
    series_from: datetime | None = None,
) -> dict[str, Any]:
    """SetDefaultTariffRequest (OCPP 2.1 I07); ``evse_id`` 0 means the whole station."""
    if evse_id < 0:
        raise TariffError("evse_id", "an EVSE id is 0 (the station) or more")
    built = tariff_type(tariff, tariff_id=tariff_id, valid_from=valid_from, series_from=series_from)
    return {"evseId": evse_id, "tariff": built}


def change_transaction_tariff(
    tariff: Tariff,
    *,
    tariff_id: str,
    transaction_id: str,
    series_from: datetime | None = None,
) -> dict[str, Any]:
    """ChangeTransactionTariffRequest (OCPP 2.1 I10) for a running transaction."""
    if not 1 <= len(transaction_id) <= 36:
        raise TariffError("transaction_id", "an OCPP transaction id has 1 to 36 characters")
    built = tariff_type(tariff, tariff_id=tariff_id, series_from=series_from)
    return {"transactionId": transaction_id, "tariff": built}


def _series_prices(tariff: Tariff, series_from: datetime | None) -> list[dict[str, Any]]:
    if tariff.day_ahead is None:
        return []
    prices: list[dict[str, Any]] = []
    for slot in tariff.day_ahead.slots:
        if series_from is not None and slot.end <= series_from:
            continue
        start = slot.start.astimezone(tariff.zone)
        end = slot.end.astimezone(tariff.zone)
        conditions = {
            "validFromDate": start.date().isoformat(),
            "validToDate": (start.date() + timedelta(days=1)).isoformat(),
            "startTimeOfDay": f"{start:%H:%M}",
            "endTimeOfDay": f"{end:%H:%M}",
        }
        prices.append({"priceKwh": float(slot.price_per_kwh), "conditions": conditions})
    return prices


def _window_prices(windows: tuple[Window, ...]) -> list[dict[str, Any]]:
    prices: list[dict[str, Any]] = []
    for window in windows:
        price = float(window.price_per_kwh)
        days = sorted(window.days)
        if window.start == _MIDNIGHT and window.end == _MIDNIGHT:
            prices.append({"priceKwh": price, "conditions": {"dayOfWeek": _names(days)}})
            continue
        wraps = window.end <= window.start
        until = _MIDNIGHT if wraps else window.end
        conditions: dict[str, Any] = {
            "dayOfWeek": _names(days),
            "startTimeOfDay": f"{window.start:%H:%M}",
            "endTimeOfDay": f"{until:%H:%M}",
        }
        prices.append({"priceKwh": price, "conditions": conditions})
        if wraps and window.end != _MIDNIGHT:
            following = {
                "dayOfWeek": _names(sorted((d + 1) % 7 for d in days)),
                "startTimeOfDay": "00:00",
                "endTimeOfDay": f"{window.end:%H:%M}",
            }
            prices.append({"priceKwh": price, "conditions": following})
    return prices


def _names(days: list[int]) -> list[str]:
    return [DAY_NAMES[d] for d in days]


def _timestamp(value: datetime) -> str:
    if value.tzinfo is None:
        raise TariffError("valid_from", "times must carry a UTC offset")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
