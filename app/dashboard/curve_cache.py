"""Charging curves of long sessions kept in memory, keyed by everything that changes them.

Grouping 100,000 samples costs the database a scan of them all; an operator looks at the same
session again and again (and a live page re-fetches its curve on every meter value). The key
is the transaction, its sample count, its last sample's time and its meter start: any new or
late sample makes a new key, so a cached curve is never stale; only long sessions (more than
``charging.history.THIN_ABOVE`` samples) are kept, the others are cheaper to compute than to
keep. Each process keeps its own few, per database engine (a process may serve several
platforms: tests do).
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Engine

from charging.curves import SessionCurve
from charging.history import THIN_ABOVE, SampleSpan

Key = tuple[int, int, datetime | None, float | None]


class CurveCache:
    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._curves: OrderedDict[Key, SessionCurve] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self,
        transaction_id: int,
        span: SampleSpan,
        meter_start_wh: float | None,
        make: Callable[[], SessionCurve],
    ) -> SessionCurve:
        if span.readings <= THIN_ABOVE:
            return make()
        key = (transaction_id, span.readings, span.last, meter_start_wh)
        with self._lock:
            found = self._curves.get(key)
            if found is not None:
                self._curves.move_to_end(key)
                return found
        curve = make()
        with self._lock:
            self._curves[key] = curve
            while len(self._curves) > self.size:
                self._curves.popitem(last=False)
        return curve


_CACHES: weakref.WeakKeyDictionary[Engine, CurveCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def curves_of(engine: Engine) -> CurveCache:
    """The cache of the database behind ``engine`` (made on first use, gone with the engine)."""
    with _CACHES_LOCK:
        found = _CACHES.get(engine)
        if found is None:
            found = _CACHES[engine] = CurveCache()
        return found
