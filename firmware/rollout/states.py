"""The states of a rollout and of its targets, failure kinds, and the engine's errors.

Error tree::

    RolloutError
     +-- InvalidTransition   an illegal move of a rollout or target
     +-- PolicyError         a policy field out of range or of the wrong type (names the field)
"""

from __future__ import annotations

from enum import StrEnum


class RolloutState(StrEnum):
    DRAFT = "draft"
    RUNNING = "running"
    PAUSED = "paused"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # an abort criterion fired, or the run could not meet its conditions
    ABORTED = "aborted"  # an admin stopped it
    CANCELLED = "cancelled"  # an admin withdrew it


FINAL_ROLLOUT_STATES = frozenset(
    {RolloutState.SUCCEEDED, RolloutState.FAILED, RolloutState.ABORTED, RolloutState.CANCELLED}
)


class Outcome(StrEnum):
    """How a finished run ends (Argo Rollouts' analysis phases)."""

    SUCCESSFUL = "successful"
    FAILED = "failed"
    INCONCLUSIVE = "inconclusive"


class TargetState(StrEnum):
    PENDING = "pending"  # its wave has not started
    WAITING = "waiting"  # wave started; waiting for a window, an idle station or a connection
    SENT = "sent"  # request sent, no answer yet
    ACCEPTED = "accepted"
    DOWNLOADING = "downloading"
    DOWNLOADED = "downloaded"
    VERIFIED = "verified"
    INSTALLING = "installing"
    INSTALLED = "installed"  # awaiting the boot that confirms
    SUCCEEDED = "succeeded"  # a boot reported the new version
    FAILED = "failed"
    SKIPPED = "skipped"  # already on the version, or excluded
    CANCELLED = "cancelled"


FINAL_TARGET_STATES = frozenset(
    {TargetState.SUCCEEDED, TargetState.FAILED, TargetState.SKIPPED, TargetState.CANCELLED}
)
IN_FLIGHT_TARGET_STATES = frozenset(
    {
        TargetState.SENT,
        TargetState.ACCEPTED,
        TargetState.DOWNLOADING,
        TargetState.DOWNLOADED,
        TargetState.VERIFIED,
        TargetState.INSTALLING,
        TargetState.INSTALLED,
    }
)


class FailureKind(StrEnum):
    DOWNLOAD = "download"
    SIGNATURE = "signature"
    INSTALL = "install"
    TIMEOUT = "timeout"
    REJECTED = "rejected"
    CERTIFICATE = "certificate"
    OLD_VERSION = "old_version"  # rebooted into the old version


class RolloutError(Exception):
    """Root of the rollout engine's errors."""


class InvalidTransition(RolloutError):
    """``requested`` is not a legal move from ``current``."""

    def __init__(self, current: str, requested: str) -> None:
        super().__init__(f"cannot {requested} a rollout that is {current}")
        self.current = current
        self.requested = requested


class PolicyError(RolloutError, ValueError):
    """A policy field is missing, of the wrong type or out of range; ``field`` is its path."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
