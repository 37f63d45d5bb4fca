"""A station built with the ``ocpp`` library connects with its issued certificate (profile 3)."""

from __future__ import annotations

import asyncio
import ssl

import pytest
from ocpp.v16 import ChargePoint, call
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from app.ca.revocation_watch import RevocationWatch
from pki import KeyKind
from tests.e2e.conftest import basic
from tests.e2e.tls import StationKeys, TlsGateway, enrol


def client_context(gateway: TlsGateway, keys: StationKeys) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=gateway.root)
    context.load_cert_chain(keys.chain, keys.key)
    return context


def url(gateway: TlsGateway, station_id: str) -> str:
    return f"wss://127.0.0.1:{gateway.port}/ocpp/{station_id}"


@pytest.mark.parametrize("kind", [KeyKind.EC_P256, KeyKind.RSA_2048], ids=["ec", "rsa"])
async def test_a_station_boots_over_mutual_tls_with_its_certificate(
    tls_gateway: TlsGateway, kind: KeyKind
) -> None:
    keys = enrol(tls_gateway.platform.ca, tls_gateway.files, "CP-A", kind)
    async with connect(
        url(tls_gateway, "CP-A"), subprotocols=["ocpp1.6"], ssl=client_context(tls_gateway, keys)
    ) as ws:
        station = ChargePoint("CP-A", ws)
        runner = asyncio.create_task(station.start())
        answer = await station.call(
            call.BootNotification(charge_point_vendor="ACME", charge_point_model="X1")
        )
        assert answer.status == "Accepted"
        assert tls_gateway.gateway.sessions["CP-A"].admission.profile == 3
        runner.cancel()


async def _refused(gateway: TlsGateway, station_id: str, keys: StationKeys) -> str:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(
            url(gateway, station_id), subprotocols=["ocpp1.6"], ssl=client_context(gateway, keys)
        ):
            pass
    assert refused.value.response.status_code == 401
    return refused.value.response.body.decode()


async def test_station_a_certificate_on_station_b_url_is_refused(tls_gateway: TlsGateway) -> None:
    keys = enrol(tls_gateway.platform.ca, tls_gateway.files, "CP-A", KeyKind.EC_P256)
    reason = await _refused(tls_gateway, "CP-B", keys)
    assert reason == (
        "client certificate refused: subject CN 'CP-A' does not name station 'CP-B'\n"
    )


async def test_a_revoked_certificate_fails_the_next_handshake_and_closes_the_open_one(
    tls_gateway: TlsGateway,
) -> None:
    keys = enrol(tls_gateway.platform.ca, tls_gateway.files, "CP-A", KeyKind.EC_P256)
    watch = RevocationWatch(tls_gateway.platform.ca, tls_gateway.gateway, interval=0.1)
    await watch.start()
    try:
        async with connect(
            url(tls_gateway, "CP-A"),
            subprotocols=["ocpp1.6"],
            ssl=client_context(tls_gateway, keys),
        ) as ws:
            await asyncio.to_thread(tls_gateway.revoke, keys.serial_hex)  # as the CLI would
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), timeout=5)
            assert ws.close_code == 1008
    finally:
        await watch.aclose()
    reason = await _refused(tls_gateway, "CP-A", keys)
    assert (
        reason
        == f"client certificate refused: certificate {int(keys.serial_hex, 16):x} is revoked\n"
    )


async def test_password_guesses_never_throttle_a_valid_client_certificate(
    tls_gateway: TlsGateway,
) -> None:
    keys = enrol(tls_gateway.platform.ca, tls_gateway.files, "CP-A", KeyKind.EC_P256)
    plain = ssl.create_default_context(cafile=tls_gateway.root)
    statuses = []
    for n in range(12):
        with pytest.raises(InvalidStatus) as refused:
            async with connect(
                url(tls_gateway, "CP-A"),
                subprotocols=["ocpp1.6"],
                ssl=plain,
                additional_headers=basic("CP-A", f"guess-number-{n:08d}"),
            ):
                pass
        statuses.append(refused.value.response.status_code)
    assert statuses == [401] * 10 + [429] * 2
    async with connect(
        url(tls_gateway, "CP-A"), subprotocols=["ocpp1.6"], ssl=client_context(tls_gateway, keys)
    ):
        assert tls_gateway.gateway.sessions["CP-A"].admission.profile == 3
