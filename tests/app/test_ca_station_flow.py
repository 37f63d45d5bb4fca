"""The OCPP certificate flow with a fake station link: decide, sign, install, raise the profile."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from app.audit import Actor
from app.ca import CertificateAuthority
from app.edge import station_passwords
from app.platform import Platform
from app.station_certificates import StationCertificateService, profile_upgrade_commands
from charging import registry
from charging.commands import (
    CertificateUse,
    Command,
    CommandResult,
    Configure,
    GetInstalledCertificateIds,
    InstallCertificate,
    SendCertificate,
    TriggerCertificateSigning,
)
from charging.events import CertificateRequested, CertificateSigningUse
from charging.outcomes import CertificateSigningDecision
from charging.tables import Station
from pki import CARole, load_certificates
from tests.app.test_ca import refusals, station_csr

NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass
class FakeStationLink:
    """Answers commands as a station would; records what was sent."""

    sent: list[tuple[str, Command]] = field(default_factory=list)
    answers: dict[type, str] = field(default_factory=dict)
    installed_roots: list[str] = field(default_factory=list)

    async def send(self, station_id: str, command: Command) -> CommandResult:
        self.sent.append((station_id, command))
        if isinstance(command, GetInstalledCertificateIds):
            data = [{"serialNumber": serial} for serial in self.installed_roots]
            return CommandResult("Accepted", {"status": "Accepted", "certificateHashData": data})
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
    service = StationCertificateService(ca, platform.engine, link.send)
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


async def test_a_renewal_retires_the_old_certificate_and_skips_an_installed_root(
    platform: Platform, ca: CertificateAuthority
) -> None:
    add_station(platform, "CP-1", "1.6", profile=3)
    root_serial = f"{ca.authority(CARole.OPERATOR_ROOT).certificate.serial_number:x}"
    link = FakeStationLink(installed_roots=[root_serial])
    service = StationCertificateService(ca, platform.engine, link.send)
    first = await service.enroll("CP-1", station_csr("CP-1"), actor=Actor("test"))
    second = await service.enroll("CP-1", station_csr("CP-1"), actor=Actor("test"))
    assert second.retired == (first.serial_hex,)
    assert not second.root_installed and not second.profile_raised
    assert [type(c) for _, c in link.sent].count(InstallCertificate) == 0


async def test_a_station_refusing_the_chain_keeps_its_profile_and_is_audited(
    platform: Platform, ca: CertificateAuthority
) -> None:
    add_station(platform, "CP-1", "1.6")
    link = FakeStationLink(answers={SendCertificate: "Rejected"})
    service = StationCertificateService(ca, platform.engine, link.send)
    outcome = await service.enroll("CP-1", station_csr("CP-1"), actor=Actor("test"))
    assert not outcome.installed
    assert profile_of(platform, "CP-1") == 2
    assert refusals(platform, "pki.certificate_not_installed")[0]["reason"] == (
        "CertificateSigned answered Rejected"
    )


async def test_a_201_station_is_not_raised_without_set_network_profile(
    platform: Platform, ca: CertificateAuthority
) -> None:
    add_station(platform, "CP-2", "2.0.1")
    link = FakeStationLink()
    service = StationCertificateService(ca, platform.engine, link.send)
    outcome = await service.enroll("CP-2", station_csr("CP-2"), actor=Actor("test"))
    assert outcome.installed and not outcome.profile_raised
    assert profile_of(platform, "CP-2") == 2
    assert profile_upgrade_commands("2.0.1") == ()
    assert profile_upgrade_commands("ocpp1.6") == (Configure("SecurityProfile", "3"),)


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
    service = StationCertificateService(ca, platform.engine, link.send)
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
        service = StationCertificateService(ca, platform.engine, link.send)
        await service.enroll(station_id, station_csr(station_id), actor=Actor("test"))
    link.sent.clear()
    late = StationCertificateService(
        ca, platform.engine, link.send, clock=lambda: NOW + timedelta(days=700)
    )
    assert late.expiring_stations(within=timedelta(days=10), now=NOW) == []
    answers = await late.request_renewals(
        within=timedelta(days=60), is_connected=lambda s: s != "CP-3"
    )
    assert answers == {"CP-1": "Accepted", "CP-2": "Accepted"}
    assert link.sent == [
        ("CP-1", TriggerCertificateSigning()),
        ("CP-2", TriggerCertificateSigning()),
    ]
