"""The rollout service's tables (SQLModel): rollouts, their waves and targets, the request ids
handed to stations, the raw stream of firmware reports the edge captures, the outbox of commands
to send, and the worker lease.

What must hold under concurrency is the database's job here:

- ``firmware_active_targets`` has the station as its primary key, so two unfinished rollouts
  can never target the same station (the second insert fails, whoever commits first wins);
- ``firmware_request_ids`` is an autoincrement table: every OCPP requestId the platform sends
  is a fresh row, so it is unique across rollouts, workers and restarts;
- ``firmware_outbox`` is written in the same transaction as the target's step, so a worker that
  dies after committing and before sending leaves the command (with its requestId) to be sent
  by whoever takes the target next: a station never gets two different requests for one step;
- ``firmware_worker_lease`` is one row per name; on SQLite exactly one worker holds it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from common.clock import utcnow

__all__ = [
    "ActiveTargetRow",
    "FirmwareReportRow",
    "OutboxRow",
    "RequestIdRow",
    "RolloutRow",
    "RolloutTargetRow",
    "RolloutWaveRow",
    "WorkerLeaseRow",
]


def _utc(*, nullable: bool = False) -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=nullable)


def _rollout() -> Column[int]:
    return Column(Integer, ForeignKey("firmware_rollouts.id"), nullable=False, index=True)


class RolloutRow(SQLModel, table=True):
    """One rollout: an image, its family, the policy (JSON of ``policy_to_dict``) and its state.

    ``kind`` is ``rollout``, ``rollback`` (of ``previous_image_id``'s rollout) or
    ``keep_current`` (a standing rollout that brings the family's stations to their channel's
    image, stations that come online later included).
    """

    __tablename__ = "firmware_rollouts"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    kind: str = Field(default="rollout", max_length=16)
    image_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("firmware_images.id"), nullable=True),
    )
    family_id: int = Field(
        sa_column=Column(Integer, ForeignKey("hardware_families.id"), nullable=False, index=True)
    )
    rollback_of: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    policy: str = Field(sa_column=Column(Text, nullable=False))
    state: str = Field(default="draft", max_length=16, index=True)
    outcome: str | None = Field(default=None, max_length=16)
    wave_index: int = Field(default=0)
    wave_count: int = Field(default=0)
    target_count: int = Field(default=0)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_by: str = Field(default="", max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc())
    started_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    ended_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_utc())
    ticked_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    resumed_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    wave_sizes: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    machine: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    """The engine's ``Rollout`` fields the columns above do not hold (JSON)."""


class RolloutWaveRow(SQLModel, table=True):
    """One wave of a rollout; ``verdict`` is the engine's last word on it."""

    __tablename__ = "firmware_rollout_waves"
    __table_args__ = (UniqueConstraint("rollout_id", "index"),)

    id: int | None = Field(default=None, primary_key=True)
    rollout_id: int = Field(sa_column=_rollout())
    index: int
    size: int
    started_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    soak_started_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    ended_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    verdict: str | None = Field(default=None, max_length=200)


class RolloutTargetRow(SQLModel, table=True):
    """One station in one rollout: the engine's ``Target`` plus the worker's claim on it.

    ``report_cursor`` is the id of the last ``firmware_reports`` row applied to it, so reports
    are applied once each, in order, by whichever worker holds the claim.
    """

    __tablename__ = "firmware_rollout_targets"
    __table_args__ = (
        UniqueConstraint("rollout_id", "station_id"),
        Index("ix_firmware_rollout_targets_wave", "rollout_id", "wave", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    rollout_id: int = Field(sa_column=_rollout())
    station_id: str = Field(sa_column=Column(String(48), nullable=False, index=True))
    wave: int
    image_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    """The image this station gets when it is not the rollout's (keep-current targets)."""
    state: str = Field(default="pending", max_length=16, index=True)
    request_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    attempts: int = Field(default=0)
    signed: bool = Field(default=True)
    sent_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    last_report_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    probed_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    failure: str | None = Field(default=None, max_length=16)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False))
    old_version: str | None = Field(default=None, max_length=50)
    new_version: str | None = Field(default=None, max_length=50)
    report_cursor: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    machine: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    """The engine's ``Target`` fields the columns above do not hold (JSON)."""
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_utc())


class ActiveTargetRow(SQLModel, table=True):
    """The one unfinished explicit rollout that holds a station (primary key: the station)."""

    __tablename__ = "firmware_active_targets"

    station_id: str = Field(sa_column=Column(String(48), primary_key=True))
    rollout_id: int = Field(sa_column=_rollout())
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc())


class RequestIdRow(SQLModel, table=True):
    """An OCPP requestId the platform handed out, and the target it belongs to."""

    __tablename__ = "firmware_request_ids"

    id: int | None = Field(default=None, primary_key=True)
    station_id: str = Field(sa_column=Column(String(48), nullable=False, index=True))
    target_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("firmware_rollout_targets.id"), nullable=False, index=True
        )
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc())


class FirmwareReportRow(SQLModel, table=True):
    """What a station said that rollouts care about, as the edge heard it.

    ``kind``: ``status`` (FirmwareStatusNotification: ``status``, ``request_id``, ``signed``),
    ``boot`` (``status`` = the firmware version, ``detail`` = the boot reason), ``fault`` (a
    connector reported Faulted), ``session_started`` / ``session_ended`` (``detail`` = the stop
    reason; ``failed`` when it ended abnormally).
    """

    __tablename__ = "firmware_reports"
    __table_args__ = (Index("ix_firmware_reports_station", "station_id", "id"),)

    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    )
    station_id: str = Field(sa_column=Column(String(48), nullable=False))
    kind: str = Field(max_length=16)
    status: str | None = Field(default=None, max_length=50)
    request_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    signed: bool = Field(default=False)
    failed: bool = Field(default=False)
    detail: str | None = Field(default=None, max_length=200)
    at: datetime = Field(default_factory=utcnow, sa_column=_utc())


class OutboxRow(SQLModel, table=True):
    """A command decided for a target and not yet answered; ``command`` is its JSON.

    Written with the step that decided it; sent (again, with the same requestId) by whoever
    holds the target until ``answered_at`` is set.
    """

    __tablename__ = "firmware_outbox"

    id: int | None = Field(default=None, primary_key=True)
    target_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("firmware_rollout_targets.id"), nullable=False, index=True
        )
    )
    station_id: str = Field(sa_column=Column(String(48), nullable=False))
    kind: str = Field(max_length=16)
    request_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    command: str = Field(sa_column=Column(Text, nullable=False))
    attempts: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc())
    sent_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    answered_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    answer: str | None = Field(default=None, max_length=50)


class WorkerLeaseRow(SQLModel, table=True):
    """A named lease: ``holder`` runs until ``until`` unless it renews."""

    __tablename__ = "firmware_worker_lease"

    name: str = Field(sa_column=Column(String(32), primary_key=True))
    holder: str = Field(max_length=64)
    until: datetime = Field(sa_column=_utc())
