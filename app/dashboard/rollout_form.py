"""The new-rollout form: its fields read leniently into the rollout service's policy JSON, and
the service's refusals (which name a policy path) turned back into the form field at fault."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

FIELDS = (
    "name", "image_id", "family", "channel", "stations", "wave_sizes",
    "failure_percent", "failure_action", "min_sample", "window_start", "window_end",
)  # fmt: skip
CHECKBOXES = ("allow_downgrade", "start")
MAX_FIELD = 200
MAX_STATIONS_TEXT = 50_000
MAX_STATIONS = 1000
STATION_ID = re.compile(r"^[A-Za-z0-9._:*-]{1,48}$")
HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
DEFAULTS = {"wave_sizes": "1, 10, 100", "failure_action": "pause", "min_sample": "1"}


@dataclass
class RolloutForm:
    """The submitted values (as text, to show them again) and the errors per field."""

    values: dict[str, str]
    checks: dict[str, bool]
    errors: dict[str, str] = field(default_factory=dict)
    policy: dict[str, Any] = field(default_factory=dict)
    image_id: int = 0

    @classmethod
    def blank(cls, image_id: str = "") -> RolloutForm:
        values = {name: DEFAULTS.get(name, "") for name in FIELDS}
        values["image_id"] = image_id
        return cls(values, {name: name == "start" for name in CHECKBOXES})


def read_form(form: Mapping[str, Any], image_families: Mapping[int, str]) -> RolloutForm:
    """Parse the posted form; ``image_families`` maps the offered image ids to their family.

    Values too long are cut for showing and refused; the policy is built only when no field
    is in error."""
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name in FIELDS:
        raw = form.get(name, "")
        text = raw.strip() if isinstance(raw, str) else ""
        limit = MAX_STATIONS_TEXT if name == "stations" else MAX_FIELD
        if len(text) > limit:
            errors[name] = f"at most {limit} characters"
            text = text[:limit]
        values[name] = text or ("pause" if name == "failure_action" else "")
    checks = {name: form.get(name) in ("on", "true", "1") for name in CHECKBOXES}
    result = RolloutForm(values, checks, errors)
    _check(result, image_families)
    if not result.errors:
        result.policy = _policy(result, image_families)
    return result


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) <= 9 else None


def _check(form: RolloutForm, image_families: Mapping[int, str]) -> None:
    v, errors = form.values, form.errors
    if not v["name"]:
        errors.setdefault("name", "give the rollout a name")
    elif len(v["name"]) > 120:
        errors.setdefault("name", "at most 120 characters")
    image_id = _int(v["image_id"])
    if image_id is None or image_id not in image_families:
        errors.setdefault("image_id", "choose one of the images")
    else:
        form.image_id = image_id
    sizes = [part.strip() for part in v["wave_sizes"].split(",") if part.strip()]
    if not sizes:
        errors.setdefault("wave_sizes", "one or more wave sizes, such as 1, 10, 100")
    elif any(_int(size) is None or _int(size) == 0 for size in sizes) or len(sizes) > 100:
        errors.setdefault("wave_sizes", "whole numbers of at least 1, separated by commas")
    stations = _stations(v["stations"])
    if len(stations) > MAX_STATIONS:
        errors.setdefault("stations", f"at most {MAX_STATIONS} station ids")
    elif any(not STATION_ID.match(s) for s in stations):
        errors.setdefault("stations", "station ids are 1 to 48 letters, digits or ._:*-")
    if v["failure_percent"]:
        try:
            percent = float(v["failure_percent"])
        except ValueError:
            percent = -1.0
        if not 0 <= percent <= 100:
            errors.setdefault("failure_percent", "a percentage from 0 to 100")
    if v["failure_action"] not in ("pause", "abort"):
        errors.setdefault("failure_action", "pause or abort")
    if _int(v["min_sample"] or "1") in (None, 0):
        errors.setdefault("min_sample", "a whole number of at least 1")
    for name in ("window_start", "window_end"):
        if v[name] and not HHMM.match(v[name]):
            errors.setdefault(name, "a time of day as HH:MM")
    if bool(v["window_start"]) != bool(v["window_end"]):
        errors.setdefault("window_end", "give both the start and the end of the window")


def _stations(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", text) if part]


def _policy(form: RolloutForm, image_families: Mapping[int, str]) -> dict[str, Any]:
    v = form.values
    selection: dict[str, Any] = {"family": v["family"] or image_families[form.image_id]}
    if v["channel"]:
        selection["channel"] = v["channel"]
    if v["stations"]:
        selection["stations"] = _stations(v["stations"])
    sizes = [int(part) for part in v["wave_sizes"].split(",") if part.strip()]
    policy: dict[str, Any] = {"selection": selection, "waves": {"kind": "fixed", "sizes": sizes}}
    if v["failure_percent"]:
        policy["criteria"] = [
            {
                "kind": None,
                "percent": float(v["failure_percent"]),
                "min_sample": int(v["min_sample"] or "1"),
                "action": v["failure_action"],
            }
        ]
    if v["window_start"]:
        policy["windows"] = [{"start": v["window_start"], "end": v["window_end"]}]
    if form.checks["allow_downgrade"]:
        policy["allow_downgrade"] = True
    return policy


_FIELD_OF = (
    ("policy.selection.family", "family"),
    ("policy.selection.channel", "channel"),
    ("policy.selection.stations", "stations"),
    ("policy.waves", "wave_sizes"),
    ("policy.criteria", "failure_percent"),
    ("policy.windows[0].start", "window_start"),
    ("policy.windows[0].end", "window_end"),
    ("policy.windows", "window_start"),
    ("policy.allow_downgrade", "allow_downgrade"),
    ("policy.allow_unsigned", "image_id"),
    ("image_id", "image_id"),
    ("name", "name"),
)


def field_of(path: str) -> str:
    """The form field a refusal's path (``policy.waves.sizes[0]``) belongs to; ``""`` if none."""
    for prefix, name in _FIELD_OF:
        if path == prefix or path.startswith((prefix + ".", prefix + "[")):
            return name
    return ""
