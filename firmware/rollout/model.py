"""The rollout engine's vocabulary in one place: states, policy, inputs and outputs.

The engine is pure (no database, no I/O, no asyncio, time passed in). Its pieces:

- ``firmware.rollout.targets``: one station's machine, ``Target`` with ``on_report``,
  ``on_answer``, ``on_boot`` and ``due`` (which mutate the target and return commands);
- ``firmware.rollout.waves``: wave sizes and the verdict on a wave (criteria, success, health);
- ``firmware.rollout.machine``: the ``Rollout`` (start, pause, resume, abort, cancel, tick);
- ``firmware.rollout.planner``: the streaming assignment of candidates to waves.
"""

from __future__ import annotations

from firmware.rollout.messages import (
    ANSWER_STATUSES,
    BootReport,
    CancelWaiting,
    CommandAnswer,
    FetchLog,
    FirmwareStatusReport,
    HealthSample,
    Probe,
    RolloutAction,
    RolloutChanged,
    SendUpdate,
    StartWave,
    StationFacts,
    StopCharging,
    TargetCommand,
)
from firmware.rollout.policy import (
    ALL_WEEKDAYS,
    CriterionAction,
    DuringTransaction,
    FailureCriterion,
    HealthGate,
    MaintenanceWindow,
    RolloutPolicy,
    TargetSelection,
    WaveKind,
    WavePlan,
    policy_from_dict,
    policy_to_dict,
)
from firmware.rollout.states import (
    FINAL_ROLLOUT_STATES,
    FINAL_TARGET_STATES,
    IN_FLIGHT_TARGET_STATES,
    FailureKind,
    InvalidTransition,
    Outcome,
    PolicyError,
    RolloutError,
    RolloutState,
    TargetState,
)

__all__ = [
    "ALL_WEEKDAYS",
    "ANSWER_STATUSES",
    "FINAL_ROLLOUT_STATES",
    "FINAL_TARGET_STATES",
    "IN_FLIGHT_TARGET_STATES",
    "BootReport",
    "CancelWaiting",
    "CommandAnswer",
    "CriterionAction",
    "DuringTransaction",
    "FailureCriterion",
    "FailureKind",
    "FetchLog",
    "FirmwareStatusReport",
    "HealthGate",
    "HealthSample",
    "InvalidTransition",
    "MaintenanceWindow",
    "Outcome",
    "PolicyError",
    "Probe",
    "RolloutAction",
    "RolloutChanged",
    "RolloutError",
    "RolloutPolicy",
    "RolloutState",
    "SendUpdate",
    "StartWave",
    "StationFacts",
    "StopCharging",
    "TargetCommand",
    "TargetSelection",
    "TargetState",
    "WaveKind",
    "WavePlan",
    "policy_from_dict",
    "policy_to_dict",
]
