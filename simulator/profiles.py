"""A simulated station's charging profiles: install, clear, stack, and the composite schedule.

Pure (the instant is passed in). OCPP 1.6 section 3.13 and 2.0.1 part K (K01 SetChargingProfile,
K10 ClearChargingProfile, K08 GetCompositeSchedule) stack profiles so:

- per purpose, the profile with the highest ``stackLevel`` whose schedule covers the instant
  (inside validFrom/validTo and the schedule's duration) wins;
- a TxProfile overrides the TxDefaultProfile for the transaction on its EVSE; a TxDefaultProfile
  on an EVSE overrides one on EVSE 0 (which applies to every EVSE);
- the result is capped by the station maximum (1.6 ChargePointMaxProfile, 2.0.1
  ChargingStationMaxProfile) and by ChargingStationExternalConstraints, both on EVSE 0.

Purposes are kept in 2.0.1 spelling (``ChargePointMaxProfile`` becomes
``ChargingStationMaxProfile``). Limits are compared in watts: an ampere limit is
``limit * phases * 230 V``, with ``numberPhases`` 3 when the period does not say.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

VOLTAGE_V = 230.0
DEFAULT_PHASES = 3
MAX = "ChargingStationMaxProfile"
EXTERNAL = "ChargingStationExternalConstraints"
TX_DEFAULT = "TxDefaultProfile"
TX = "TxProfile"
_PURPOSES = {"ChargePointMaxProfile": MAX, MAX: MAX, EXTERNAL: EXTERNAL, TX_DEFAULT: TX_DEFAULT}
_PURPOSES[TX] = TX
_CYCLES = {"Daily": timedelta(days=1), "Weekly": timedelta(days=7)}


class ProfileRejected(ValueError):
    """SetChargingProfile (or a start request's profile) the station answers Rejected."""


@dataclass(frozen=True, slots=True)
class Period:
    start: int  # seconds from the start of the schedule
    limit: float
    phases: int = DEFAULT_PHASES


@dataclass(frozen=True, slots=True)
class Limit:
    """A limit at one instant, in watts, and the phases it is drawn on."""

    watts: float
    phases: int = DEFAULT_PHASES

    def amperes(self) -> float:
        return self.watts / (VOLTAGE_V * self.phases)

    def in_unit(self, unit: str) -> float:
        return self.amperes() if unit == "A" else self.watts


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True, slots=True)
class Profile:
    id: int
    evse: int
    stack_level: int
    purpose: str
    kind: str  # Absolute, Relative, Recurring
    unit: str  # A or W
    periods: tuple[Period, ...]
    start_schedule: datetime | None = None
    duration: int | None = None
    recurrency: str | None = None  # Daily, Weekly
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    transaction: str | None = None
    installed: datetime | None = None  # an Absolute 1.6 profile without startSchedule starts here

    @classmethod
    def from_ocpp(cls, profile: dict[str, Any], evse: int, installed: datetime) -> Profile:
        """A 1.6 csChargingProfiles or 2.0.1 chargingProfile (its first chargingSchedule).

        Raises:
            ProfileRejected: a schedule no station can follow (see ``_check``).
        """
        schedule = profile["chargingSchedule"]
        if isinstance(schedule, list):
            schedule = schedule[0]
        periods = tuple(
            Period(int(p["startPeriod"]), float(p["limit"]), int(p.get("numberPhases", 3)))
            for p in schedule["chargingSchedulePeriod"]
        )
        kind = profile["chargingProfileKind"]
        start = _time(schedule.get("startSchedule"))
        made = cls(
            id=int(profile.get("chargingProfileId", profile.get("id", 0))),
            evse=evse,
            stack_level=int(profile["stackLevel"]),
            purpose=_PURPOSES[profile["chargingProfilePurpose"]],
            kind=kind,
            unit=schedule["chargingRateUnit"],
            periods=periods,
            start_schedule=start,
            duration=schedule.get("duration"),
            recurrency=profile.get("recurrencyKind"),
            valid_from=_time(profile.get("validFrom")),
            valid_to=_time(profile.get("validTo")),
            transaction=None if "transactionId" not in profile else str(profile["transactionId"]),
            installed=installed,
        )
        made._check()
        return made

    def _check(self) -> None:
        starts = [p.start for p in self.periods]
        if not starts or starts[0] != 0 or starts != sorted(set(starts)):
            raise ProfileRejected("periods must start at 0 and increase")
        if any(p.limit < 0 or not 1 <= p.phases <= 3 for p in self.periods):
            raise ProfileRejected("a limit is negative or numberPhases is not 1-3")
        if self.kind == "Recurring" and (self.recurrency not in _CYCLES or not self.start_schedule):
            raise ProfileRejected("a Recurring profile needs recurrencyKind and startSchedule")

    def schedule_start(self, instant: datetime, tx_start: datetime | None) -> datetime:
        """When the schedule's period 0 begins for ``instant``."""
        if self.kind == "Relative":
            return tx_start if tx_start is not None else instant
        if self.start_schedule is None:
            assert self.installed is not None
            return self.installed
        if self.kind == "Recurring":
            cycle = _CYCLES[self.recurrency or "Daily"]
            return self.start_schedule + cycle * math.floor((instant - self.start_schedule) / cycle)
        return self.start_schedule

    def valid(self, instant: datetime) -> bool:
        return (self.valid_from is None or self.valid_from <= instant) and (
            self.valid_to is None or instant < self.valid_to
        )

    def limit_at(self, instant: datetime, tx_start: datetime | None = None) -> Limit | None:
        """This profile's limit at ``instant``, or None where it does not apply."""
        if not self.valid(instant):
            return None
        offset = (instant - self.schedule_start(instant, tx_start)).total_seconds()
        if offset < 0 or (self.duration is not None and offset >= self.duration):
            return None
        period = [p for p in self.periods if p.start <= offset][-1]
        if self.unit == "W":
            return Limit(period.limit, period.phases)
        return Limit(period.limit * VOLTAGE_V * period.phases, period.phases)

    def breakpoints(
        self, start: datetime, end: datetime, tx_start: datetime | None
    ) -> Iterable[datetime]:
        """Every instant in [start, end) where this profile's limit may change."""
        yield from (t for t in (self.valid_from, self.valid_to) if t is not None)
        origin = self.schedule_start(start, tx_start)
        cycle = _CYCLES.get(self.recurrency or "") if self.kind == "Recurring" else None
        while origin < end:
            yield from (origin + timedelta(seconds=p.start) for p in self.periods)
            if self.duration is not None:
                yield origin + timedelta(seconds=self.duration)
            if cycle is None:
                break
            origin += cycle


@dataclass(frozen=True, slots=True)
class Transaction:
    ref: str | None  # None while a remote start waits for its transaction
    started: datetime | None = None


@dataclass(slots=True)
class ProfileStore:
    """The profiles installed on one station (they survive resets, 1.6 3.13.3)."""

    version: str
    evses: int = 1
    profiles: dict[int, Profile] = field(default_factory=dict)

    def install(
        self, profile: Profile, transactions: dict[int, Transaction], *, remote_start: bool = False
    ) -> None:
        """Install ``profile`` (replacing the one with its id).

        ``transactions`` maps each busy EVSE to its transaction. Rejected, as the station
        answers: an EVSE it does not have; a station maximum or external constraint on an EVSE
        other than 0; a TxProfile on EVSE 0, on an EVSE with no transaction, or naming another
        transaction; 2.0.1 only: a TxProfile without transactionId (outside a start request),
        Absolute/Recurring without startSchedule, Relative with one, and a second profile
        with the same purpose and stackLevel on the same EVSE (K01). 1.6 replaces that one.

        Raises:
            ProfileRejected: why the station refuses it.
        """
        v201 = self.version != "1.6"
        if not 0 <= profile.evse <= self.evses:
            raise ProfileRejected(f"no EVSE {profile.evse}")
        if profile.purpose in (MAX, EXTERNAL) and profile.evse != 0:
            raise ProfileRejected(f"{profile.purpose} belongs to EVSE 0")
        if profile.purpose == TX:
            self._check_transaction(profile, transactions, v201=v201, remote_start=remote_start)
        if v201 and (profile.kind == "Relative") == (profile.start_schedule is not None):
            raise ProfileRejected("startSchedule is for Absolute and Recurring profiles only")
        twins = [
            other.id
            for other in self.profiles.values()
            if other.id != profile.id
            and (other.evse, other.purpose, other.stack_level)
            == (profile.evse, profile.purpose, profile.stack_level)
        ]
        if twins and v201:
            raise ProfileRejected(f"stackLevel {profile.stack_level} is taken by {twins[0]}")
        for twin in twins:
            del self.profiles[twin]
        self.profiles[profile.id] = profile

    @staticmethod
    def _check_transaction(
        profile: Profile, transactions: dict[int, Transaction], *, v201: bool, remote_start: bool
    ) -> None:
        if profile.evse == 0:
            raise ProfileRejected("a TxProfile needs an EVSE")
        if remote_start:
            if profile.transaction is not None:
                raise ProfileRejected("a start request's profile cannot name a transaction")
            return
        running = transactions.get(profile.evse)
        if running is None or running.ref is None:
            raise ProfileRejected("a TxProfile needs a running transaction")
        if v201 and profile.transaction is None:
            raise ProfileRejected("a TxProfile needs its transactionId")
        if profile.transaction is not None and profile.transaction != running.ref:
            raise ProfileRejected(f"transaction {profile.transaction} does not run there")

    def clear(
        self,
        profile_id: int | None = None,
        *,
        evse: int | None = None,
        purpose: str | None = None,
        stack_level: int | None = None,
    ) -> bool:
        """ClearChargingProfile: by id, else every profile matching all given criteria
        (none given: all). True when something was cleared (Accepted, else Unknown)."""
        if profile_id is not None:
            return self.profiles.pop(profile_id, None) is not None
        wanted = None if purpose is None else _PURPOSES[purpose]
        gone = [
            p.id
            for p in self.profiles.values()
            if (evse is None or p.evse == evse)
            and (wanted is None or p.purpose == wanted)
            and (stack_level is None or p.stack_level == stack_level)
        ]
        for profile_id in gone:
            del self.profiles[profile_id]
        return bool(gone)

    def transaction_ended(self, evse: int) -> None:
        """A TxProfile lives as long as its transaction (1.6 3.13.1, 2.0.1 K01.FR.05)."""
        for gone in [p.id for p in self.profiles.values() if p.purpose == TX and p.evse == evse]:
            del self.profiles[gone]

    # -- stacking ---------------------------------------------------------------------------

    def _winner(
        self, candidates: list[Profile], instant: datetime, tx_start: datetime | None
    ) -> Limit | None:
        for profile in sorted(candidates, key=lambda p: -p.stack_level):
            limit = profile.limit_at(instant, tx_start)
            if limit is not None:
                return limit
        return None

    def _of(self, purpose: str, evse: int) -> list[Profile]:
        return [p for p in self.profiles.values() if p.purpose == purpose and p.evse == evse]

    def limit_at(
        self,
        evse: int,
        instant: datetime,
        transaction: Transaction | None = None,
        *,
        origin: datetime | None = None,
        sharing: int = 1,
    ) -> Limit | None:
        """What EVSE ``evse`` may draw at ``instant`` (EVSE 0: the station maxima only);
        None when no profile limits it. Relative profiles count from the transaction's start,
        else from ``origin`` (else from ``instant``: their first period). The station maxima
        are split evenly among the ``sharing`` EVSEs that charge at once."""
        tx_start = transaction.started if transaction is not None else None
        tx_start = tx_start or origin
        found: list[Limit] = []
        if evse > 0:
            own = self._winner(self._of(TX, evse), instant, tx_start) if transaction else None
            for candidates in (self._of(TX_DEFAULT, evse), self._of(TX_DEFAULT, 0)):
                if own is None:
                    own = self._winner(candidates, instant, tx_start)
            if own is not None:
                found.append(own)
        for purpose in (MAX, EXTERNAL):
            cap = self._winner(self._of(purpose, 0), instant, tx_start)
            if cap is not None:
                found.append(Limit(cap.watts / max(1, sharing), cap.phases))
        return min(found, key=lambda limit: limit.watts) if found else None

    def composite(
        self,
        evse: int,
        start: datetime,
        duration: int,
        *,
        unit: str,
        hardware: Limit,
        transaction: Transaction | None = None,
    ) -> list[dict[str, Any]]:
        """GetCompositeSchedule's chargingSchedulePeriod over [start, start + duration): the
        stacked limit, or ``hardware`` where nothing limits, in ``unit`` rounded down to 0.1.
        Without a transaction, Relative profiles count from ``start``."""
        end = start + timedelta(seconds=duration)
        tx_start = (transaction.started if transaction is not None else None) or start
        instants = {start}
        for profile in self.profiles.values():
            instants.update(t for t in profile.breakpoints(start, end, tx_start) if start < t < end)
        periods: list[dict[str, Any]] = []
        for instant in sorted(instants):
            limit = self.limit_at(evse, instant, transaction, origin=start) or hardware
            if limit.watts > hardware.watts:
                limit = hardware
            value = math.floor(round(limit.in_unit(unit) * 10, 6)) / 10
            period = {"limit": value, "numberPhases": limit.phases}
            if periods and {k: periods[-1][k] for k in period} == period:
                continue
            offset = int((instant - start).total_seconds())
            if periods and periods[-1]["startPeriod"] == offset:
                periods.pop()  # a sub-second breakpoint: the later value holds
            periods.append({"startPeriod": offset, **period})
        return periods
