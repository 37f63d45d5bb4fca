"""Rollout policies as data: frozen dataclasses that check themselves, and their JSON form.

Field names follow hawkBit and AWS IoT Jobs where they have one. Every check raises
:class:`PolicyError` naming the field's path (``waves.sizes[1]``), both when a policy is built in
code and when it is read from JSON. Durations are seconds in JSON, times of day ``"HH:MM"``,
weekdays 0 (Monday) to 6.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any, Literal, TypeVar, cast

from firmware.rollout.states import FailureKind, PolicyError

WaveKind = Literal["fixed", "percent", "exponential"]
CriterionAction = Literal["pause", "abort"]
DuringTransaction = Literal["wait", "force"]
DownloadProtocol = Literal["https", "ftp"]
ALL_WEEKDAYS: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)


def _check(condition: bool, name: str, message: str) -> None:
    if not condition:
        raise PolicyError(name, message)


def _percent(value: float, name: str, *, low: float = 0.0) -> None:
    _check(math.isfinite(value) and low <= value <= 100, name, f"must be in {low:g}..100")


@dataclass(frozen=True, slots=True)
class TargetSelection:
    """Which stations a rollout reaches. Empty ``lots``/``stations`` mean no restriction."""

    family: str
    channel: str | None = None
    below_version: str | None = None  # only stations whose firmware sorts below this
    lots: tuple[str, ...] = ()
    stations: tuple[str, ...] = ()
    sample_percent: float | None = None  # a deterministic sample by hash of (seed, station)
    seed: int = 0

    def __post_init__(self) -> None:
        _check(bool(self.family.strip()), "family", "must not be empty")
        if self.sample_percent is not None:
            _percent(self.sample_percent, "sample_percent", low=0.0)


@dataclass(frozen=True, slots=True)
class WavePlan:
    """How targets are split into waves.

    - ``fixed``: ``sizes`` stations per wave; the last size repeats until every target is in one.
    - ``percent``: cumulative shares of the targets (``(1, 10, 50, 100)``); a last wave takes
      the rest when the final share is under 100.
    - ``exponential`` (AWS IoT Jobs' rate): the first wave has ``base`` stations; the size is
      multiplied by ``factor`` (rounded up) at each wave boundary once ``raise_after``
      stations have succeeded since the previous raise, never above ``max_size``.
    """

    kind: WaveKind = "fixed"
    sizes: tuple[int, ...] = ()
    percents: tuple[float, ...] = ()
    base: int = 1
    factor: float = 2.0
    raise_after: int = 1
    max_size: int | None = None

    def __post_init__(self) -> None:
        _check(self.kind in ("fixed", "percent", "exponential"), "kind", "unknown wave kind")
        if self.kind == "fixed":
            _check(bool(self.sizes), "sizes", "a fixed plan needs at least one size")
            for index, size in enumerate(self.sizes):
                _check(size >= 1, f"sizes[{index}]", "must be at least 1")
        if self.kind == "percent":
            _check(bool(self.percents), "percents", "a percent plan needs at least one share")
            previous = 0.0
            for index, share in enumerate(self.percents):
                _percent(share, f"percents[{index}]")
                _check(share > previous, f"percents[{index}]", "shares must grow")
                previous = share
        _check(self.base >= 1, "base", "must be at least 1")
        _check(math.isfinite(self.factor) and 1 <= self.factor <= 1000, "factor", "1..1000")
        _check(self.raise_after >= 1, "raise_after", "must be at least 1")
        if self.max_size is not None:
            _check(self.max_size >= self.base, "max_size", "must be at least base")


@dataclass(frozen=True, slots=True)
class FailureCriterion:
    """Pause or abort once ``percent`` of the finished targets failed with ``kind`` (any if None).

    Counted over the rollout so far (every wave, since the last resume), and only once at
    least ``min_sample`` targets have finished, as AWS IoT Jobs' abort criteria do.
    """

    kind: FailureKind | None
    percent: float
    min_sample: int = 1
    action: CriterionAction = "pause"

    def __post_init__(self) -> None:
        _percent(self.percent, "percent")
        _check(self.min_sample >= 1, "min_sample", "must be at least 1")
        _check(self.action in ("pause", "abort"), "action", "must be pause or abort")


@dataclass(frozen=True, slots=True)
class HealthGate:
    """After a wave settles, watch it for ``soak``: its fault, reboot and failed-session rates
    per station-hour must not exceed the previous version's by more than ``margin_percent``.

    ``min_station_hours``: observations shorter than this keep the wave soaking.
    """

    soak: timedelta
    margin_percent: float = 10.0
    min_station_hours: float = 0.0
    action: CriterionAction = "pause"

    def __post_init__(self) -> None:
        _check(self.soak >= timedelta(0), "soak", "must not be negative")
        _check(
            math.isfinite(self.margin_percent) and 0 <= self.margin_percent <= 10_000,
            "margin_percent",
            "must be in 0..10000",
        )
        _check(
            math.isfinite(self.min_station_hours) and self.min_station_hours >= 0,
            "min_station_hours",
            "must not be negative",
        )
        _check(self.action in ("pause", "abort"), "action", "must be pause or abort")


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    """A daily window in the station's own time zone; ``end <= start`` crosses midnight (and
    ``end == start`` is the whole day). ``weekdays`` are the days a window opens on."""

    start: time
    end: time
    weekdays: tuple[int, ...] = ALL_WEEKDAYS

    def __post_init__(self) -> None:
        _check(self.start.tzinfo is None, "start", "a wall-clock time without zone")
        _check(self.end.tzinfo is None, "end", "a wall-clock time without zone")
        _check(bool(self.weekdays), "weekdays", "must name at least one day")
        for index, day in enumerate(self.weekdays):
            _check(0 <= day <= 6, f"weekdays[{index}]", "0 (Monday) to 6 (Sunday)")


@dataclass(frozen=True, slots=True)
class RolloutPolicy:
    selection: TargetSelection
    waves: WavePlan
    success_percent: float = 100.0  # of a wave's decided targets, to start the next wave
    criteria: tuple[FailureCriterion, ...] = ()
    health: HealthGate | None = None
    station_timeout: timedelta = timedelta(hours=2)  # silence before a probe
    probe_grace: timedelta = timedelta(minutes=10)  # silence after the probe before a timeout
    max_wait: timedelta | None = None  # a waiting target fails (timeout) after this
    windows: tuple[MaintenanceWindow, ...] = ()  # none = any time
    during_transaction: DuringTransaction = "wait"
    retries: int = 3  # OCPP retries, and resends of an unanswered request
    retry_interval: timedelta = timedelta(minutes=5)
    allow_unsigned: bool = False
    allow_downgrade: bool = False
    download_protocol: DownloadProtocol = "https"  # "ftp" for stations that only speak FTP

    def __post_init__(self) -> None:
        _percent(self.success_percent, "success_percent")
        _check(self.station_timeout > timedelta(0), "station_timeout", "must be positive")
        _check(self.probe_grace > timedelta(0), "probe_grace", "must be positive")
        if self.max_wait is not None:
            _check(self.max_wait > timedelta(0), "max_wait", "must be positive")
        _check(self.during_transaction in ("wait", "force"), "during_transaction", "wait or force")
        _check(0 <= self.retries <= 100, "retries", "must be in 0..100")
        _check(self.retry_interval >= timedelta(0), "retry_interval", "must not be negative")
        _check(self.download_protocol in ("https", "ftp"), "download_protocol", "https or ftp")


# -- JSON ------------------------------------------------------------------------------------

T = TypeVar("T")
_NONE: tuple[Any, ...] = ()


class _Reader:
    """Reads one JSON object, naming every field by its path in errors."""

    def __init__(self, data: object, path: str) -> None:
        if not isinstance(data, Mapping):
            raise PolicyError(path or "policy", "must be an object")
        self.data = cast(Mapping[str, Any], data)
        self.path = path
        self.seen: set[str] = set()

    def name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def get(self, key: str, parse: Callable[[object, str], T], default: T) -> T:
        self.seen.add(key)
        if key not in self.data:
            return default
        return parse(self.data[key], self.name(key))

    def need(self, key: str, parse: Callable[[object, str], T]) -> T:
        self.seen.add(key)
        if key not in self.data:
            raise PolicyError(self.name(key), "is required")
        return parse(self.data[key], self.name(key))

    def finish(self, build: Callable[[], T]) -> T:
        unknown = sorted(set(self.data) - self.seen)
        if unknown:
            raise PolicyError(self.name(str(unknown[0])), "unknown field")
        try:
            return build()
        except PolicyError as error:
            raise PolicyError(self.name(error.field), error.message) from None


def _int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PolicyError(name, "must be an integer")
    return value


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PolicyError(name, "must be a number")
    if not math.isfinite(value):
        raise PolicyError(name, "must be finite")
    return float(value)


def _str(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise PolicyError(name, "must be a string")
    return value


def _bool(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise PolicyError(name, "must be true or false")
    return value


def _optional(parse: Callable[[object, str], T]) -> Callable[[object, str], T | None]:
    return lambda value, name: None if value is None else parse(value, name)


def _tuple(parse: Callable[[object, str], T]) -> Callable[[object, str], tuple[T, ...]]:
    def read(value: object, name: str) -> tuple[T, ...]:
        if not isinstance(value, list | tuple):
            raise PolicyError(name, "must be a list")
        return tuple(parse(item, f"{name}[{index}]") for index, item in enumerate(value))

    return read


def _seconds(value: object, name: str) -> timedelta:
    seconds = _number(value, name)
    if abs(seconds) > 10 * 365 * 86400:
        raise PolicyError(name, "out of range")
    return timedelta(seconds=seconds)


def _time(value: object, name: str) -> time:
    text = _str(value, name)
    try:
        parsed = time.fromisoformat(text)
    except ValueError:
        raise PolicyError(name, "must be a time of day HH:MM") from None
    if parsed.tzinfo is not None:
        raise PolicyError(name, "must be a wall-clock time without zone")
    return parsed


def _kind(value: object, name: str) -> FailureKind:
    try:
        return FailureKind(_str(value, name))
    except ValueError:
        raise PolicyError(name, f"one of {', '.join(kind.value for kind in FailureKind)}") from None


def _literal(*allowed: str) -> Callable[[object, str], Any]:
    def read(value: object, name: str) -> str:
        text = _str(value, name)
        if text not in allowed:
            raise PolicyError(name, f"one of {', '.join(allowed)}")
        return text

    return read


def _selection(value: object, name: str) -> TargetSelection:
    r = _Reader(value, name)
    family = r.need("family", _str)
    channel = r.get("channel", _optional(_str), None)
    below = r.get("below_version", _optional(_str), None)
    lots = r.get("lots", _tuple(_str), _NONE)
    stations = r.get("stations", _tuple(_str), _NONE)
    sample = r.get("sample_percent", _optional(_number), None)
    seed = r.get("seed", _int, 0)
    return r.finish(lambda: TargetSelection(family, channel, below, lots, stations, sample, seed))


def _waves(value: object, name: str) -> WavePlan:
    r = _Reader(value, name)
    kind = r.need("kind", _literal("fixed", "percent", "exponential"))
    sizes = r.get("sizes", _tuple(_int), _NONE)
    percents = r.get("percents", _tuple(_number), _NONE)
    base = r.get("base", _int, 1)
    factor = r.get("factor", _number, 2.0)
    raise_after = r.get("raise_after", _int, 1)
    max_size = r.get("max_size", _optional(_int), None)
    return r.finish(lambda: WavePlan(kind, sizes, percents, base, factor, raise_after, max_size))


def _criterion(value: object, name: str) -> FailureCriterion:
    r = _Reader(value, name)
    kind = r.need("kind", _optional(_kind))
    percent = r.need("percent", _number)
    min_sample = r.get("min_sample", _int, 1)
    action = r.get("action", _literal("pause", "abort"), "pause")
    return r.finish(
        lambda: FailureCriterion(kind, percent, min_sample, cast(CriterionAction, action))
    )


def _health(value: object, name: str) -> HealthGate:
    r = _Reader(value, name)
    soak = r.need("soak", _seconds)
    margin = r.get("margin_percent", _number, 10.0)
    hours = r.get("min_station_hours", _number, 0.0)
    action = r.get("action", _literal("pause", "abort"), "pause")
    return r.finish(lambda: HealthGate(soak, margin, hours, cast(CriterionAction, action)))


def _window(value: object, name: str) -> MaintenanceWindow:
    r = _Reader(value, name)
    start = r.need("start", _time)
    end = r.need("end", _time)
    weekdays = r.get("weekdays", _tuple(_int), ALL_WEEKDAYS)
    return r.finish(lambda: MaintenanceWindow(start, end, weekdays))


def policy_from_dict(data: object) -> RolloutPolicy:
    """Read a policy from its JSON form; raises :class:`PolicyError` naming the field."""
    r = _Reader(data, "")
    selection = r.need("selection", _selection)
    waves = r.need("waves", _waves)
    default = RolloutPolicy(selection, waves)
    kwargs: dict[str, Any] = {
        "success_percent": r.get("success_percent", _number, default.success_percent),
        "criteria": r.get("criteria", _tuple(_criterion), _NONE),
        "health": r.get("health", _optional(_health), None),
        "station_timeout": r.get("station_timeout", _seconds, default.station_timeout),
        "probe_grace": r.get("probe_grace", _seconds, default.probe_grace),
        "max_wait": r.get("max_wait", _optional(_seconds), None),
        "windows": r.get("windows", _tuple(_window), _NONE),
        "during_transaction": r.get("during_transaction", _literal("wait", "force"), "wait"),
        "retries": r.get("retries", _int, default.retries),
        "retry_interval": r.get("retry_interval", _seconds, default.retry_interval),
        "allow_unsigned": r.get("allow_unsigned", _bool, False),
        "allow_downgrade": r.get("allow_downgrade", _bool, False),
        "download_protocol": r.get("download_protocol", _literal("https", "ftp"), "https"),
    }
    return r.finish(lambda: RolloutPolicy(selection, waves, **kwargs))


def _hhmm(value: time) -> str:
    return value.isoformat(timespec="seconds" if value.second else "minutes")


def policy_to_dict(policy: RolloutPolicy) -> dict[str, Any]:
    """The JSON form of ``policy``; ``policy_from_dict`` reads it back to an equal policy."""
    s, w = policy.selection, policy.waves
    return {
        "selection": {
            "family": s.family,
            "channel": s.channel,
            "below_version": s.below_version,
            "lots": list(s.lots),
            "stations": list(s.stations),
            "sample_percent": s.sample_percent,
            "seed": s.seed,
        },
        "waves": {
            "kind": w.kind,
            "sizes": list(w.sizes),
            "percents": list(w.percents),
            "base": w.base,
            "factor": w.factor,
            "raise_after": w.raise_after,
            "max_size": w.max_size,
        },
        "success_percent": policy.success_percent,
        "criteria": [
            {
                "kind": None if c.kind is None else c.kind.value,
                "percent": c.percent,
                "min_sample": c.min_sample,
                "action": c.action,
            }
            for c in policy.criteria
        ],
        "health": None
        if policy.health is None
        else {
            "soak": policy.health.soak.total_seconds(),
            "margin_percent": policy.health.margin_percent,
            "min_station_hours": policy.health.min_station_hours,
            "action": policy.health.action,
        },
        "station_timeout": policy.station_timeout.total_seconds(),
        "probe_grace": policy.probe_grace.total_seconds(),
        "max_wait": None if policy.max_wait is None else policy.max_wait.total_seconds(),
        "windows": [
            {"start": _hhmm(m.start), "end": _hhmm(m.end), "weekdays": list(m.weekdays)}
            for m in policy.windows
        ],
        "during_transaction": policy.during_transaction,
        "retries": policy.retries,
        "retry_interval": policy.retry_interval.total_seconds(),
        "allow_unsigned": policy.allow_unsigned,
        "allow_downgrade": policy.allow_downgrade,
        "download_protocol": policy.download_protocol,
    }


__all__ = [
    "ALL_WEEKDAYS",
    "CriterionAction",
    "DownloadProtocol",
    "DuringTransaction",
    "FailureCriterion",
    "HealthGate",
    "MaintenanceWindow",
    "RolloutPolicy",
    "TargetSelection",
    "WaveKind",
    "WavePlan",
    "policy_from_dict",
    "policy_to_dict",
]
