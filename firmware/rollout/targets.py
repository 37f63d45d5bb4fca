"""One station's machine inside a rollout.

The functions here take a :class:`Target`, change it in place and return the commands the
service should send; they never send anything. Rules (OCPP 1.6 + Security Whitepaper L01/L02,
2.0.1 L01):

- reports only move a target forward (stations skip and repeat statuses); a report for another
  requestId is ignored; a 1.6 plain report (no requestId) matches the current request;
- success only when a boot reports the new version; a boot into anything else after Installed
  or InstallRebooting is an ``old_version`` failure;
- a silent station is probed once before it times out;
- an unanswered request (Timeout, Offline) is resent with the same requestId after the retry
  interval, at most ``policy.retries`` times;
- NotSupported to a signed request on 1.6 falls back to the plain UpdateFirmware only if the
  policy allows unsigned images; a plain request answered NotSupported is resent signed;
  AcceptedCanceled is an acceptance (the station dropped its earlier update for this one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from firmware.rollout.messages import (
    ANSWER_STATUSES,
    BootReport,
    CommandAnswer,
    FetchLog,
    FirmwareStatusReport,
    Probe,
    SendUpdate,
    StationFacts,
    StopCharging,
    TargetCommand,
)
from firmware.rollout.policy import RolloutPolicy
from firmware.rollout.states import (
    FINAL_TARGET_STATES,
    IN_FLIGHT_TARGET_STATES,
    FailureKind,
    InvalidTransition,
    TargetState,
)
from firmware.rollout.windows import in_window
from firmware.versions import is_newer, same_version

S = TargetState

_RANK = {
    S.SENT: 1,
    S.ACCEPTED: 2,
    S.DOWNLOADING: 3,
    S.DOWNLOADED: 4,
    S.VERIFIED: 5,
    S.INSTALLING: 6,
    S.INSTALLED: 7,
}

# Progress statuses of every version, to the state they prove at least.
PROGRESS = {
    "DownloadScheduled": S.ACCEPTED,
    "Downloading": S.DOWNLOADING,
    "DownloadPaused": S.DOWNLOADING,
    "Downloaded": S.DOWNLOADED,
    "SignatureVerified": S.VERIFIED,
    "InstallScheduled": S.DOWNLOADED,
    "Installing": S.INSTALLING,
    "InstallRebooting": S.INSTALLING,
    "Installed": S.INSTALLED,
}

FAILURES = {
    "DownloadFailed": FailureKind.DOWNLOAD,
    "InvalidSignature": FailureKind.SIGNATURE,
    "InstallVerificationFailed": FailureKind.INSTALL,
    "InstallationFailed": FailureKind.INSTALL,
}

# Failures after which the station's log tells something (it tried and failed).
_LOGGED = frozenset(
    {
        FailureKind.DOWNLOAD,
        FailureKind.SIGNATURE,
        FailureKind.INSTALL,
        FailureKind.TIMEOUT,
        FailureKind.OLD_VERSION,
    }
)


@dataclass(slots=True)
class Target:
    """A station in a rollout: its wave, where its update stands, and why it failed."""

    station_id: str
    wave: int
    state: TargetState = TargetState.PENDING
    request_id: int | None = None
    attempts: int = 0
    sent_at: datetime | None = None
    last_report_at: datetime | None = None
    failure: FailureKind | None = None
    old_version: str | None = None
    new_version: str = ""
    signed: bool = True  # the next (or current) request is SignedUpdateFirmware
    ocpp_version: str | None = None  # of the station when the request was sent
    answered: bool = False  # the current request has an answer
    rebooting: bool = False  # InstallRebooting seen
    tried_plain: bool = False
    tried_signed: bool = False
    probed_at: datetime | None = None
    waiting_since: datetime | None = None
    stop_requested_at: datetime | None = None
    detail: str | None = None  # why it failed or was skipped, for people

    @property
    def final(self) -> bool:
        return self.state in FINAL_TARGET_STATES

    @property
    def in_flight(self) -> bool:
        return self.state in IN_FLIGHT_TARGET_STATES


def start(target: Target, now: datetime) -> None:
    """Its wave started: pending -> waiting."""
    if target.state is not S.PENDING:
        raise InvalidTransition(target.state.value, "start")
    target.state = S.WAITING
    target.waiting_since = now


def cancel(target: Target) -> bool:
    """Cancel a target that was not sent yet; in-flight and final ones stay. True if cancelled."""
    if target.state in (S.PENDING, S.WAITING) and not _has_request(target):
        target.state = S.CANCELLED
        return True
    return False


def _has_request(target: Target) -> bool:
    return target.request_id is not None and target.attempts > 0


def _matches(target: Target, station_id: str, request_id: int | None) -> bool:
    if station_id != target.station_id or not _has_request(target) or target.final:
        return False
    return request_id is None or request_id == target.request_id


def _fail(target: Target, kind: FailureKind, detail: str) -> list[TargetCommand]:
    target.state = S.FAILED
    target.failure = kind
    target.detail = detail
    if kind in _LOGGED and target.request_id is not None:
        return [FetchLog(target.station_id, target.request_id)]
    return []


def on_report(target: Target, report: FirmwareStatusReport, now: datetime) -> list[TargetCommand]:
    """Apply a (Signed)FirmwareStatusNotification."""
    if not _matches(target, report.station_id, report.request_id):
        return []
    known = report.status in PROGRESS or report.status in FAILURES or report.status == "Idle"
    if not known:
        return []
    if report.status == "Idle":
        return _on_idle(target)
    target.last_report_at = now
    target.probed_at = None
    if report.status in FAILURES:
        return _fail(target, FAILURES[report.status], f"station reported {report.status}")
    reached = PROGRESS[report.status]
    if report.status == "InstallRebooting":
        target.rebooting = True
    current = _RANK.get(target.state, 0)  # a waiting target whose answer was lost counts 0
    if _RANK[reached] > current:
        target.state = reached
    return []


def _on_idle(target: Target) -> list[TargetCommand]:
    """1.6 Idle: nothing in progress. Only an answer to our probe decides anything: before
    Installed the station dropped the request; awaiting the boot, the probe's grace runs on.
    Idle is never activity (it would keep a silent station alive forever)."""
    if target.probed_at is None or target.state is S.INSTALLED or target.rebooting:
        return []
    return _fail(target, FailureKind.TIMEOUT, "station idle, the update is not in progress")


def on_answer(
    target: Target, answer: CommandAnswer, now: datetime, *, policy: RolloutPolicy
) -> list[TargetCommand]:
    """Apply the station's answer to the last SendUpdate (or Timeout/Offline for none)."""
    if answer.status not in ANSWER_STATUSES or not _matches(
        target, answer.station_id, answer.request_id
    ):
        return []
    status = answer.status
    if status in ("Accepted", "AcceptedCanceled"):
        target.answered = True
        if target.state in (S.SENT, S.WAITING):
            target.state = S.ACCEPTED
        target.last_report_at = now
        return []
    if status in ("Timeout", "Offline"):
        if target.answered or target.state is not S.SENT:
            return []  # the station already showed it got the request
        if target.attempts > policy.retries:
            return _fail(target, FailureKind.TIMEOUT, f"no answer after {target.attempts} sends")
        target.state = S.WAITING  # resent with the same requestId after retry_interval
        return []
    if target.state is not S.SENT:
        return []  # a late refusal of a request the station is already working on
    target.answered = True
    if status == "Rejected":
        return _fail(target, FailureKind.REJECTED, "station rejected the update")
    if status in ("InvalidCertificate", "RevokedCertificate"):
        return _fail(target, FailureKind.CERTIFICATE, f"station answered {status}")
    return _not_supported(target, policy)  # NotSupported, the one status left


def _not_supported(target: Target, policy: RolloutPolicy) -> list[TargetCommand]:
    if target.signed:
        target.tried_signed = True
        if target.ocpp_version == "1.6" and policy.allow_unsigned and not target.tried_plain:
            return _switch(target, signed=False)
        reason = "unsigned images not allowed" if target.ocpp_version == "1.6" else "no fallback"
        return _fail(target, FailureKind.REJECTED, f"signed update not supported ({reason})")
    target.tried_plain = True
    if not target.tried_signed:
        return _switch(target, signed=True)
    return _fail(target, FailureKind.REJECTED, "neither signed nor plain update supported")


def _switch(target: Target, *, signed: bool) -> list[TargetCommand]:
    """Send the other request kind at once, under a new requestId."""
    target.signed = signed
    target.state = S.WAITING
    target.request_id = None
    target.sent_at = None
    target.answered = False
    return []


def on_boot(target: Target, boot: BootReport, now: datetime) -> list[TargetCommand]:
    """Apply a BootNotification: the only thing that confirms success."""
    if target.final or target.state is S.PENDING or boot.station_id != target.station_id:
        return []
    version = boot.firmware_version
    on_new = version is not None and same_version(version, target.new_version)
    if target.state is S.WAITING and not _has_request(target):
        return []  # due() decides from the station's facts
    target.last_report_at = now
    target.probed_at = None
    if on_new:
        target.state = S.SUCCEEDED
        target.detail = None
        return []
    if target.state is S.INSTALLED or target.rebooting:
        return _fail(target, FailureKind.OLD_VERSION, f"booted into {version or 'unknown'}")
    return []  # a boot in mid-download: the station resumes or reports a failure


def due(
    target: Target,
    facts: StationFacts,
    policy: RolloutPolicy,
    now: datetime,
    *,
    next_request_id: int,
) -> TargetCommand | None:
    """What to send to this target now, if anything.

    ``next_request_id`` is used only when a new request is made (the service allocates it;
    a resend reuses the target's own).
    """
    if target.state is S.WAITING:
        return _dispatch(target, facts, policy, now, next_request_id)
    if target.in_flight:
        version = facts.firmware_version
        if version is not None and same_version(version, target.new_version):
            target.state = S.SUCCEEDED  # the confirming boot reached the facts, not us
            return None
        return _watch(target, policy, now)
    return None


def _dispatch(
    target: Target, facts: StationFacts, policy: RolloutPolicy, now: datetime, request_id: int
) -> TargetCommand | None:
    if not target.new_version:
        raise ValueError("target has no new_version")
    if target.waiting_since is None:
        target.waiting_since = now
    current = facts.firmware_version
    if current is not None and same_version(current, target.new_version):
        target.state = S.SUCCEEDED if _has_request(target) else S.SKIPPED
        target.detail = None if _has_request(target) else "already on the version"
        return None
    if current is not None and not policy.allow_downgrade and is_newer(current, target.new_version):
        target.state = S.SKIPPED
        target.detail = f"runs newer firmware {current}"
        return None
    if policy.max_wait is not None and now - target.waiting_since >= policy.max_wait:
        _fail(target, FailureKind.TIMEOUT, "never reachable in a window while idle")
        return None
    if not facts.online or not in_window(policy.windows, now, facts.time_zone):
        return None
    if facts.in_transaction:
        if policy.during_transaction == "wait":
            return None
        last = target.stop_requested_at
        if last is not None and now - last < policy.retry_interval:
            return None
        target.stop_requested_at = now
        return StopCharging(target.station_id)
    if target.sent_at is not None and now - target.sent_at < policy.retry_interval:
        return None
    if target.request_id is None or target.answered:
        target.request_id = request_id
    if target.attempts == 0:
        target.old_version = current
    target.attempts += 1
    target.state = S.SENT
    target.sent_at = now
    target.answered = False
    target.probed_at = None
    target.rebooting = False
    target.ocpp_version = facts.ocpp_version
    return SendUpdate(target.station_id, target.request_id, target.signed, now, target.attempts)


def _watch(target: Target, policy: RolloutPolicy, now: datetime) -> TargetCommand | None:
    assert target.request_id is not None  # in flight means sent
    if target.probed_at is not None:
        if now - target.probed_at < policy.probe_grace:
            return None
        commands = _fail(target, FailureKind.TIMEOUT, "silent after a probe")
        return commands[0] if commands else None
    heard = max(t for t in (target.sent_at, target.last_report_at) if t is not None)
    if now - heard < policy.station_timeout:
        return None
    target.probed_at = now
    return Probe(target.station_id, target.request_id)
