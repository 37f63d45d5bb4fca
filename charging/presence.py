"""When each station was last heard from, kept in memory and written in batches.

A heartbeat must not cost a database write: tens of thousands of stations beat every few
minutes. ``Presence.touch`` records the time; ``take`` hands over what changed since the last
flush (the caller writes it in one executemany).
"""

from __future__ import annotations

import threading
from datetime import datetime


class Presence:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._dirty: dict[str, datetime] = {}

    def touch(self, station_id: str, now: datetime) -> None:
        with self._lock:
            previous = self._dirty.get(station_id)
            if previous is None or previous < now:
                self._dirty[station_id] = now

    def take(self) -> dict[str, datetime]:
        with self._lock:
            dirty, self._dirty = self._dirty, {}
        return dirty

    def restore(self, dirty: dict[str, datetime]) -> None:
        """Put back what a failed flush took, keeping newer times."""
        for station_id, at in dirty.items():
            self.touch(station_id, at)
