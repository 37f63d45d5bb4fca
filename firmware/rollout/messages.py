"""What goes into the engine (facts, reports, answers, boots, health) and what comes out
(commands for the service to send, and the rollout's own transitions).

The engine never sends anything: the durable service turns these commands into OCPP calls
(``charging.commands``) and feeds the stations' answers back in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from firmware.rollout.states import RolloutState

# -- inputs ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StationFacts:
    """What the service knows about a station when it asks whether a target is due."""

    station_id: str
    online: bool
    in_transaction: bool
    time_zone: str | None  # IANA zone; None = UTC
    firmware_version: str | None
    ocpp_version: str | None  # "1.6", "2.0.1", "2.1"


@dataclass(frozen=True, slots=True)
class FirmwareStatusReport:
    """A (Signed)FirmwareStatusNotification: the raw OCPP status string.

    1.6 plain has no requestId (``request_id`` None): it matches the current request.
    """

    station_id: str
    request_id: int | None
    status: str
    at: datetime


@dataclass(frozen=True, slots=True)
class BootReport:
    """A BootNotification: the firmware the station runs now (2.0.1 reason FirmwareUpdate)."""

    station_id: str
    firmware_version: str | None
    reason: str | None
    at: datetime


ANSWER_STATUSES = frozenset(
    {
        "Accepted",
        "Rejected",
        "InvalidCertificate",
        "RevokedCertificate",
        "AcceptedCanceled",
        "NotSupported",  # a CALLERROR NotSupported / NotImplemented
        "Timeout",  # no answer in time
        "Offline",  # the station was not connected
    }
)


@dataclass(frozen=True, slots=True)
class CommandAnswer:
    """The answer to a SendUpdate: an UpdateFirmware status, or Timeout/Offline for none."""

    station_id: str
    request_id: int
    status: str
    at: datetime


@dataclass(frozen=True, slots=True)
class HealthSample:
    """Counts over a stretch of station-hours (a wave's stations, or the previous version's)."""

    station_hours: float
    faults: int = 0  # Faulted StatusNotifications
    reboots: int = 0  # boots that no update explains
    failed_sessions: int = 0
    sessions: int = 0


# -- outputs: commands for the service -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SendUpdate:
    """Send (Signed)UpdateFirmware with this requestId (a resend reuses it)."""

    station_id: str
    request_id: int
    signed: bool
    retrieve_at: datetime
    attempt: int  # 1 for the first send


@dataclass(frozen=True, slots=True)
class Probe:
    """Ask for a FirmwareStatusNotification (TriggerMessage / ExtendedTriggerMessage)."""

    station_id: str
    request_id: int


@dataclass(frozen=True, slots=True)
class FetchLog:
    """Fetch the station's log after a failure (GetLog / GetDiagnostics)."""

    station_id: str
    request_id: int


@dataclass(frozen=True, slots=True)
class StopCharging:
    """Stop the station's active transaction first (``during_transaction="force"``)."""

    station_id: str


TargetCommand = SendUpdate | Probe | FetchLog | StopCharging


# -- outputs: the rollout's own moves --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StartWave:
    """Move wave ``wave``'s targets from pending to waiting (``size`` of them are planned)."""

    wave: int
    size: int


@dataclass(frozen=True, slots=True)
class CancelWaiting:
    """Cancel every target that has not been sent yet (pending or waiting); in-flight ones keep
    reporting (OCPP has no cancel message)."""


@dataclass(frozen=True, slots=True)
class RolloutChanged:
    """The rollout moved from ``previous`` to ``state``; ``reason`` says why (pauses, aborts)."""

    previous: RolloutState
    state: RolloutState
    reason: str | None = None


RolloutAction = StartWave | CancelWaiting | RolloutChanged
