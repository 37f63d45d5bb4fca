"""Commands sent through ``Gateway.send`` are answered by the simulated station, and act."""

from __future__ import annotations

import pytest

from charging.commands import (
    CertificateUse,
    ChangeAvailability,
    Configure,
    DataTransfer,
    GetConfiguration,
    GetLocalListVersion,
    InstallCertificate,
    LocalListEntry,
    Reset,
    ResetMode,
    SendCertificate,
    SendLocalList,
    StartCharging,
    StopCharging,
    Trigger,
    TriggerKind,
    UnlockConnector,
    UpdateType,
)
from charging.events import (
    AuthorizationRequested,
    BootReason,
    ConnectorStatus,
    ConnectorStatusChanged,
    IdToken,
    StationBooted,
    TransactionEnded,
    TransactionStarted,
)
from tests.gateway.conftest import RunningGateway
from tests.simulator.fleet import eventually, one_station

BOTH = pytest.mark.parametrize("protocol", ["1.6", "2.0.1"])
STATION = "SIM-0001"
PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
HEARTBEAT = {"1.6": "HeartbeatInterval", "2.0.1": "OCPPCommCtrlr.HeartbeatInterval"}


def _events(gateway: RunningGateway, kind: type) -> list:  # type: ignore[type-arg]
    return [e for e in gateway.sink.events if isinstance(e, kind)]


@BOTH
async def test_a_remote_start_starts_a_session_and_a_remote_stop_ends_it(
    gateway: RunningGateway, protocol: str
) -> None:
    async with one_station(gateway, protocol) as station:
        started = await gateway.gateway.send(STATION, StartCharging(IdToken("CARD-9"), 1, 42))
        assert started.status == "Accepted"
        await eventually(lambda: station.stats.sessions_started == 1)
        start = _events(gateway, TransactionStarted)[0]
        assert start.id_token is not None and start.id_token.value == "CARD-9"
        assert _events(gateway, AuthorizationRequested) == []  # remote starts are pre-authorized
        if protocol == "2.0.1":
            assert start.trigger_reason == "RemoteStart"
        ref = station.state.sessions[1]

        stopped = await gateway.gateway.send(STATION, StopCharging(ref))
        assert stopped.status == "Accepted"
        await eventually(lambda: _events(gateway, TransactionEnded) != [])
        assert _events(gateway, TransactionEnded)[0].stop_reason == "Remote"


@BOTH
async def test_a_busy_station_rejects_a_second_start_and_unknown_stops(
    gateway: RunningGateway, protocol: str
) -> None:
    async with one_station(gateway, protocol) as station:
        await gateway.gateway.send(STATION, StartCharging(IdToken("CARD-9"), 1))
        await eventually(lambda: station.stats.sessions_started == 1)
        again = await gateway.gateway.send(STATION, StartCharging(IdToken("CARD-8"), 1))
        assert again.status == "Rejected"
        unknown = await gateway.gateway.send(STATION, StopCharging("999"))
        assert unknown.status == "Rejected"


@BOTH
async def test_a_reset_reboots_the_station_which_boots_again(
    gateway: RunningGateway, protocol: str
) -> None:
    async with one_station(gateway, protocol):
        result = await gateway.gateway.send(STATION, Reset(ResetMode.IMMEDIATE))
        assert result.status == "Accepted"
        await eventually(lambda: len(_events(gateway, StationBooted)) == 2)
        assert len(gateway.sink.connections) == 2
        if protocol == "2.0.1":
            assert _events(gateway, StationBooted)[1].reason == BootReason.REMOTE_RESET


@BOTH
async def test_configuration_is_read_and_changed(gateway: RunningGateway, protocol: str) -> None:
    key = HEARTBEAT[protocol]
    async with one_station(gateway, protocol) as station:
        changed = await gateway.gateway.send(STATION, Configure(key, "120"))
        read = await gateway.gateway.send(STATION, GetConfiguration((key,)))
        assert changed.status == "Accepted"
        assert read.values == {key: "120"}
        assert station.state.heartbeat_interval == 120


async def test_ocpp16_configuration_refuses_read_only_and_unknown_keys(
    gateway: RunningGateway,
) -> None:
    async with one_station(gateway, "1.6"):
        readonly = await gateway.gateway.send(STATION, Configure("NumberOfConnectors", "4"))
        unknown = await gateway.gateway.send(STATION, Configure("NoSuchKey", "1"))
        read = await gateway.gateway.send(STATION, GetConfiguration(("NoSuchKey",)))
    assert (readonly.status, unknown.status) == ("Rejected", "NotSupported")
    assert read.payload == {"configurationKey": [], "unknownKey": ["NoSuchKey"]}


async def test_ocpp201_variables_name_unknown_components_and_variables(
    gateway: RunningGateway,
) -> None:
    async with one_station(gateway, "2.0.1"):
        result = await gateway.gateway.send(
            STATION, GetConfiguration(("NoCtrlr.X", "OCPPCommCtrlr.Nope"))
        )
    statuses = [r["attributeStatus"] for r in result.payload["getVariableResult"]]
    assert statuses == ["UnknownComponent", "UnknownVariable"]


@BOTH
async def test_a_triggered_status_notification_is_sent(
    gateway: RunningGateway, protocol: str
) -> None:
    async with one_station(gateway, protocol):
        before = len(_events(gateway, ConnectorStatusChanged))
        result = await gateway.gateway.send(STATION, Trigger(TriggerKind.STATUS_NOTIFICATION, 1))
        assert result.status == "Accepted"
        await eventually(lambda: len(_events(gateway, ConnectorStatusChanged)) == before + 1)


@BOTH
async def test_availability_and_unlock_are_answered(gateway: RunningGateway, protocol: str) -> None:
    async with one_station(gateway, protocol):
        off = await gateway.gateway.send(STATION, ChangeAvailability(False, 1))
        await eventually(
            lambda: (
                _events(gateway, ConnectorStatusChanged)[-1].status == ConnectorStatus.UNAVAILABLE
            )
        )
        unlocked = await gateway.gateway.send(STATION, UnlockConnector(1))
    assert off.status == "Accepted"
    assert unlocked.status == "Unlocked"


@BOTH
async def test_data_transfer_echoes_for_its_vendor_only(
    gateway: RunningGateway, protocol: str
) -> None:
    async with one_station(gateway, protocol):
        ours = await gateway.gateway.send(STATION, DataTransfer("Chargeline", "ping", "hello"))
        theirs = await gateway.gateway.send(STATION, DataTransfer("Other", "ping", "hello"))
    assert (ours.status, ours.payload.get("data")) == ("Accepted", "hello")
    assert theirs.status == "UnknownVendorId"


@BOTH
async def test_the_local_list_is_kept_with_its_version(
    gateway: RunningGateway, protocol: str
) -> None:
    entries = (
        LocalListEntry(IdToken("CARD-1"), "Accepted"),
        LocalListEntry(IdToken("CARD-2"), "Blocked"),
    )
    async with one_station(gateway, protocol) as station:
        sent = await gateway.gateway.send(STATION, SendLocalList(3, UpdateType.FULL, entries))
        version = await gateway.gateway.send(STATION, GetLocalListVersion())
        stale = await gateway.gateway.send(
            STATION, SendLocalList(2, UpdateType.DIFFERENTIAL, (LocalListEntry(IdToken("CARD-1")),))
        )
    assert sent.status == "Accepted"
    assert 3 in version.payload.values()
    assert stale.status == "VersionMismatch"
    assert sorted(station.state.local_list) == ["CARD-1", "CARD-2"]


@BOTH
async def test_certificates_are_accepted_and_garbage_chains_rejected(
    gateway: RunningGateway, protocol: str
) -> None:
    async with one_station(gateway, protocol) as station:
        signed = await gateway.gateway.send(STATION, SendCertificate(PEM))
        garbage = await gateway.gateway.send(STATION, SendCertificate("not a certificate"))
        root = await gateway.gateway.send(
            STATION, InstallCertificate(CertificateUse.CSMS_ROOT, PEM)
        )
    # a root must be a readable CA certificate (tests/simulator/test_certificates.py)
    assert (signed.status, garbage.status, root.status) == ("Accepted", "Rejected", "Rejected")
    assert station.state.certificates == [PEM]
    assert station.state.store.installed == []
