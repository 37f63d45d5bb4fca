"""The OCPP certificate flow with a fake station link: decide, sign, install, raise the profile."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session

from app.audit import Actor
from app.ca import CertificateAuthority
from app.edge import station_passwords
from app.platform import Platform
from app.roles import field_enrollment
from app.settings import Settings
from charging import registry
from charging.commands import (
    CertificateUse,
    Command,
    CommandResult,
    Configure,
    GetConfiguration,
    GetInstalledCertificateIds,
    InstallCertificate,
    Reset,
    ResetMode,
    SendCertificate,
    SetNetworkProfile,
    TriggerCertificateSigning,
)
from charging.events import CertificateRequested, CertificateSigningUse
from charging.outcomes import CertificateSigningDecision
from charging.tables import Station
from enrollment.profile_upgrade import (
    NETWORK_PRIORITY,
    gateway_url,
    parse_priority,
    profile_upgrade_commands,
    upgrade_step_accepted,
)
from pki import CARole, load_certificates
from tests.audit_trail import refusals
from tests.pki.builders import station_csr

NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass
class FakeStationLink:
    """Answers commands as a station would; records what was sent."""

    sent: list[tuple[str, Command]] = field(default_factory=list)
    answers: dict[type, str] = field(default_factory=dict)
    installed_roots: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    failing: tuple[type, ...] = ()

    async def send(self, station_id: str, command: Command) -> CommandResult:
        self.sent.append((station_id, command))
        if isinstance(command, self.failing):
            raise TimeoutError(f"{type(command).__name__} unanswered")
        if isinstance(command, GetInstalledCertificateIds):
            data = [{"serialNumber": serial} for serial in self.installed_roots]
            return CommandResult("Accepted", {"status": "Accepted", "certificateHashData": data})
        if isinstance(command, GetConfiguration):
            values = {key: self.variables.get(key) for key in command.keys}
            return CommandResult("Accepted", {"getVariableResult": []}, values)
        status = self.answers.get(type(command), "Accepted")
        return CommandResult(status, {"status": status})


@pytest.fixture
def ca(platform: Platform) -> CertificateAuthority:
    platform.ca.initialize(now=NOW)
    return platform.ca


def add_station(platform: Platform, station_id: str, version: str, profile: int = 2) -> None:
    with Session(platform.engine) as session:
        registry.add_station(
            session,
            station_id,
            "station-password-0001",
            passwords=station_passwords(),
            now=NOW,
            profile=profile,
        )
        station = session.get(Station, station_id)
        assert station is not None
        station.ocpp_version = version
        session.add(station)
        session.commit()


def profile_of(platform: Platform, station_id: str) -> int:
    with Session(platform.engine) as session:
        station = session.get(Station, station_id)
        assert station is not None
        return station.security_profile


async def test_an_accepted_csr_is_signed_installed_and_the_16_station_raised_to_profile_3(
    platform: Platform, ca: CertificateAuthority
) -> None:
    add_station(platform, "CP-1", "1.6")
    link = FakeStationLink()
    service = field_enrollment(ca, platform.engine, link.send)
    decision = await service.handle_request(CertificateRequested("CP-1", station_csr("CP-1")))
    assert decision == CertificateSigningDecision(accepted=True)
    assert link.sent == []  # nothing goes out before the reply
    await service.drain()
    commands = [command for _, command in link.sent]
    assert [type(c) for c in commands] == [
        SendCertificate,
        GetInstalledCertificateIds,
        InstallCertificate,
        Configure,
    ]
    chain = load_certificates(commands[0].certificate_chain)  # type: ignore[union-attr]
    assert chain[1] == ca.authority(CARole.STATION).certificate
    assert commands[2] == InstallCertificate(CertificateUse.CSMS_ROOT, ca.root_pem())
    assert commands[3] == Configure("SecurityProfile", "3")
    assert profile_of(platform, "CP-1") == 3
    assert service.outcomes[0].profile_raised and service.outcomes[0].root_installed


async def test_a_renewal_keeps_the_old_certificate_until_used_and_skips_an_installed_root(
    platform: Platform, ca: CertificateAuthority
) -> None:
    add_station(platform, "CP-1", "1.6", profile=3)
    root_serial = f"{ca.authority(CARole.OPERATOR_ROOT).certificate.serial_number:x}"
    link = FakeStationLink(installed_roots=[root_serial])
    service = field_enrollment(ca, platform.engine, link.send)
    first = await service.enroll("CP-1", station_csr("CP-1"), actor=Actor("test"))
    second = await service.enroll("CP-1", station_csr("CP-1"), actor=Actor("test"))
    # The station still holds its connection with the first: that one is superseded when the
    # station connects with the second (tests/e2e/test_certificate_supersession.py).
    with Session(platform.engine) as session:
        live = ca.find(session, first.serial_hex)
        assert live is not None and live.status == "issued"
    assert not second.root_installed and not second.profile_raised
    assert [type(c) for _, c in link.sent].count(InstallCertificate) == 0


async def test_a_station_refusing_the_chain_keeps_its_profile_and_is_audited(
    platform: Platform, ca: CertificateAuthority
) -> None:
    add_station(platform, "CP-1", "1.6")
    link = FakeStationLink(answers={SendCertificate: "Rejected"})
    service = field_enrollment(ca, platform.engine, link.send)
    outcome = await service.enroll("CP-1", station_csr("CP-1"), actor=Actor("test"))
    assert not outcome.installed
    assert profile_of(platform, "CP-1") == 2
    assert refusals(platform, "pki.certificate_not_installed")[0]["reason"] == (
        "CertificateSigned answered Rejected"
    )


async def test_a_201_station_is_not_raised_when_no_gateway_url_is_known(
    platform: Platform, ca: CertificateAuthority
) -> None:
    add_station(platform, "CP-2", "2.0.1")
    wildcard = platform.settings.model_copy(update={"ocpp_host": "0.0.0.0"})
    unreachable = CertificateAuthority(wildcard, platform.engine)
    assert unreachable.initialize(now=NOW) is False
    link = FakeStationLink()
    service = field_enrollment(unreachable, platform.engine, link.send)
    outcome = await service.enroll("CP-2", station_csr("CP-2"), actor=Actor("test"))
    assert outcome.installed and not outcome.profile_raised
    assert profile_of(platform, "CP-2") == 2
    assert not any(isinstance(c, SetNetworkProfile | Reset) for _, c in link.sent)
    assert refusals(platform, "station.security_profile_upgrade_pending")[0]["reason"] == (
        "OCPP 2.0.1 needs SetNetworkProfile (A05) to a known wss:// URL"
    )
    assert profile_upgrade_commands("2.0.1") == ()
    assert profile_upgrade_commands("ocpp1.6") == (Configure("SecurityProfile", "3"),)


@pytest.mark.parametrize("version", ["2.0.1", "ocpp2.1"])
async def test_an_accepted_csr_raises_a_2x_station_through_a_new_network_profile(
    platform: Platform, ca: CertificateAuthority, version: str
) -> None:
    add_station(platform, "CP-2", version)
    link = FakeStationLink(variables={NETWORK_PRIORITY: "1,2"})
    service = field_enrollment(ca, platform.engine, link.send)
    decision = await service.handle_request(CertificateRequested("CP-2", station_csr("CP-2")))
    assert decision == CertificateSigningDecision(accepted=True)
    await service.drain()
    commands = [command for _, command in link.sent]
    assert [type(c) for c in commands[:3]] == [
        SendCertificate,
        GetInstalledCertificateIds,
        InstallCertificate,
    ]
    assert commands[3:] == [
        GetConfiguration((NETWORK_PRIORITY,)),
        SetNetworkProfile(3, "wss://127.0.0.1:9443/ocpp", 3),
        Configure("OCPPCommCtrlr.NetworkConfigurationPriority", "3,1,2"),
        Reset(ResetMode.ON_IDLE),
    ]
    assert profile_of(platform, "CP-2") == 3
    assert service.outcomes[0].profile_raised
    assert refusals(platform, "station.security_profile_raised") == [
        {"profile": 3, "outcome": "success"}
    ]


async def test_the_gateway_url_given_to_the_service_is_the_one_sent(
    platform: Platform, ca: CertificateAuthority
) -> None:
    add_station(platform, "CP-2", "2.0.1")
    link = FakeStationLink(variables={NETWORK_PRIORITY: "0"})
    url = "wss://ocpp.example.com/ocpp"
    service = field_enrollment(ca, platform.engine, link.send, csms_url=url)
    await service.enroll("CP-2", station_csr("CP-2"), actor=Actor("test"))
    assert [c for _, c in link.sent if isinstance(c, SetNetworkProfile | Configure)] == [
        SetNetworkProfile(1, url, 3),
        Configure(NETWORK_PRIORITY, "1,0"),
    ]


@pytest.mark.parametrize(
    ("link", "step", "status", "sent"),
    [
        (
            FakeStationLink(answers={SetNetworkProfile: "Rejected"}),
            "SetNetworkProfile",
            "Rejected",
            [SetNetworkProfile],
        ),
        (
            FakeStationLink(answers={Configure: "Rejected"}),
            "Configure",
            "Rejected",
            [SetNetworkProfile, Configure],
        ),
        (
            FakeStationLink(answers={Reset: "Rejected"}),
            "Reset",
            "Rejected",
            [SetNetworkProfile, Configure, Reset],
        ),
        (
            FakeStationLink(failing=(Reset,)),
            "Reset",
            "failed: Reset unanswered",
            [SetNetworkProfile, Configure, Reset],
        ),
    ],
    ids=["profile-rejected", "priority-rejected", "reset-rejected", "reset-unanswered"],
)
async def test_a_2x_station_refusing_a_step_keeps_its_profile_and_is_audited(
    platform: Platform,
    ca: CertificateAuthority,
    link: FakeStationLink,
    step: str,
    status: str,
    sent: list[type],
) -> None:
    link.sent.clear()  # parametrized links are shared by the runs on each database
    add_station(platform, "CP-2", "2.0.1")
    service = field_enrollment(ca, platform.engine, link.send)
    outcome = await service.enroll("CP-2", station_csr("CP-2"), actor=Actor("test"))
    assert outcome.installed and not outcome.profile_raised
    assert profile_of(platform, "CP-2") == 2
    upgrade = (SetNetworkProfile, Configure, Reset)
    assert [type(c) for _, c in link.sent if isinstance(c, upgrade)] == sent
    assert refusals(platform, "station.security_profile_raised") == [
        {"step": step, "status": status, "outcome": "failure"}
    ]


async def test_a_scheduled_reset_and_a_priority_needing_a_reboot_still_raise_the_profile(
    platform: Platform, ca: CertificateAuthority
) -> None:
    add_station(platform, "CP-2", "2.0.1")
    link = FakeStationLink(answers={Reset: "Scheduled", Configure: "RebootRequired"})
    service = field_enrollment(ca, platform.engine, link.send)
    outcome = await service.enroll("CP-2", station_csr("CP-2"), actor=Actor("test"))
    assert outcome.profile_raised
    assert profile_of(platform, "CP-2") == 3


@pytest.mark.parametrize(
    "link",
    [
        FakeStationLink(variables={NETWORK_PRIORITY: "1;DROP TABLE"}),
        FakeStationLink(variables={NETWORK_PRIORITY: ",".join(["1"] * 5000)}),
        FakeStationLink(),
        FakeStationLink(failing=(GetConfiguration,)),
    ],
    ids=["garbage", "huge", "unknown-variable", "unanswered"],
)
async def test_an_unreadable_priority_puts_the_new_profile_in_slot_1_alone(
    platform: Platform, ca: CertificateAuthority, link: FakeStationLink
) -> None:
    link.sent.clear()  # parametrized links are shared by the runs on each database
    add_station(platform, "CP-2", "2.0.1")
    service = field_enrollment(ca, platform.engine, link.send)
    outcome = await service.enroll("CP-2", station_csr("CP-2"), actor=Actor("test"))
    assert outcome.profile_raised
    assert [c for _, c in link.sent if isinstance(c, SetNetworkProfile | Configure)] == [
        SetNetworkProfile(1, "wss://127.0.0.1:9443/ocpp", 3),
        Configure(NETWORK_PRIORITY, "1"),
    ]


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (
            CertificateRequested("CP-1", station_csr("CP-9")),
            "subject CN 'CP-9' does not name station 'CP-1'",
        ),
        (CertificateRequested("CP-1", "not a csr"), "malformed PEM"),
        (
            CertificateRequested("CP-1", station_csr("CP-1"), CertificateSigningUse.V2G),
            "V2GCertificate certificates are not issued by this platform",
        ),
    ],
    ids=["other-station", "malformed", "v2g"],
)
async def test_a_bad_request_is_rejected_in_the_reply_and_nothing_is_sent(
    platform: Platform, ca: CertificateAuthority, event: CertificateRequested, reason: str
) -> None:
    link = FakeStationLink()
    service = field_enrollment(ca, platform.engine, link.send)
    assert await service.handle_request(event) == CertificateSigningDecision(accepted=False)
    await service.drain()
    assert link.sent == []
    assert reason in str(refusals(platform, "pki.certificate_refused")[0]["reason"])


async def test_renewal_triggers_connected_stations_whose_certificate_expires_soon(
    platform: Platform, ca: CertificateAuthority
) -> None:
    link = FakeStationLink()
    for station_id in ("CP-1", "CP-2", "CP-3"):
        add_station(platform, station_id, "1.6", profile=3)
        service = field_enrollment(ca, platform.engine, link.send)
        await service.enroll(station_id, station_csr(station_id), actor=Actor("test"))
    link.sent.clear()
    late = field_enrollment(ca, platform.engine, link.send, clock=lambda: NOW + timedelta(days=700))
    assert late.expiring_stations(within=timedelta(days=10), now=NOW) == []
    answers = await late.request_renewals(
        within=timedelta(days=60), is_connected=lambda s: s != "CP-3"
    )
    assert answers == {"CP-1": "Accepted", "CP-2": "Accepted"}
    assert link.sent == [
        ("CP-1", TriggerCertificateSigning()),
        ("CP-2", TriggerCertificateSigning()),
    ]


@pytest.mark.parametrize(
    ("overrides", "url"),
    [
        ({}, "wss://127.0.0.1:9443/ocpp"),
        (
            {"ocpp_host": "ocpp.example.com", "ocpp_tls_port": 443},
            "wss://ocpp.example.com:443/ocpp",
        ),
        ({"ocpp_host": "::1"}, "wss://[::1]:9443/ocpp"),
        (
            {"ocpp_host": "0.0.0.0", "public_url": "https://cl.example.com/x"},
            "wss://cl.example.com:9443/ocpp",
        ),
        ({"ocpp_host": "0.0.0.0"}, None),
        ({"ocpp_host": "::"}, None),
        ({"ocpp_host": ""}, None),
        ({"ocpp_tls_port": 0}, None),
        ({"public_url": "not a url"}, None),
    ],
)
def test_the_gateway_url_comes_from_the_reachable_host_and_the_tls_port(
    overrides: dict[str, object], url: str | None
) -> None:
    settings = Settings(**overrides)  # type: ignore[arg-type]
    assert (
        gateway_url(
            public_url=settings.public_url,
            ocpp_host=settings.ocpp_host,
            ocpp_tls_port=settings.ocpp_tls_port,
        )
        == url
    )


@pytest.mark.parametrize(
    ("value", "slots"), [("", ()), ("1", (1,)), ("2,0, 1", (2, 0, 1)), ("0,999", (0, 999))]
)
def test_a_network_priority_is_read_as_its_slots(value: str, slots: tuple[int, ...]) -> None:
    assert parse_priority(value) == slots


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1;2", "'1;2' is not a list of configuration slots"),
        ("1,,2", "'1,,2' is not a list of configuration slots"),
        ("-1", "'-1' is not a list of configuration slots"),
        ("1000", "'1000' is not a list of configuration slots"),
        ("\u0661", "'\u0661' is not a list of configuration slots"),
        ("1,2,1", "'1,2,1' repeats a configuration slot"),
        (",".join(["7"] * 33), "more than 32 configuration slots"),
    ],
)
def test_a_malformed_network_priority_is_refused(value: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_priority(value)
    assert str(raised.value) == message


@given(st.text(max_size=60))
def test_any_network_priority_is_read_or_refused(value: str) -> None:
    try:
        slots = parse_priority(value)
    except ValueError:
        return
    assert len(set(slots)) == len(slots) <= 32
    commands = profile_upgrade_commands("2.0.1", csms_url="wss://h/ocpp", priority=slots)
    new = commands[0]
    assert isinstance(new, SetNetworkProfile) and new.configuration_slot not in slots
    assert commands[1] == Configure(
        NETWORK_PRIORITY, ",".join(map(str, (new.configuration_slot, *slots)))
    )


def test_profile_upgrades_exist_only_where_the_version_can_express_them() -> None:
    url = "wss://h/ocpp"
    assert profile_upgrade_commands(None, csms_url=url) == ()
    assert profile_upgrade_commands("2.0", csms_url=url) == ()
    assert profile_upgrade_commands("1.6", csms_url=url) == (Configure("SecurityProfile", "3"),)
    assert profile_upgrade_commands("2.1", csms_url=url, priority=(1, 3)) == (
        SetNetworkProfile(2, url, 3),
        Configure(NETWORK_PRIORITY, "2,1,3"),
        Reset(ResetMode.ON_IDLE),
    )


@pytest.mark.parametrize(
    ("command", "status", "accepted"),
    [
        (Reset(), "Scheduled", True),
        (Reset(), "Rejected", False),
        (Configure(NETWORK_PRIORITY, "1"), "RebootRequired", True),
        (Configure("SecurityProfile", "3"), "RebootRequired", False),
        (SetNetworkProfile(1, "wss://h/ocpp", 3), "Failed", False),
        (SetNetworkProfile(1, "wss://h/ocpp", 3), "Accepted", True),
    ],
)
def test_only_answers_that_lead_to_the_restart_let_the_upgrade_go_on(
    command: Command, status: str, accepted: bool
) -> None:
    assert upgrade_step_accepted(command, status) is accepted
