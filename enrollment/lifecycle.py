"""The device lifecycle as an explicit state machine (DESIGN.md, "Lifecycle of a device").

::

    registered --enroll--> enrolled --release--> released --pair--> paired
        |                     |                   ^   |               |
        |                     |                   |   +----unpair-----+
        +---------------------+-----decommission--+-------------------+--> decommissioned

What each state means to an operator:

- ``registered``: whitelisted at the factory; MAC address and both security codes exist. The
  station may connect for factory tests only, and may be enrolled over OCPP with its one-time
  password (the "field" path) or by the line script posting its CSR (the "factory" path).
- ``enrolled``: holds a certificate from the station CA; still on the factory's side.
- ``released``: shipped to market. The packaging code becomes usable, so an owner can pair.
- ``paired``: has an owner. ``unpair`` returns it to ``released`` when the owner gives the
  station up (sale, move, return); the service must then drop every membership and invitation
  so the next owner starts clean, and the packaging code stays the proof of possession.
- ``decommissioned``: scrapped, stolen, or returned for good. Final: the station is refused at
  the handshake and its certificate should be revoked by the caller. Allowed from every other
  state, because a device can be lost or broken at any point of its life. Undoing it is
  deliberately not a transition: a mistaken decommission needs an audited admin repair.

Moves that are not state changes stay outside this machine on purpose: certificate renewal
(keyed by serial, any state from ``enrolled`` on), ownership transfer between people (a
membership change while ``paired``), and retries. Requesting the state a device already has is
refused like any other illegal move; services that must be idempotent (a line script retrying a
release) compare first and treat ``current == requested`` as a replay.
"""

from __future__ import annotations

from enum import StrEnum

from enrollment.errors import InvalidTransition

__all__ = [
    "DeviceState",
    "InvalidTransition",
    "Operation",
    "allowed_targets",
    "apply",
    "transition",
]


class DeviceState(StrEnum):
    """Where a device is in its life."""

    REGISTERED = "registered"
    ENROLLED = "enrolled"
    RELEASED = "released"
    PAIRED = "paired"
    DECOMMISSIONED = "decommissioned"

    @property
    def is_final(self) -> bool:
        """Whether no transition leaves this state."""
        return not _TRANSITIONS[self]


class Operation(StrEnum):
    """The audited operations that move a device; each names its target state."""

    ENROLL = "enroll"
    RELEASE = "release"
    PAIR = "pair"
    UNPAIR = "unpair"
    DECOMMISSION = "decommission"

    @property
    def target(self) -> DeviceState:
        """The state this operation leads to."""
        return _TARGETS[self]


_TARGETS: dict[Operation, DeviceState] = {
    Operation.ENROLL: DeviceState.ENROLLED,
    Operation.RELEASE: DeviceState.RELEASED,
    Operation.PAIR: DeviceState.PAIRED,
    Operation.UNPAIR: DeviceState.RELEASED,
    Operation.DECOMMISSION: DeviceState.DECOMMISSIONED,
}

# Operation allowed from each state. UNPAIR and RELEASE share a target, so the table is keyed
# by operation rather than by target state.
_TRANSITIONS: dict[DeviceState, frozenset[Operation]] = {
    DeviceState.REGISTERED: frozenset({Operation.ENROLL, Operation.DECOMMISSION}),
    DeviceState.ENROLLED: frozenset({Operation.RELEASE, Operation.DECOMMISSION}),
    DeviceState.RELEASED: frozenset({Operation.PAIR, Operation.DECOMMISSION}),
    DeviceState.PAIRED: frozenset({Operation.UNPAIR, Operation.DECOMMISSION}),
    DeviceState.DECOMMISSIONED: frozenset(),
}


def allowed_targets(current: DeviceState) -> frozenset[DeviceState]:
    """The states a device in ``current`` may move to."""
    return frozenset(operation.target for operation in _TRANSITIONS[current])


def apply(current: DeviceState, operation: Operation) -> DeviceState:
    """Apply ``operation`` to a device in ``current`` and return its new state.

    Raises:
        InvalidTransition: the operation is not allowed from ``current``.
    """
    if operation not in _TRANSITIONS[current]:
        raise InvalidTransition(current, operation.target)
    return operation.target


def transition(current: DeviceState, requested: DeviceState) -> DeviceState:
    """Move a device from ``current`` to ``requested``; return ``requested``.

    Raises:
        InvalidTransition: the lifecycle does not allow the move (including
            ``current == requested``).
    """
    if requested not in allowed_targets(current):
        raise InvalidTransition(current, requested)
    return requested
