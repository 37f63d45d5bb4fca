"""The dashboard's command forms against a station of the ``ocpp`` package (1.6 and 2.0.1, which
check every call they receive against the OCPP schemas): what the form sends is what a real
implementation accepts, and its own answer comes back on the page."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v16.datatypes import KeyValue
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from websockets.asyncio.client import connect

from tests.dashboard.pages import csrf_of
from tests.e2e.conftest import RunningPlatform, basic
from tests.e2e.http import OPEN_TIMEOUT, TIMEOUT
from tests.eventually import eventually
from tests.factories import PASSWORD, make_user


class Library16(ChargePoint16):  # type: ignore[misc]
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.starts: list[dict[str, Any]] = []

    @on("RemoteStartTransaction")
    def remote_start(self, **payload: Any) -> result16.RemoteStartTransaction:
        self.starts.append(payload)
        return result16.RemoteStartTransaction(status="Accepted")

    @on("GetConfiguration")
    def get_configuration(self, **_: Any) -> result16.GetConfiguration:
        return result16.GetConfiguration(
            configuration_key=[KeyValue(key="HeartbeatInterval", readonly=False, value="60")],
            unknown_key=["NoSuchKey"],
        )

    @on("Reset")
    def reset(self, **_: Any) -> result16.Reset:
        return result16.Reset(status="Rejected")


class Library201(ChargePoint201):  # type: ignore[misc]
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.starts: list[dict[str, Any]] = []

    @on("RequestStartTransaction")
    def request_start(self, **payload: Any) -> result201.RequestStartTransaction:
        self.starts.append(payload)
        return result201.RequestStartTransaction(status="Accepted")


@contextlib.asynccontextmanager
async def admin_http(running: RunningPlatform) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client logged in to the dashboard as an admin (its session cookie kept)."""
    make_user(running.platform, "admin@example.com", "admin")
    async with httpx.AsyncClient(base_url=running.api_url, timeout=TIMEOUT) as http:
        await _log_in(http)
        yield http


async def _log_in(http: httpx.AsyncClient) -> None:
    form = (await http.get("/login")).text
    token = re.search(r'name="login_csrf" value="([^"]+)"', form)
    assert token
    answer = await http.post(
        "/login",
        data={"email": "admin@example.com", "password": PASSWORD, "login_csrf": token.group(1)},
    )
    assert answer.status_code == 303, answer.text


async def post_command(
    http: httpx.AsyncClient, station_id: str, name: str, fields: dict[str, str]
) -> str:
    csrf = csrf_of((await http.get(f"/stations/{station_id}")).text)
    answer = await http.post(
        f"/stations/{station_id}/commands/{name}", data={"csrf_token": csrf, **fields}
    )
    assert answer.status_code == 200, answer.text
    return answer.text


def status_of(page: str) -> str:
    found = re.search(r'class="answer-status">([^<]+)<', page)
    assert found, "the page shows no answer"
    return found.group(1)


async def test_a_16_library_station_takes_the_forms_and_its_answers_are_shown(
    running: RunningPlatform,
) -> None:
    running.add_station("CP-LIB16")
    async with connect(
        f"{running.ocpp_url}/CP-LIB16",
        subprotocols=["ocpp1.6"],  # type: ignore[list-item]
        additional_headers=basic("CP-LIB16"),
        open_timeout=OPEN_TIMEOUT,
    ) as ws:
        station = Library16("CP-LIB16", ws)
        runner = asyncio.create_task(station.start())
        try:
            boot = call16.BootNotification(charge_point_vendor="ACME", charge_point_model="L16")
            assert (await station.call(boot)).status == "Accepted"
            async with admin_http(running) as http:
                start = await post_command(
                    http, "CP-LIB16", "start", {"start-id_token": "CARD-77", "start-evse_id": "1"}
                )
                assert status_of(start) == "Accepted"
                assert station.starts == [{"connector_id": 1, "id_tag": "CARD-77"}]
                config = await post_command(
                    http, "CP-LIB16", "get-configuration", {"get-configuration-keys": ""}
                )
                assert "HeartbeatInterval" in config and "NoSuchKey" in config
                reset = await post_command(http, "CP-LIB16", "reset", {"reset-mode": "OnIdle"})
                assert status_of(reset) == "Rejected"  # the station's own word, not ours
        finally:
            runner.cancel()


async def test_a_201_library_station_starts_from_the_form_with_a_valid_request(
    running: RunningPlatform,
) -> None:
    running.add_station("CP-LIB201")
    async with connect(
        f"{running.ocpp_url}/CP-LIB201",
        subprotocols=["ocpp2.0.1"],  # type: ignore[list-item]
        additional_headers=basic("CP-LIB201"),
        open_timeout=OPEN_TIMEOUT,
    ) as ws:
        station = Library201("CP-LIB201", ws)
        runner = asyncio.create_task(station.start())
        try:
            boot = call201.BootNotification(
                charging_station={"vendor_name": "ACME", "model": "L201"}, reason="PowerUp"
            )
            assert (await station.call(boot)).status == "Accepted"
            async with admin_http(running) as http:
                page = await post_command(
                    http,
                    "CP-LIB201",
                    "start",
                    {"start-id_token": "CARD-88", "start-id_token_type": "ISO14443"},
                )
                assert status_of(page) == "Accepted"
            await eventually(lambda: bool(station.starts))
            [request] = station.starts
            assert request["id_token"] == {"id_token": "CARD-88", "type": "ISO14443"}
            assert isinstance(request["remote_start_id"], int)
        finally:
            runner.cancel()
