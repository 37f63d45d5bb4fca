"""The sessions pages over HTTP: the filtered list, one session, its curve JSON, who may look."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from app.platform import Platform
from charging import events as ev
from charging.curves import MAX_POINTS
from charging.energy import ENERGY_REGISTER, POWER
from charging.outcomes import TransactionDecision
from charging.service import ChargingCore
from charging.tables import MeterSampleRow
from tests.charging.conftest import FAST_PASSWORDS, PASSWORD, T0, at
from tests.dashboard.pages import log_in, post_login
from tests.factories import make_user

TAG = ev.IdToken("04A1B2C3")


def seed(platform: Platform) -> tuple[int, int]:
    """An ended 1.6 session on CP-1 (power reported) and a running one on CP-2 (energy only,
    a day later); returns their ids."""
    core = ChargingCore(platform.engine, passwords=FAST_PASSWORDS)
    core.add_station("CP-1", PASSWORD, now=T0)
    core.add_station("CP-2", PASSWORD, now=T0)
    first = core.handle(ev.TransactionStarted("CP-1", None, 1, 1, TAG, at(0), 1_000.0), now=at(0))
    assert isinstance(first, TransactionDecision) and first.transaction_id is not None
    for minute, wh, w in ((10, 2_000.0, 6_000.0), (20, 3_200.0, 7_200.0), (30, 4_500.0, 7_800.0)):
        samples = (
            ev.MeterSample(at(minute), ENERGY_REGISTER, wh, "Wh"),
            ev.MeterSample(at(minute), POWER, w, "W"),
        )
        core.handle(
            ev.MeterSampled("CP-1", 1, 1, samples, str(first.transaction_id)), now=at(minute)
        )
    core.handle(
        ev.TransactionEnded("CP-1", str(first.transaction_id), None, None, TAG, at(60), 8_000.0),
        now=at(60),
    )
    day = 24 * 60
    core.handle(
        ev.TransactionStarted("CP-2", "tx-b", 2, 1, ev.IdToken("CARD-2"), at(day), 0.0, 0),
        now=at(day),
    )
    for seq, (minute, wh) in enumerate(((day + 15, 1_500.0), (day + 30, 4_500.0)), start=1):
        update = ev.TransactionUpdated(
            "CP-2",
            "tx-b",
            2,
            1,
            None,
            at(minute),
            seq,
            samples=(ev.MeterSample(at(minute), ENERGY_REGISTER, wh, "Wh"),),
        )
        core.handle(update, now=at(minute))
    return first.transaction_id, first.transaction_id + 1


def session_links(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<td><a href="/sessions/(\d+)">', html)]


def test_the_list_shows_sessions_newest_first_and_filters_them(
    platform: Platform, client: TestClient
) -> None:
    log_in(platform, client, "admin")
    ended, running = seed(platform)

    def ids(query: str) -> list[int]:
        answer = client.get(f"/sessions{query}")
        assert answer.status_code == 200, answer.text
        return session_links(answer.text)

    page = client.get("/sessions")
    assert "<h1>Sessions</h1>" in page.text and "7.000" in page.text and "04A1B2C3" in page.text
    assert ids("") == [running, ended]
    assert ids("?station=CP-1") == [ended]
    assert ids("?status=running") == [running]
    assert ids("?status=finished") == [ended]
    assert ids(f"?id_token={TAG.value}") == [ended]
    assert ids("?from=2026-03-02") == [running]
    assert ids("?to=2026-03-01") == [ended]
    assert ids("?from=2026-03-01&to=2026-03-01&station=CP-1") == [ended]
    assert ids("?station=CP-404") == []


def test_hostile_filters_are_escaped_named_and_left_out(
    platform: Platform, client: TestClient
) -> None:
    log_in(platform, client, "admin")
    ended, running = seed(platform)
    answer = client.get(
        "/sessions",
        params={
            "station": "<script>alert(1)</script>",
            "status": "<b>all</b>",
            "id_token": "x" * 60_000,  # about what a client sends in a URL
            "from": "yesterday",
            "to": "2026-02-30",
            "offset": "-5",
        },
    )
    assert answer.status_code == 200
    assert "<script>alert(1)</script>" not in answer.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in answer.text
    assert "At most 64 characters." in answer.text
    assert "Choose running or finished." in answer.text
    assert answer.text.count("Use a date such as 2026-03-01.") == 2
    assert session_links(answer.text) == []  # no station is called <script>...
    left_out = client.get("/sessions?status=all&from=yesterday&id_token=" + "x" * 70)
    assert session_links(left_out.text) == [running, ended]
    long_station = client.get("/sessions", params={"station": "CP-" + "9" * 60})
    assert "At most 48 characters." in long_station.text
    backwards = client.get("/sessions?from=2026-03-05&to=2026-03-01")
    assert "The end date is before the start date." in backwards.text
    for offset in ("99999999999", "1e9", "%00"):
        assert client.get(f"/sessions?offset={offset}").status_code == 200


def test_a_session_page_shows_its_facts_and_meter_values(
    platform: Platform, client: TestClient
) -> None:
    log_in(platform, client, "admin")
    ended, running = seed(platform)
    page = client.get(f"/sessions/{ended}")
    assert page.status_code == 200
    assert f"<h1>Session {ended}</h1>" in page.text
    assert "7.000 kWh" in page.text and "CP-1" in page.text and "finished" in page.text
    assert page.text.count("<td>Energy.Active.Import.Register</td>") == 3
    assert page.text.count("<td>Power.Active.Import</td>") == 3
    assert f'data-curve-url="/sessions/{ended}/curve.json"' in page.text
    assert "data-live-station" not in page.text  # an ended session does not refresh
    live = client.get(f"/sessions/{running}")
    assert "4.500 kWh so far" in live.text and 'data-live-station="CP-2"' in live.text
    facts = client.get(f"/sessions/{running}/facts")
    assert facts.status_code == 200 and "<html" not in facts.text and "4.500 kWh" in facts.text
    paged = client.get(f"/sessions/{ended}?limit=10&offset=4")
    assert paged.text.count("<td>Power.Active.Import</td>") == 1
    assert 'rel="prev"' in paged.text and 'rel="next"' not in paged.text


@pytest.mark.parametrize(
    "path",
    ["/sessions/424242", "/sessions/abc", "/sessions/-1", "/sessions/0", "/sessions/" + "9" * 12],
)
def test_an_unknown_session_is_a_404_page(
    platform: Platform, client: TestClient, path: str
) -> None:
    log_in(platform, client, "admin")
    answer = client.get(path)
    assert answer.status_code == 404 and "No such session" in answer.text
    assert client.get("/sessions/424242/curve.json").status_code == 404
    assert client.get("/sessions/424242/facts").status_code == 404


def test_support_reads_the_pages_and_manufacturing_may_not(
    platform: Platform, client: TestClient
) -> None:
    ended, _ = seed(platform)
    log_in(platform, client, "support")
    for path in ("/sessions", f"/sessions/{ended}", f"/sessions/{ended}/curve.json"):
        assert client.get(path).status_code == 200, path
    assert '<form method="post" action="/sessions' not in client.get(f"/sessions/{ended}").text
    client.cookies.clear()
    make_user(platform, "line@example.com", "manufacturing")
    assert post_login(client, "line@example.com").status_code == 303
    for path in ("/sessions", f"/sessions/{ended}", f"/sessions/{ended}/curve.json"):
        answer = client.get(path)
        assert answer.status_code == 403 and "Not allowed" in answer.text, path


def test_the_pages_take_no_posts_and_send_visitors_to_the_login(
    platform: Platform, client: TestClient
) -> None:
    ended, _ = seed(platform)
    visitor = client.get(f"/sessions/{ended}/curve.json", follow_redirects=False)
    assert visitor.status_code == 303
    assert visitor.headers["location"] == f"/login?next=/sessions/{ended}/curve.json"
    log_in(platform, client, "admin")
    assert client.post("/sessions", data={}).status_code == 405


def test_the_curve_json_carries_power_and_energy_from_the_samples(
    platform: Platform, client: TestClient
) -> None:
    log_in(platform, client, "admin")
    ended, running = seed(platform)
    body = client.get(f"/sessions/{ended}/curve.json").json()
    minutes = [at(m).timestamp() for m in (10, 20, 30)]
    assert body["power_kw"] == {"t": minutes, "y": [6.0, 7.2, 7.8]}
    # Energy delivered: the register minus meterStart (1,000 Wh).
    assert body["energy_kwh"] == {"t": minutes, "y": [1.0, 2.2, 3.5]}
    assert body["plan_kw"] == {"t": [], "y": []}
    assert (body["readings"], body["thinned"], body["running"]) == (6, False, False)
    derived = client.get(f"/sessions/{running}/curve.json").json()
    # No power reported: the average between register readings (3,000 Wh in 15 minutes = 12 kW).
    assert derived["power_kw"] == {"t": [at(24 * 60 + 30).timestamp()], "y": [12.0]}
    assert derived["energy_kwh"]["y"] == [1.5, 4.5] and derived["running"] is True


def test_a_long_session_is_thinned_keeping_its_peaks(
    platform: Platform, client: TestClient
) -> None:
    log_in(platform, client, "admin")
    ended, _ = seed(platform)
    count = 12_000
    rows = []
    for n in range(count):
        t = at(90) + timedelta(seconds=10 * n)
        watts = 99_000.0 if n == 7_777 else 3_000.0 + (n % 50) * 10
        rows.append(
            {
                "transaction_id": ended,
                "station_id": "CP-1",
                "evse_id": 1,
                "timestamp": t,
                "measurand": POWER,
                "value": watts,
                "unit": "W",
            }
        )
        rows.append(
            {
                "transaction_id": ended,
                "station_id": "CP-1",
                "evse_id": 1,
                "timestamp": t,
                "measurand": ENERGY_REGISTER,
                "value": 10_000.0 + n,
                "unit": "Wh",
            }
        )
    with platform.engine.begin() as connection:
        connection.execute(insert(MeterSampleRow), rows)
    body = client.get(f"/sessions/{ended}/curve.json").json()
    assert body["thinned"] is True and body["readings"] == 2 * count + 6
    assert 0 < len(body["power_kw"]["t"]) <= MAX_POINTS
    assert 0 < len(body["energy_kwh"]["t"]) <= MAX_POINTS
    assert max(body["power_kw"]["y"]) == 99.0 and min(body["power_kw"]["y"]) == 3.0
    assert body["energy_kwh"]["y"][-1] == pytest.approx((10_000.0 + count - 1 - 1_000.0) / 1000)
    assert body["power_kw"]["t"] == sorted(body["power_kw"]["t"])
    # A later reading changes the curve at once (a long session's curve is cached by its span).
    late = {**rows[-2], "timestamp": at(90) + timedelta(seconds=10 * count), "value": 120_000.0}
    with platform.engine.begin() as connection:
        connection.execute(insert(MeterSampleRow), [late])
    again = client.get(f"/sessions/{ended}/curve.json").json()
    assert max(again["power_kw"]["y"]) == 120.0 and again["readings"] == 2 * count + 7
