"""Errors of the rollout service (the engine's own are in :mod:`firmware.rollout.states`).

Tree::

    RolloutServiceError
     +-- RolloutNotFound       no rollout with that id
     +-- RolloutRefused        a request the service will not carry out (``field`` names why)
     |    +-- DowngradeRefused  the image is older than stations run, without allow_downgrade
     |    +-- NothingToRollBack a rollback of a rollout no station took
     +-- TargetsOverlap        stations already held by another unfinished rollout
"""

from __future__ import annotations

from collections.abc import Sequence


class RolloutServiceError(Exception):
    """Root of the rollout service's errors."""


class RolloutNotFound(RolloutServiceError):
    def __init__(self, rollout_id: int) -> None:
        super().__init__(f"rollout {rollout_id} not found")
        self.rollout_id = rollout_id


class RolloutRefused(RolloutServiceError):
    """``field`` is the request field at fault (``image_id``, ``policy.selection.family``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class DowngradeRefused(RolloutRefused):
    def __init__(self, version: str, stations: Sequence[str]) -> None:
        shown = ", ".join(stations[:10]) + (" ..." if len(stations) > 10 else "")
        super().__init__(
            "policy.allow_downgrade",
            f"image {version} is older than what {len(stations)} station(s) run ({shown}); "
            "set allow_downgrade to roll it out",
        )
        self.stations = list(stations)


class NothingToRollBack(RolloutRefused):
    pass


class TargetsOverlap(RolloutServiceError):
    """Two unfinished rollouts may not target one station."""

    def __init__(self, stations: Sequence[str], rollout_ids: Sequence[int]) -> None:
        shown = ", ".join(stations[:20]) + (" ..." if len(stations) > 20 else "")
        super().__init__(
            f"{len(stations)} station(s) already in unfinished rollout(s) "
            f"{', '.join(str(i) for i in sorted(set(rollout_ids)))}: {shown}"
        )
        self.stations = list(stations)
        self.rollout_ids = sorted(set(rollout_ids))
