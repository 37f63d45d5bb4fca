"""SetNetworkProfile (OCPP 2.0.1 B09, A05): exact, schema-valid frames in 2.0.1 and 2.1, the
station's answer as a result, refusal in 1.6 and of malformed connection data."""

from __future__ import annotations

import json
from itertools import count

import pytest
from hypothesis import given
from hypothesis import strategies as st

from charging import commands as cmd
from ocpp_edge.errors import UnsupportedError
from ocpp_edge.protocol import CommandAnswered, CommandFailed, StationProtocol

URL = "wss://ocpp.example.com:9443/ocpp"


def protocol(version: str) -> StationProtocol:
    ids = count(1)
    return StationProtocol(version, "CP-1", call_timeout=30.0, new_id=lambda: f"m{next(ids)}")


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
def test_a_network_profile_becomes_the_exact_set_network_profile_frame(version: str) -> None:
    command = cmd.SetNetworkProfile(1, URL, 3)

    frame = json.loads(protocol(version).send(command, now=0.0)[1])

    assert frame == [
        2,
        "m1",
        "SetNetworkProfile",
        {
            "configurationSlot": 1,
            "connectionData": {
                "ocppVersion": "OCPP20",
                "ocppTransport": "JSON",
                "ocppCsmsUrl": URL,
                "messageTimeout": 30,
                "securityProfile": 3,
                "ocppInterface": "Wired0",
            },
        },
    ]


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
def test_every_connection_field_reaches_the_frame(version: str) -> None:
    command = cmd.SetNetworkProfile(
        0,
        "ws://10.0.0.7:9000/ocpp",
        1,
        ocpp_version=cmd.OCPPVersion.OCPP16,
        ocpp_interface=cmd.OCPPInterface.WIRELESS1,
        message_timeout_s=45,
    )

    payload = json.loads(protocol(version).send(command, now=0.0)[1])[3]

    assert payload == {
        "configurationSlot": 0,
        "connectionData": {
            "ocppVersion": "OCPP16",
            "ocppTransport": "JSON",
            "ocppCsmsUrl": "ws://10.0.0.7:9000/ocpp",
            "messageTimeout": 45,
            "securityProfile": 1,
            "ocppInterface": "Wireless1",
        },
    }


@pytest.mark.parametrize("status", ["Accepted", "Rejected", "Failed"])
@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
def test_the_station_answer_becomes_the_result_status(version: str, status: str) -> None:
    p = protocol(version)
    command = cmd.SetNetworkProfile(1, URL, 3)
    p.send(command, now=0.0)
    answer = {"status": status, "statusInfo": {"reasonCode": "SlotInUse"}}

    received = p.receive(json.dumps([3, "m1", answer]), now=1.0)

    assert isinstance(received, CommandAnswered)
    assert received.command == command
    assert received.result == cmd.CommandResult(status, answer)


def test_an_answer_outside_the_status_enumeration_fails_the_command() -> None:
    p = protocol("2.0.1")
    p.send(cmd.SetNetworkProfile(1, URL, 3), now=0.0)

    received = p.receive('[3,"m1",{"status":"Maybe"}]', now=1.0)

    assert isinstance(received, CommandFailed)
    assert received.code == "PropertyConstraintViolation"


def test_ocpp_16_cannot_carry_a_network_profile() -> None:
    p = protocol("1.6")

    with pytest.raises(UnsupportedError) as raised:
        p.send(cmd.SetNetworkProfile(1, URL, 3), now=0.0)

    assert str(raised.value) == (
        "OCPP 1.6 cannot express a network connection profile (use the SecurityProfile key)"
    )
    assert p.pending is None


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (cmd.SetNetworkProfile(1, URL, 4), "security profile 4 is not 1, 2 or 3"),
        (cmd.SetNetworkProfile(1, URL, 0), "security profile 0 is not 1, 2 or 3"),
        (cmd.SetNetworkProfile(-1, URL, 3), "configuration slot -1 is negative"),
        (
            cmd.SetNetworkProfile(1, URL, 3, message_timeout_s=0),
            "message timeout 0 s is not positive",
        ),
        (
            cmd.SetNetworkProfile(1, "ws://ocpp.example.com/ocpp", 3),
            "CSMS URL 'ws://ocpp.example.com/ocpp' is not a plain wss:// URL "
            "for security profile 3",
        ),
        (
            cmd.SetNetworkProfile(1, URL, 1),
            f"CSMS URL {URL!r} is not a plain ws:// URL for security profile 1",
        ),
        (
            cmd.SetNetworkProfile(1, "https://ocpp.example.com/ocpp", 2),
            "CSMS URL 'https://ocpp.example.com/ocpp' is not a plain wss:// URL "
            "for security profile 2",
        ),
        (
            cmd.SetNetworkProfile(1, "wss://admin:pw@ocpp.example.com/ocpp", 3),
            "CSMS URL 'wss://admin:pw@ocpp.example.com/ocpp' is not a plain wss:// URL "
            "for security profile 3",
        ),
        (
            cmd.SetNetworkProfile(1, "wss://ocpp.example.com/ocpp?next=evil", 3),
            "CSMS URL 'wss://ocpp.example.com/ocpp?next=evil' is not a plain wss:// URL "
            "for security profile 3",
        ),
        (
            cmd.SetNetworkProfile(1, "wss://[::1/ocpp", 3),
            "CSMS URL 'wss://[::1/ocpp' is not a plain wss:// URL for security profile 3",
        ),
        (
            cmd.SetNetworkProfile(1, "wss://ocpp.example.com:0/ocpp", 3),
            "CSMS URL 'wss://ocpp.example.com:0/ocpp' is not a plain wss:// URL "
            "for security profile 3",
        ),
        (
            cmd.SetNetworkProfile(1, "wss:///ocpp", 3),
            "CSMS URL 'wss:///ocpp' is not a plain wss:// URL for security profile 3",
        ),
        (
            cmd.SetNetworkProfile(1, "wss://ocpp.example.com/oc pp", 3),
            "CSMS URL 'wss://ocpp.example.com/oc pp' is too long or holds whitespace",
        ),
        (
            cmd.SetNetworkProfile(1, "wss://ocpp.example.com/ocpp\r\nX: 1", 3),
            "CSMS URL 'wss://ocpp.example.com/ocpp\\r\\nX: 1' is too long or holds whitespace",
        ),
        (
            cmd.SetNetworkProfile(1, "wss://h/" + "a" * 600, 3),
            "CSMS URL 'wss://h/" + "a" * 52 + "' is too long or holds whitespace",
        ),
    ],
    ids=[
        "profile-4",
        "profile-0",
        "negative-slot",
        "zero-timeout",
        "plain-url-for-profile-3",
        "tls-url-for-profile-1",
        "https",
        "credentials",
        "query",
        "broken-ipv6",
        "port-0",
        "no-host",
        "space",
        "header-injection",
        "too-long",
    ],
)
@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
def test_malformed_connection_data_is_refused_before_anything_is_sent(
    version: str, command: cmd.SetNetworkProfile, message: str
) -> None:
    p = protocol(version)

    with pytest.raises(ValueError) as raised:
        p.send(command, now=0.0)

    assert str(raised.value) == message
    assert p.pending is None


@given(
    url=st.one_of(
        st.text(max_size=80),
        st.builds(lambda rest: f"wss://{rest}", st.text(max_size=80)),
    ),
    slot=st.integers(-3, 2**31 - 1),
    profile=st.integers(-1, 4),
)
def test_any_connection_data_is_either_refused_or_sent_as_given(
    url: str, slot: int, profile: int
) -> None:
    p = protocol("2.0.1")
    try:
        _, frame = p.send(cmd.SetNetworkProfile(slot, url, profile), now=0.0)
    except ValueError:
        assert p.pending is None
        return
    payload = json.loads(frame)[3]
    assert payload["configurationSlot"] == slot
    assert payload["connectionData"]["ocppCsmsUrl"] == url
    assert payload["connectionData"]["securityProfile"] == profile
    assert profile in (1, 2, 3)
