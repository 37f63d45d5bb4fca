"""The engine's pieces together, in memory: planner -> rollout -> targets -> fake stations.

The scenario of the issue without sockets: 200 stations of two families; one family's rollout
pauses itself when 10% of its stations report InvalidSignature; the admin resumes it with a
replacement image and every other station ends on the new version, confirmed by its boot; a
station in a session is updated only after the session ends.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from firmware.rollout.machine import Rollout
from firmware.rollout.model import (
    BootReport,
    CancelWaiting,
    CommandAnswer,
    FailureCriterion,
    FailureKind,
    FirmwareStatusReport,
    Outcome,
    RolloutPolicy,
    RolloutState,
    SendUpdate,
    StartWave,
    StationFacts,
    TargetSelection,
    TargetState,
    WavePlan,
)
from firmware.rollout.planner import Candidate, assign
from firmware.rollout.targets import Target, cancel, due, on_answer, on_boot, on_report, start
from firmware.rollout.waves import WaveCounts, plan_sizes

from .builders import T0

BAD_IMAGE, GOOD_IMAGE = "2.0.0", "2.0.1"


@dataclass
class FakeStation:
    """A station that installs what it is sent, unless it is one of the broken verifiers."""

    facts: StationFacts
    rejects: str | None = None  # the version whose signature it finds invalid

    def handle(self, command: SendUpdate, version: str, now: datetime) -> list[object]:
        sid, rid = self.facts.station_id, command.request_id
        answer = CommandAnswer(sid, rid, "Accepted", now)
        if version == self.rejects:
            return [answer, FirmwareStatusReport(sid, rid, "InvalidSignature", now)]
        self.facts = replace(self.facts, firmware_version=version)
        return [
            answer,
            FirmwareStatusReport(sid, rid, "Downloading", now),
            FirmwareStatusReport(sid, rid, "Downloaded", now),
            FirmwareStatusReport(sid, rid, "Installed", now),
            BootReport(sid, version, "FirmwareUpdate", now),
        ]


def test_a_rollout_pauses_on_bad_signatures_and_finishes_with_a_replacement_image() -> None:
    stations = {
        f"CP-{i:03d}": FakeStation(
            StationFacts(f"CP-{i:03d}", True, i == 58, None, "1.9.0", "2.0.1"),
            rejects=BAD_IMAGE if i % 20 == 0 else None,  # 10% of family A
        )
        for i in range(200)
    }
    candidates = [
        Candidate(sid, "fam-a" if i % 2 == 0 else "fam-b", "stable", "1.9.0")
        for i, sid in enumerate(stations)
    ]
    policy = RolloutPolicy(
        TargetSelection("fam-a"),
        WavePlan("percent", percents=(10, 50)),
        criteria=(FailureCriterion(FailureKind.SIGNATURE, 10.0, min_sample=10, action="pause"),),
        success_percent=80.0,
    )
    plan = list(assign(candidates, policy.selection, policy.waves))
    assert len(plan) == 100
    sizes = plan_sizes(100, policy.waves)
    targets = [Target(sid, wave, new_version=BAD_IMAGE) for sid, wave in plan]
    by_wave = {w: [t for t in targets if t.wave == w] for w in range(len(sizes))}
    rollout = Rollout(policy, tuple(sizes))
    now, request = T0, 1000

    def act(actions: list[object]) -> None:
        for action in actions:
            if isinstance(action, StartWave):
                for target in by_wave[action.wave]:
                    start(target, now)
            if isinstance(action, CancelWaiting):
                for target in targets:
                    cancel(target)

    def round_trip() -> None:
        nonlocal request
        wave = by_wave[rollout.wave_index]
        for target in wave:
            station = stations[target.station_id]
            command = due(target, station.facts, policy, now, next_request_id=request)
            if not isinstance(command, SendUpdate):
                continue
            request += 1
            for event in station.handle(command, target.new_version, now):
                if isinstance(event, CommandAnswer):
                    on_answer(target, event, now, policy=policy)
                elif isinstance(event, FirmwareStatusReport):
                    on_report(target, event, now)
                elif isinstance(event, BootReport):
                    on_boot(target, event, now)
        counts = WaveCounts.of((t.state, t.failure) for t in wave)
        act(rollout.tick(now, counts))

    act(rollout.start(now))
    for _ in range(10):
        if rollout.state is not RolloutState.RUNNING:
            break
        now += timedelta(minutes=1)
        round_trip()
    assert rollout.state is RolloutState.PAUSED
    assert rollout.reason is not None and rollout.reason.startswith("signature failures 10.0%")
    assert rollout.wave_index == 0  # 1 bad of the first wave's 10: exactly the threshold
    sent = [t for t in targets if t.attempts]
    assert len(sent) == 10 and all(t.wave == 0 for t in sent)  # nothing beyond the paused wave

    # the admin resumes with a replacement image for everything not yet sent
    for target in targets:
        if target.state in (TargetState.PENDING, TargetState.WAITING) and not target.attempts:
            target.new_version = GOOD_IMAGE
    act(rollout.resume(now, WaveCounts.of((t.state, t.failure) for t in by_wave[0])))
    for _ in range(20):
        if rollout.state is not RolloutState.RUNNING:
            break
        now += timedelta(minutes=1)
        if now > T0 + timedelta(minutes=8):
            stations["CP-058"].facts = replace(stations["CP-058"].facts, in_transaction=False)
        round_trip()

    assert rollout.state is RolloutState.SUCCEEDED and rollout.outcome is Outcome.SUCCESSFUL
    failed = [t for t in targets if t.state is TargetState.FAILED]
    assert failed and all(t.failure is FailureKind.SIGNATURE for t in failed)
    assert all(stations[t.station_id].rejects == BAD_IMAGE for t in failed)
    for target in targets:
        if target.state is not TargetState.FAILED:
            assert target.state is TargetState.SUCCEEDED
            assert stations[target.station_id].facts.firmware_version == target.new_version
    in_session = next(t for t in targets if t.station_id == "CP-058")
    assert in_session.state is TargetState.SUCCEEDED
    assert in_session.sent_at is not None and in_session.sent_at > T0 + timedelta(minutes=8)
    family_b = {sid for sid, s in stations.items() if int(sid[3:]) % 2}
    assert family_b.isdisjoint(t.station_id for t in targets)
