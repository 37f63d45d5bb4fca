"""2.0.1 remote starts over real sockets: each request carries its own remoteStartId, and the
transaction the station starts with it names the request and the user who asked (F01/F02)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, select

from app.identity.tables import User
from charging.tables import RemoteStart, Transaction
from tests.e2e.conftest import RunningPlatform
from tests.e2e.http import api_client
from tests.e2e.owners import login, pair
from tests.e2e.stations import station
from tests.eventually import eventually
from tests.factories import PASSWORD, admin_headers_http, make_user

SERIAL = "SN-REMOTE-0001"


def _event(event_type: str, ref: str, seq: int, **info: Any) -> dict[str, Any]:
    return {
        "eventType": event_type,
        "timestamp": datetime.now(UTC).isoformat(),
        "triggerReason": "RemoteStart",
        "seqNo": seq,
        "transactionInfo": {"transactionId": ref, **info},
        "evse": {"id": 1, "connectorId": 1},
    }


async def test_two_remote_starts_get_different_ids_and_the_transaction_names_its_request(
    running: RunningPlatform,
) -> None:
    owner = make_user(running.platform, "owner@example.com")
    async with api_client(running.api_url) as http:
        headers = await login(http, "owner@example.com", PASSWORD)
        await pair(http, headers, running, SERIAL)
        async with station(running, SERIAL, "ocpp2.0.1") as raw:
            first = await http.post(f"/api/v1/app/stations/{SERIAL}/charging", headers=headers)
            second = await http.post(f"/api/v1/app/stations/{SERIAL}/charging", headers=headers)
            assert first.status_code == second.status_code == 200, first.text
            sent = [p["remoteStartId"] for p in raw.calls("RequestStartTransaction")]
            assert len(sent) == 2 and sent[0] != sent[1]
            assert [first.json()["remote_start_id"], second.json()["remote_start_id"]] == sent

            # The EV was plugged in first: the request's id comes in an Updated event.
            await raw.call(
                "TransactionEvent",
                _event("Started", "tx-A", 0) | {"triggerReason": "CablePluggedIn"},
            )
            await raw.call("TransactionEvent", _event("Updated", "tx-A", 1, remoteStartId=sent[1]))
            await raw.call("TransactionEvent", _event("Started", "tx-B", 0, remoteStartId=sent[0]))

            sessions = (await http.get("/api/v1/app/sessions", headers=headers)).json()["items"]
            by_ref = {s["remote_start_id"]: s for s in sessions}
            assert set(by_ref) == set(sent)
            assert {s["started_by"] for s in sessions} == {f"user:{owner.id}"}

            admin = await admin_headers_http(running.platform, http)
            listed = (await http.get("/api/v1/transactions", headers=admin)).json()["items"]
            refs = {t["transaction_ref"]: t for t in listed}
            assert refs["tx-B"]["remote_start_id"] == sent[0]
            assert refs["tx-A"]["remote_start_id"] == sent[1]
            assert refs["tx-A"]["started_by"] == f"user:{owner.id}"

            # An admin's start gets a third id and names the admin.
            by_admin = await http.post(
                f"/api/v1/stations/{SERIAL}/commands/start",
                json={"id_token": "ADMIN-TAG", "evse_id": 1},
                headers=admin,
            )
            assert by_admin.status_code == 200, by_admin.text
            third = by_admin.json()["remote_start_id"]
            await eventually(lambda: len(raw.calls("RequestStartTransaction")) == 3)
            assert raw.calls("RequestStartTransaction")[2]["remoteStartId"] == third
            assert third not in sent
            await raw.call("TransactionEvent", _event("Started", "tx-C", 0, remoteStartId=third))
            detail = await http.get(
                f"/api/v1/transactions/{_id_of(running, 'tx-C')}", headers=admin
            )
            with Session(running.platform.engine) as session:
                admin_user = session.exec(
                    select(User).where(User.email == "admin@example.com")
                ).one()
            assert (detail.json()["remote_start_id"], detail.json()["started_by"]) == (
                third,
                f"user:{admin_user.id}",
            )


async def test_an_id_the_platform_never_gave_this_station_links_nothing(
    running: RunningPlatform,
) -> None:
    make_user(running.platform, "owner@example.com")
    async with api_client(running.api_url) as http:
        headers = await login(http, "owner@example.com", PASSWORD)
        await pair(http, headers, running, SERIAL)
        with Session(running.platform.engine) as session:
            other = RemoteStart(
                station_id="SN-SOMEWHERE-ELSE",
                id_token="T",
                requested_by="user:x",
                requested_at=datetime.now(UTC),
            )
            session.add(other)
            session.commit()
            other_id = other.id
        async with station(running, SERIAL, "ocpp2.0.1") as raw:
            await raw.call("TransactionEvent", _event("Started", "tx-X", 0, remoteStartId=other_id))
            [item] = (await http.get("/api/v1/app/sessions", headers=headers)).json()["items"]
    assert (item["remote_start_id"], item["started_by"]) == (None, None)


def _id_of(running: RunningPlatform, ref: str) -> int:
    with Session(running.platform.engine) as session:
        tx = session.exec(select(Transaction).where(Transaction.transaction_ref == ref)).one()
        assert tx.id is not None
        return tx.id
