"""A simulated three-phase outlet and the car behind it: the numbers a station's meter reports.

Pure and deterministic for a given seed: the charger delivers ``max_current_a`` per phase at
``voltage_v`` (with a little noise) until the car's state of charge passes 80 %, then tapers
linearly to a trickle at 100 %. ``advance(seconds, limit)`` moves simulated time forward drawing
min(what the car wants, ``limit``): the station's composite charging limit at that instant; a
limit under the 6 A an EV needs (IEC 61851-1) pauses charging. The energy register
(Energy.Active.Import.Register, OCPP 1.6 7.31 / 2.0.1 MeasurandEnumType) only rises.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from simulator.profiles import Limit

PHASES = ("L1", "L2", "L3")
MIN_CURRENT_A = 6.0


@dataclass(frozen=True, slots=True)
class Reading:
    """One instant of the meter: what a MeterValues sample carries."""

    energy_wh: float
    power_w: float
    current_a: tuple[float, float, float]
    voltage_v: tuple[float, float, float]
    soc_percent: int


class Meter:
    """The register of one EVSE and the car currently plugged in (if any)."""

    def __init__(
        self,
        seed: str,
        *,
        register_wh: float | None = None,
        max_current_a: float = 16.0,
        voltage_v: float = 230.0,
    ) -> None:
        self._random = random.Random(seed)
        self.register_wh = (
            register_wh if register_wh is not None else self._random.uniform(1e5, 5e6)
        )
        self.max_current_a = max_current_a
        self.voltage_v = voltage_v
        self.battery_wh = 60_000.0
        self.soc = 50.0
        self._current = 0.0

    def plug_in(self) -> None:
        """A new car arrives: battery 40-100 kWh, 10-60 % charged."""
        self.battery_wh = self._random.choice((40_000.0, 58_000.0, 77_000.0, 100_000.0))
        self.soc = self._random.uniform(10.0, 60.0)
        self._current = 0.0

    def _target_current(self) -> float:
        if self.soc >= 100.0:
            return 0.0
        if self.soc <= 80.0:
            return self.max_current_a
        return max(1.0, self.max_current_a * (100.0 - self.soc) / 20.0)

    def advance(self, seconds: float, limit: Limit | None = None) -> Reading:
        """Charge for ``seconds`` of simulated time, never over ``limit``, and read the meter."""
        wanted, phases = self._target_current(), len(PHASES)
        if limit is not None:
            phases = limit.phases  # a one-phase limit: the car charges on L1 only
            allowed = limit.watts / (self.voltage_v * phases)
            wanted = min(wanted, allowed) if allowed >= MIN_CURRENT_A else 0.0
        self._current = wanted * self._random.uniform(0.97, 1.0)
        voltages = tuple(self.voltage_v * self._random.uniform(0.98, 1.02) for _ in PHASES)
        currents = tuple(
            self._current * self._random.uniform(0.99, 1.01) if n < phases else 0.0
            for n in range(len(PHASES))
        )
        power = sum(v * i for v, i in zip(voltages, currents, strict=True))
        if limit is not None and power > limit.watts:  # the noise stays under the limit too
            currents = tuple(i * 0.995 * limit.watts / power for i in currents)
            power = sum(v * i for v, i in zip(voltages, currents, strict=True))
        delivered = power * seconds / 3600.0
        self.register_wh += delivered
        self.soc = min(100.0, self.soc + 100.0 * delivered / self.battery_wh)
        return Reading(
            energy_wh=round(self.register_wh, 1),
            power_w=round(power, 1),
            current_a=(round(currents[0], 2), round(currents[1], 2), round(currents[2], 2)),
            voltage_v=(round(voltages[0], 1), round(voltages[1], 1), round(voltages[2], 1)),
            soc_percent=int(self.soc),
        )

    def read(self, limit: Limit | None = None) -> Reading:
        """The meter without time passing (a begin or end sample)."""
        return self.advance(0.0, limit)
