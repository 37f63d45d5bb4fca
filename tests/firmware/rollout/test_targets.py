"""One station's machine: dispatch, reports, answers, boots, timeouts."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from firmware.rollout.model import (
    BootReport,
    CommandAnswer,
    FailureKind,
    FetchLog,
    FirmwareStatusReport,
    InvalidTransition,
    MaintenanceWindow,
    Probe,
    SendUpdate,
    StopCharging,
    TargetState,
)
from firmware.rollout.targets import Target, cancel, due, on_answer, on_boot, on_report, start

from .builders import (
    NEW,
    OLD,
    STATION,
    T0,
    answer,
    boot,
    facts,
    minutes,
    policy,
    report,
    sent_target,
    waiting_target,
)

S = TargetState


# -- start, dispatch -------------------------------------------------------------------------


def test_a_pending_target_is_never_due_and_starts_into_waiting() -> None:
    target = Target(STATION, 0, new_version=NEW)
    assert due(target, facts(), policy(), T0, next_request_id=1) is None
    start(target, T0)
    assert target.state is S.WAITING and target.waiting_since == T0


def test_starting_a_target_twice_is_an_invalid_transition() -> None:
    target = waiting_target()
    with pytest.raises(InvalidTransition) as raised:
        start(target, T0)
    assert raised.value.current == "waiting" and raised.value.requested == "start"


def test_a_waiting_idle_online_station_gets_a_signed_update_with_the_new_request_id() -> None:
    target = waiting_target()
    command = due(target, facts(), policy(), T0, next_request_id=41)
    assert command == SendUpdate(STATION, 41, True, T0, 1)
    assert target.state is S.SENT and target.request_id == 41 and target.attempts == 1
    assert target.old_version == OLD and target.sent_at == T0


def test_a_target_without_new_version_is_refused() -> None:
    target = Target(STATION, 0)
    start(target, T0)
    with pytest.raises(ValueError, match="new_version"):
        due(target, facts(), policy(), T0, next_request_id=1)


def test_an_offline_station_waits() -> None:
    target = waiting_target()
    assert due(target, facts(online=False), policy(), T0, next_request_id=1) is None
    assert target.state is S.WAITING and target.attempts == 0


def test_a_station_already_on_the_new_version_is_skipped() -> None:
    target = waiting_target()
    assert due(target, facts(firmware_version="v1.5"), policy(), T0, next_request_id=1) is None
    assert target.state is S.SKIPPED and target.detail == "already on the version"


def test_a_station_on_newer_firmware_is_skipped_unless_downgrades_are_allowed() -> None:
    target = waiting_target()
    assert due(target, facts(firmware_version="2.0.0"), policy(), T0, next_request_id=1) is None
    assert target.state is S.SKIPPED and "2.0.0" in (target.detail or "")
    target = waiting_target()
    command = due(
        target, facts(firmware_version="2.0.0"), policy(allow_downgrade=True), T0, next_request_id=1
    )
    assert isinstance(command, SendUpdate)


def test_a_station_in_a_session_waits_when_the_policy_says_wait() -> None:
    target = waiting_target()
    assert due(target, facts(in_transaction=True), policy(), T0, next_request_id=1) is None
    assert target.state is S.WAITING
    assert isinstance(
        due(target, facts(), policy(), T0 + minutes(1), next_request_id=1), SendUpdate
    )


def test_force_stops_the_session_first_once_per_retry_interval_then_updates() -> None:
    force = policy(during_transaction="force", retry_interval=minutes(5))
    target = waiting_target()
    busy = facts(in_transaction=True)
    assert due(target, busy, force, T0, next_request_id=1) == StopCharging(STATION)
    assert due(target, busy, force, T0 + minutes(1), next_request_id=1) is None
    assert due(target, busy, force, T0 + minutes(5), next_request_id=1) == StopCharging(STATION)
    assert isinstance(due(target, facts(), force, T0 + minutes(6), next_request_id=1), SendUpdate)


def test_dispatch_waits_for_the_maintenance_window_in_the_station_zone() -> None:
    night = policy(windows=(MaintenanceWindow(time(22), time(5)),))
    berlin = facts(time_zone="Europe/Berlin")
    target = waiting_target()
    assert due(target, berlin, night, T0, next_request_id=1) is None  # 13:00 in Berlin
    at_night = T0 + timedelta(hours=9, minutes=30)  # 22:30 in Berlin (UTC+1 in March)
    assert isinstance(due(target, berlin, night, at_night, next_request_id=1), SendUpdate)


def test_a_target_that_never_gets_its_chance_fails_after_max_wait() -> None:
    strict = policy(max_wait=timedelta(hours=1))
    target = waiting_target()
    assert due(target, facts(online=False), strict, T0 + minutes(59), next_request_id=1) is None
    assert target.state is S.WAITING
    assert due(target, facts(online=False), strict, T0 + minutes(60), next_request_id=1) is None
    assert target.state is S.FAILED and target.failure is FailureKind.TIMEOUT


# -- answers ---------------------------------------------------------------------------------


def test_accepted_moves_sent_to_accepted() -> None:
    target = sent_target()
    assert on_answer(target, answer("Accepted"), T0, policy=policy()) == []
    assert target.state is S.ACCEPTED and target.answered


def test_an_answer_for_another_request_id_is_ignored() -> None:
    target = sent_target(request_id=7)
    on_answer(target, answer("Rejected", request_id=8), T0, policy=policy())
    assert target.state is S.SENT and not target.answered


def test_rejected_fails_with_rejected_and_fetches_no_log() -> None:
    target = sent_target()
    assert on_answer(target, answer("Rejected"), T0, policy=policy()) == []
    assert target.state is S.FAILED and target.failure is FailureKind.REJECTED


@pytest.mark.parametrize("status", ["InvalidCertificate", "RevokedCertificate"])
def test_certificate_answers_fail_with_certificate(status: str) -> None:
    target = sent_target()
    on_answer(target, answer(status), T0, policy=policy())
    assert target.failure is FailureKind.CERTIFICATE and status in (target.detail or "")


def test_accepted_canceled_is_an_acceptance_of_the_replacing_request() -> None:
    target = sent_target(request_id=9)
    on_answer(target, answer("AcceptedCanceled", request_id=9), T0, policy=policy())
    assert target.state is S.ACCEPTED
    # statuses of the replaced request (another id) change nothing
    on_report(target, report("InstallationFailed", request_id=3), T0)
    assert target.state is S.ACCEPTED


def test_an_unknown_answer_status_changes_nothing() -> None:
    target = sent_target()
    on_answer(target, answer("Maybe"), T0, policy=policy())
    assert target.state is S.SENT and not target.answered


def test_timeout_answers_resend_with_the_same_request_id_after_the_retry_interval() -> None:
    p = policy(retries=2, retry_interval=minutes(5))
    target = sent_target(request_id=7)
    on_answer(target, answer("Timeout"), T0, policy=p)
    assert target.state is S.WAITING and target.request_id == 7
    assert due(target, facts(), p, T0 + minutes(4), next_request_id=99) is None
    assert due(target, facts(), p, T0 + minutes(5), next_request_id=99) == SendUpdate(
        STATION, 7, True, T0 + minutes(5), 2
    )
    on_answer(target, answer("Offline"), T0 + minutes(5), policy=p)
    resend = due(target, facts(), p, T0 + minutes(10), next_request_id=99)
    assert isinstance(resend, SendUpdate) and resend.request_id == 7 and resend.attempt == 3
    on_answer(target, answer("Timeout"), T0 + minutes(10), policy=p)
    assert target.state is S.FAILED and target.failure is FailureKind.TIMEOUT


def test_a_timeout_after_the_station_showed_progress_is_ignored() -> None:
    target = sent_target()
    on_report(target, report("Downloading"), T0)
    on_answer(target, answer("Timeout"), T0, policy=policy())
    assert target.state is S.DOWNLOADING


def test_a_report_for_a_request_whose_answer_was_lost_counts_as_accepted() -> None:
    target = sent_target()
    on_answer(target, answer("Timeout"), T0, policy=policy())
    on_report(target, report("Downloading"), T0 + minutes(1))
    assert target.state is S.DOWNLOADING


def test_not_supported_to_signed_on_16_falls_back_to_plain_only_if_unsigned_is_allowed() -> None:
    allowed = policy(allow_unsigned=True)
    target = sent_target(request_id=7, ocpp="1.6")
    on_answer(target, answer("NotSupported"), T0, policy=allowed)
    assert target.state is S.WAITING and not target.signed
    command = due(target, facts(ocpp_version="1.6"), allowed, T0, next_request_id=8)
    assert command == SendUpdate(STATION, 8, False, T0, 2)

    target = sent_target(request_id=7, ocpp="1.6")
    on_answer(target, answer("NotSupported"), T0, policy=policy())
    assert target.failure is FailureKind.REJECTED and "not allowed" in (target.detail or "")


def test_not_supported_to_signed_on_201_has_no_fallback() -> None:
    target = sent_target(ocpp="2.0.1")
    on_answer(target, answer("NotSupported"), T0, policy=policy(allow_unsigned=True))
    assert target.state is S.FAILED and target.failure is FailureKind.REJECTED


def test_a_plain_request_answered_not_supported_is_resent_signed_then_gives_up() -> None:
    p = policy(allow_unsigned=True)
    target = sent_target(request_id=7, ocpp="1.6", signed=False)
    on_answer(target, answer("NotSupported"), T0, policy=p)
    assert target.signed and target.state is S.WAITING
    command = due(target, facts(ocpp_version="1.6"), p, T0, next_request_id=8)
    assert isinstance(command, SendUpdate) and command.signed and command.request_id == 8
    on_answer(target, answer("NotSupported", request_id=8), T0, policy=p)
    assert target.state is S.FAILED and target.failure is FailureKind.REJECTED


def test_a_late_refusal_of_a_request_in_progress_is_ignored() -> None:
    target = sent_target()
    on_report(target, report("Downloading"), T0)
    on_answer(target, answer("Rejected"), T0, policy=policy())
    assert target.state is S.DOWNLOADING


# -- reports ---------------------------------------------------------------------------------


def test_the_201_status_sequence_walks_every_state_and_the_boot_confirms() -> None:
    target = sent_target()
    steps = [
        ("DownloadScheduled", S.ACCEPTED),
        ("Downloading", S.DOWNLOADING),
        ("DownloadPaused", S.DOWNLOADING),
        ("Downloaded", S.DOWNLOADED),
        ("SignatureVerified", S.VERIFIED),
        ("InstallScheduled", S.VERIFIED),
        ("Installing", S.INSTALLING),
        ("InstallRebooting", S.INSTALLING),
        ("Installed", S.INSTALLED),
    ]
    for status, state in steps:
        assert on_report(target, report(status), T0) == []
        assert target.state is state, status
    assert target.rebooting
    on_boot(target, boot(NEW), T0)
    assert target.state is S.SUCCEEDED


def test_installed_is_not_success_without_a_boot() -> None:
    target = sent_target()
    on_report(target, report("Installed"), T0)
    assert target.state is S.INSTALLED


def test_out_of_order_and_duplicate_reports_never_move_a_target_back() -> None:
    target = sent_target()
    for status in ["Downloaded", "Downloading", "Downloaded", "Installing", "Downloading"]:
        on_report(target, report(status), T0)
    assert target.state is S.INSTALLING


def test_a_report_for_another_request_id_is_ignored_and_is_not_activity() -> None:
    target = sent_target(request_id=7)
    on_report(target, report("InvalidSignature", request_id=6), T0 + minutes(1))
    assert target.state is S.SENT and target.last_report_at is None


def test_a_16_plain_report_without_request_id_matches_the_current_request() -> None:
    target = sent_target(ocpp="1.6")
    on_report(target, report("Downloading", request_id=None), T0)
    assert target.state is S.DOWNLOADING


def test_reports_to_a_target_never_sent_are_ignored() -> None:
    target = waiting_target()
    on_report(target, report("Installed", request_id=None), T0)
    assert target.state is S.WAITING


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        ("DownloadFailed", FailureKind.DOWNLOAD),
        ("InvalidSignature", FailureKind.SIGNATURE),
        ("InstallVerificationFailed", FailureKind.INSTALL),
        ("InstallationFailed", FailureKind.INSTALL),
    ],
)
def test_failure_statuses_fail_with_their_kind_and_fetch_the_log(
    status: str, kind: FailureKind
) -> None:
    target = sent_target(request_id=7)
    on_report(target, report("Downloading"), T0)
    assert on_report(target, report(status), T0) == [FetchLog(STATION, 7)]
    assert target.state is S.FAILED and target.failure is kind


def test_a_final_target_ignores_later_reports_and_boots() -> None:
    target = sent_target()
    on_report(target, report("InvalidSignature"), T0)
    assert on_report(target, report("Installed"), T0) == []
    on_boot(target, boot(NEW), T0)
    assert target.state is S.FAILED


def test_an_unknown_status_is_ignored() -> None:
    target = sent_target()
    on_report(target, report("Exploded"), T0 + minutes(1))
    assert target.state is S.SENT and target.last_report_at is None


# -- boots -----------------------------------------------------------------------------------


def test_a_boot_into_the_old_version_after_installed_is_an_old_version_failure() -> None:
    target = sent_target(request_id=7)
    on_report(target, report("Installed"), T0)
    assert on_boot(target, boot(OLD), T0) == [FetchLog(STATION, 7)]
    assert target.failure is FailureKind.OLD_VERSION and OLD in (target.detail or "")


def test_a_boot_into_the_old_version_after_install_rebooting_fails_too() -> None:
    target = sent_target()
    on_report(target, report("InstallRebooting"), T0)
    on_boot(target, boot(OLD), T0)
    assert target.failure is FailureKind.OLD_VERSION


def test_a_boot_during_the_download_changes_nothing() -> None:
    target = sent_target()
    on_report(target, report("Downloading"), T0)
    on_boot(target, boot(OLD), T0)
    assert target.state is S.DOWNLOADING


def test_a_boot_with_the_new_version_confirms_even_when_statuses_were_skipped() -> None:
    target = sent_target()
    on_boot(target, boot("v1.5.0+build9"), T0)
    assert target.state is S.SUCCEEDED


def test_a_boot_before_any_request_is_ignored() -> None:
    target = waiting_target()
    on_boot(target, boot(NEW), T0)
    assert target.state is S.WAITING
    pending = Target(STATION, 0, new_version=NEW)
    on_boot(pending, boot(NEW), T0)
    assert pending.state is S.PENDING


def test_facts_showing_the_new_version_confirm_an_in_flight_target() -> None:
    target = sent_target()
    on_report(target, report("Installed"), T0)
    assert due(target, facts(firmware_version=NEW), policy(), T0, next_request_id=1) is None
    assert target.state is S.SUCCEEDED


# -- silence: probe first, then timeout ------------------------------------------------------


def test_a_silent_station_is_probed_once_then_times_out_after_the_grace() -> None:
    p = policy(station_timeout=timedelta(hours=2), probe_grace=minutes(10))
    target = sent_target(request_id=7)
    assert due(target, facts(), p, T0 + minutes(119), next_request_id=1) is None
    assert due(target, facts(), p, T0 + minutes(120), next_request_id=1) == Probe(STATION, 7)
    assert due(target, facts(), p, T0 + minutes(125), next_request_id=1) is None
    assert due(target, facts(), p, T0 + minutes(130), next_request_id=1) == FetchLog(STATION, 7)
    assert target.state is S.FAILED and target.failure is FailureKind.TIMEOUT


def test_a_report_after_the_probe_keeps_the_target_alive() -> None:
    p = policy(station_timeout=timedelta(hours=2), probe_grace=minutes(10))
    target = sent_target()
    due(target, facts(), p, T0 + minutes(120), next_request_id=1)
    on_report(target, report("Downloading"), T0 + minutes(121))
    assert target.probed_at is None
    assert due(target, facts(), p, T0 + minutes(200), next_request_id=1) is None
    assert isinstance(due(target, facts(), p, T0 + minutes(241), next_request_id=1), Probe)


def test_idle_in_answer_to_a_probe_before_installed_is_a_timeout_failure() -> None:
    target = sent_target()
    on_report(target, report("Downloading"), T0)
    on_report(target, report("Idle", request_id=None), T0)  # not probed: means nothing
    assert target.state is S.DOWNLOADING
    due(target, facts(), policy(), T0 + timedelta(hours=3), next_request_id=1)
    on_report(target, report("Idle", request_id=None), T0 + timedelta(hours=3))
    assert target.failure is FailureKind.TIMEOUT


def test_idle_while_awaiting_the_boot_lets_the_probe_grace_run_out() -> None:
    p = policy()
    target = sent_target()
    on_report(target, report("Installed"), T0)
    probe_at = T0 + timedelta(hours=2)
    assert isinstance(due(target, facts(), p, probe_at, next_request_id=1), Probe)
    on_report(target, report("Idle", request_id=None), probe_at + minutes(1))
    assert target.state is S.INSTALLED
    assert isinstance(due(target, facts(), p, probe_at + minutes(10), next_request_id=1), FetchLog)
    assert target.failure is FailureKind.TIMEOUT


# -- cancel ----------------------------------------------------------------------------------


def test_cancel_takes_only_targets_not_yet_sent() -> None:
    pending = Target(STATION, 1, new_version=NEW)
    assert cancel(pending) and pending.state is S.CANCELLED
    sent = sent_target()
    assert not cancel(sent) and sent.state is S.SENT
    retrying = sent_target()
    on_answer(retrying, answer("Timeout"), T0, policy=policy())
    assert not cancel(retrying)  # the station may hold the request


def test_a_signed_request_refused_after_its_plain_fallback_was_refused_fails() -> None:
    p = policy(allow_unsigned=True)
    target = sent_target(request_id=7, ocpp="1.6")
    on_answer(target, answer("NotSupported"), T0, policy=p)  # signed refused: try plain
    due(target, facts(ocpp_version="1.6"), p, T0, next_request_id=8)
    on_answer(target, answer("NotSupported", request_id=8), T0, policy=p)
    assert target.state is S.FAILED and "neither" in (target.detail or "")


def test_a_target_set_to_waiting_directly_starts_its_wait_on_first_look() -> None:
    target = Target(STATION, 0, state=S.WAITING, new_version=NEW)
    due(target, facts(online=False), policy(), T0, next_request_id=1)
    assert target.waiting_since == T0


def test_reports_answers_and_boots_of_another_station_are_ignored() -> None:
    target = sent_target(request_id=7)
    other = "CP-9999"
    on_report(target, FirmwareStatusReport(other, 7, "InvalidSignature", T0), T0)
    on_answer(target, CommandAnswer(other, 7, "Rejected", T0), T0, policy=policy())
    on_report(target, report("Installed"), T0)
    on_boot(target, BootReport(other, NEW, "FirmwareUpdate", T0), T0)
    assert target.state is S.INSTALLED and target.failure is None


def test_hostile_report_values_change_nothing() -> None:
    target = sent_target(request_id=7)
    for status in ["", "downloading", "Installed\x00", "I" * 100_000]:
        on_report(target, report(status), T0)
    for request_id in [-1, 2**63, 0]:
        on_report(target, report("InvalidSignature", request_id=request_id), T0)
    assert target.state is S.SENT and target.last_report_at is None
