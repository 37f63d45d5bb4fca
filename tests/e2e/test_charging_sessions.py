"""Whole charging sessions over real sockets, raw frames, the real core and database."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlmodel import Session, col, select
from websockets.asyncio.client import ClientConnection, connect

from app.platform import Platform
from charging.tables import MeterSampleRow, Station, Transaction
from tests.e2e.conftest import RunningPlatform, basic
from tests.e2e.http import api_client
from tests.e2e.stations import PLATFORM_CALL_REPLIES
from tests.eventually import eventually
from tests.factories import admin_headers_http


async def call(ws: ClientConnection, message_id: str, action: str, payload: dict[str, Any]) -> Any:
    await ws.send(json.dumps([2, message_id, action, payload]))
    while True:
        answer = json.loads(await ws.recv())
        if answer[0] != 2:
            break
        # The platform may ask something of its own meanwhile (local-list sync on connect).
        await ws.send(json.dumps([3, answer[1], PLATFORM_CALL_REPLIES.get(answer[2], {})]))
    assert answer[0] == 3 and answer[1] == message_id, answer
    return answer[2]


def meter(ts: str, wh: float, w: float) -> dict[str, Any]:
    return {
        "timestamp": ts,
        "sampledValue": [
            {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
            {"value": str(w / 1000), "measurand": "Power.Active.Import", "unit": "kW"},
        ],
    }


def transactions(platform: Platform, station_id: str) -> list[Transaction]:
    with Session(platform.engine) as session:
        return list(
            session.exec(
                select(Transaction)
                .where(Transaction.station_id == station_id)
                .order_by(col(Transaction.id))
            ).all()
        )


async def test_an_ocpp16_station_charges_end_to_end(running: RunningPlatform) -> None:
    running.add_station("CP-16")
    running.add_id_token("CARD-1")
    async with connect(
        f"{running.ocpp_url}/CP-16", subprotocols=["ocpp1.6"], additional_headers=basic("CP-16")
    ) as ws:
        boot = await call(
            ws,
            "1",
            "BootNotification",
            {
                "chargePointVendor": "ACME",
                "chargePointModel": "Wallbox-1",
                "firmwareVersion": "1.2.3",
            },
        )
        assert boot["status"] == "Accepted" and boot["interval"] == 60
        await call(
            ws,
            "2",
            "StatusNotification",
            {"connectorId": 1, "errorCode": "NoError", "status": "Available"},
        )
        assert (await call(ws, "3", "Authorize", {"idTag": "CARD-1"}))["idTagInfo"][
            "status"
        ] == "Accepted"
        assert (await call(ws, "3b", "Authorize", {"idTag": "NOBODY"}))["idTagInfo"][
            "status"
        ] == "Invalid"
        start = {
            "connectorId": 1,
            "idTag": "CARD-1",
            "meterStart": 1000,
            "timestamp": "2026-11-21T10:00:00Z",
        }
        started = await call(ws, "4", "StartTransaction", start)
        again = await call(ws, "4-retry", "StartTransaction", start)
        assert again["transactionId"] == started["transactionId"]
        tx_id = started["transactionId"]
        for n, (wh, w) in enumerate([(2000, 7200), (3000, 7400), (4000, 7100)]):
            values = {
                "connectorId": 1,
                "transactionId": tx_id,
                "meterValue": [meter(f"2026-11-21T10:{10 * (n + 1):02d}:00Z", wh, w)],
            }
            assert await call(ws, f"m{n}", "MeterValues", values) == {}
        stop = {
            "transactionId": tx_id,
            "meterStop": 4500,
            "timestamp": "2026-11-21T10:40:00Z",
            "reason": "EVDisconnected",
        }
        await call(ws, "5", "StopTransaction", stop)
        await call(ws, "5-retry", "StopTransaction", stop)
    [tx] = transactions(running.platform, "CP-16")
    assert tx.state == "ended" and tx.energy_wh == 3500 and tx.stop_reason == "EVDisconnected"
    with Session(running.platform.engine) as session:
        samples = session.exec(
            select(MeterSampleRow).where(MeterSampleRow.transaction_id == tx.id)
        ).all()
        station = session.get(Station, "CP-16")
    assert len(samples) == 6
    assert station is not None and station.vendor == "ACME" and station.firmware_version == "1.2.3"


async def test_an_ocpp201_station_charges_with_queued_and_resent_events(
    running: RunningPlatform,
) -> None:
    running.add_station("CP-201")
    running.add_id_token("CARD-2")

    def event(kind: str, seq: int, ts: str, wh: float, **extra: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "eventType": kind,
            "timestamp": ts,
            "seqNo": seq,
            "triggerReason": "MeterValuePeriodic",
            "transactionInfo": {"transactionId": "tx-201-a"},
            "meterValue": [
                {
                    "timestamp": ts,
                    "sampledValue": [{"value": wh, "measurand": "Energy.Active.Import.Register"}],
                }
            ],
        }
        body.update(extra)
        return body

    async with connect(
        f"{running.ocpp_url}/CP-201", subprotocols=["ocpp2.0.1"], additional_headers=basic("CP-201")
    ) as ws:
        boot = await call(
            ws,
            "1",
            "BootNotification",
            {"reason": "PowerUp", "chargingStation": {"vendorName": "ACME", "model": "W2"}},
        )
        assert boot["status"] == "Accepted"
        started = await call(
            ws,
            "2",
            "TransactionEvent",
            event(
                "Started",
                0,
                "2026-11-21T11:00:00Z",
                100,
                triggerReason="Authorized",
                idToken={"idToken": "CARD-2", "type": "ISO14443"},
                evse={"id": 1, "connectorId": 1},
            ),
        )
        assert started["idTokenInfo"]["status"] == "Accepted"
        await call(ws, "3", "TransactionEvent", event("Updated", 1, "2026-11-21T11:15:00Z", 2100))
        await call(ws, "3r", "TransactionEvent", event("Updated", 1, "2026-11-21T11:15:00Z", 2100))
        await call(
            ws,
            "4",
            "TransactionEvent",
            event("Updated", 2, "2026-11-21T11:30:00Z", 4100, offline=True),
        )
        await call(
            ws,
            "5",
            "TransactionEvent",
            event(
                "Ended",
                3,
                "2026-11-21T11:45:00Z",
                6100,
                triggerReason="EVDeparted",
                transactionInfo={"transactionId": "tx-201-a", "stoppedReason": "EVDisconnected"},
            ),
        )
    [tx] = transactions(running.platform, "CP-201")
    assert tx.transaction_ref == "tx-201-a" and tx.state == "ended"
    assert tx.energy_wh == 6000
    with Session(running.platform.engine) as session:
        rows = session.exec(
            select(MeterSampleRow).where(MeterSampleRow.transaction_id == tx.id)
        ).all()
    assert sorted(r.value for r in rows) == [100, 2100, 4100, 6100]


async def test_remote_commands_reach_the_station_and_bring_its_answer_back(
    running: RunningPlatform,
) -> None:
    running.add_station("CP-CMD")
    async with api_client(running.api_url) as http:
        headers = await admin_headers_http(running.platform, http)
        offline = await http.post("/api/v1/stations/CP-CMD/commands/reset", headers=headers)
        assert offline.status_code == 409 and offline.json()["type"].endswith("station-offline")
        unknown = await http.post("/api/v1/stations/NOPE/commands/reset", headers=headers)
        assert unknown.status_code == 404
        async with connect(
            f"{running.ocpp_url}/CP-CMD",
            subprotocols=["ocpp1.6"],
            additional_headers=basic("CP-CMD"),
        ) as ws:
            await eventually(lambda: running.edge.gateway.is_connected("CP-CMD"))

            async def station_answers(answer: list[Any] | None) -> list[Any]:
                frame = json.loads(await ws.recv())
                if answer is not None:
                    await ws.send(json.dumps([answer[0], frame[1], *answer[1:]]))
                return frame

            request = http.post(
                "/api/v1/stations/CP-CMD/commands/reset",
                json={"mode": "Immediate"},
                headers=headers,
            )
            response, frame = await asyncio.gather(
                request, station_answers([3, {"status": "Rejected"}])
            )
            assert frame[2:] == ["Reset", {"type": "Hard"}]
            assert response.status_code == 200
            assert response.json()["status"] == "Rejected"

            request = http.post(
                "/api/v1/stations/CP-CMD/commands/get-configuration",
                json={"keys": ["HeartbeatInterval"]},
                headers=headers,
            )
            response, _ = await asyncio.gather(
                request,
                station_answers(
                    [
                        3,
                        {
                            "configurationKey": [
                                {"key": "HeartbeatInterval", "readonly": False, "value": "60"}
                            ]
                        },
                    ]
                ),
            )
            assert response.json()["values"] == {"HeartbeatInterval": "60"}

            request = http.post(
                "/api/v1/stations/CP-CMD/commands/unlock", json={"evse_id": 1}, headers=headers
            )
            response, _ = await asyncio.gather(
                request, station_answers([4, "NotSupported", "no unlocking", {}])
            )
            assert response.status_code == 502
            assert response.json()["ocpp_error_code"] == "NotSupported"

            request = http.post(
                "/api/v1/stations/CP-CMD/commands/trigger",
                json={"message": "Heartbeat"},
                headers=headers,
            )
            response, _ = await asyncio.gather(request, station_answers(None))
            assert response.status_code == 504

            bad = await http.post(
                "/api/v1/stations/CP-CMD/commands/unlock", json={"evse_id": 0}, headers=headers
            )
            assert bad.status_code == 422
