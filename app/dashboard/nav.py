"""The dashboard's sections and who sees each in the navigation."""

from __future__ import annotations

from dataclasses import dataclass

from app.dashboard.auth import FACTORY_READ, READ
from app.dashboard.session_store import Viewer


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    href: str
    roles: tuple[str, ...]


SECTIONS: tuple[Section, ...] = (
    Section("Overview", "/", READ),
    Section("Stations", "/stations", READ),
    Section("Sessions", "/sessions", READ),
    Section("Factory", "/factory", FACTORY_READ),
    Section("Certificates", "/certificates", READ),
    Section("Firmware", "/firmware", READ),
    Section("Audit log", "/audit", READ),
    Section("Security events", "/security-events", READ),
)


def sections_for(viewer: Viewer | None) -> list[Section]:
    if viewer is None:
        return []
    return [section for section in SECTIONS if viewer.has(*section.roles)]


def current(path: str) -> str:
    """The href of the section a path belongs to (``/stations/CP1`` belongs to Stations)."""
    best = "/"
    for section in SECTIONS:
        if section.href != "/" and (path == section.href or path.startswith(section.href + "/")):
            best = section.href
    return best
