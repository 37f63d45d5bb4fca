"""The site meter over Modbus TCP: per-phase grid currents and total power for load management.

A building meter (or the inverter in front of it) answers Modbus TCP, usually on port 502. What
sits where is described by a :class:`RegisterMap`: per value an address, a type (int16,
uint16, int32, uint32, float32), a fixed scale or the address of a SunSpec scale-factor
register (``value * 10 ** sf``), and for the whole map the word order of 32-bit values, the
byte order inside each register, the unit id and whether the values are holding (function 3)
or input registers (function 4). Addresses are the 0-based ones on the wire (the register
SunSpec documents as 40001 is 40000 here).

:func:`sunspec_203` is the preset for a SunSpec three-phase wye meter (model 203, "int+SF").
Offsets are from the model's ID register (the model header is ID at +0 and length L at +1):

=======  ========  ======  =========================================
offset   point     type    meaning
=======  ========  ======  =========================================
+2       A         int16   total AC current (not used)
+3..+5   AphA-C    int16   phase currents, A
+6       A_SF      sunssf  scale factor of the currents
+18      W         int16   total real power, W (sign as the meter reports)
+22      W_SF      sunssf  scale factor of the powers
=======  ========  ======  =========================================

The default model address 40070 is where model 203 starts on a meter whose SunSpec map begins
at 40000 ("SunS" marker at 40000-40001) with the 66-register common model 1 right after
(40002-40069); :func:`find_sunspec_model` walks the model chain for meters that place it
elsewhere. SunSpec's "not implemented" values (int16 0x8000, uint16 0xFFFF, int32 0x80000000,
uint32 0xFFFFFFFF, float32 NaN, sunssf 0x8000) and out-of-range scale factors make a reading
unusable: :class:`MeterValueInvalid`. A meter that does not answer within the timeout, refuses
the connection or answers with a Modbus exception raises :class:`MeterNotAnswering`. Both are
:class:`SiteMeterError`, which :func:`read_budget` turns into the static fallback limit with an
alert (:func:`charging.site_budget.meter_budget`).
"""

from __future__ import annotations

import asyncio
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from charging.load_sharing import SiteLimit
from charging.site_budget import Budget, MeterReading, meter_budget

MAX_REGISTERS_PER_READ = 125  # Modbus Application Protocol 1.1b3, 6.3
SUNSPEC_BASE = 40000
SUNSPEC_MARKER = (0x5375, 0x6E53)  # "SunS"
SUNSPEC_END = 0xFFFF


class SiteMeterError(Exception):
    """Root of the site meter's errors: the reading cannot be used."""


class MeterNotAnswering(SiteMeterError):
    """No connection, no answer within the timeout, or a Modbus exception response."""


class MeterValueInvalid(SiteMeterError):
    """A register holds "not implemented" (0x8000, NaN, ...) or a scale factor out of range."""


class RegisterType(StrEnum):
    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    FLOAT32 = "float32"

    @property
    def size(self) -> int:
        return 1 if self in (RegisterType.INT16, RegisterType.UINT16) else 2


class Order(StrEnum):
    BIG = "big"
    LITTLE = "little"


_NOT_IMPLEMENTED = {
    RegisterType.INT16: -0x8000,
    RegisterType.UINT16: 0xFFFF,
    RegisterType.INT32: -0x80000000,
    RegisterType.UINT32: 0xFFFFFFFF,
}
_FORMATS = {
    RegisterType.INT16: ">h",
    RegisterType.UINT16: ">H",
    RegisterType.INT32: ">i",
    RegisterType.UINT32: ">I",
    RegisterType.FLOAT32: ">f",
}


@dataclass(frozen=True, slots=True)
class Register:
    address: int
    type: RegisterType = RegisterType.INT16
    scale: float = 1.0
    """Multiplied in after the scale factor (e.g. 0.001 for a meter reporting mA)."""
    scale_factor_address: int | None = None
    """A SunSpec ``sunssf`` (int16) register: the value is multiplied by ``10 ** sf``."""


@dataclass(frozen=True, slots=True)
class RegisterMap:
    l1_current: Register
    l2_current: Register
    l3_current: Register
    total_power: Register | None = None
    unit_id: int = 1
    word_order: Order = Order.BIG
    """Which register of a 32-bit value holds the high word (big: the first)."""
    byte_order: Order = Order.BIG
    """Byte order inside each register (Modbus says big; some meters swap)."""
    input_registers: bool = False
    """Read with function 4 (input registers) instead of 3 (holding registers)."""

    def spans(self) -> list[tuple[int, int]]:
        """The (address, count) reads that cover every register of the map."""
        wanted: set[int] = set()
        for register in self.registers():
            wanted.update(range(register.address, register.address + register.type.size))
            if register.scale_factor_address is not None:
                wanted.add(register.scale_factor_address)
        spans: list[tuple[int, int]] = []
        for address in sorted(wanted):
            if spans and address < spans[-1][0] + MAX_REGISTERS_PER_READ:
                start = spans[-1][0]
                spans[-1] = (start, address - start + 1)
            else:
                spans.append((address, 1))
        return spans

    def registers(self) -> list[Register]:
        found = [self.l1_current, self.l2_current, self.l3_current]
        return found + ([self.total_power] if self.total_power else [])


def sunspec_203(model_address: int = SUNSPEC_BASE + 70, *, unit_id: int = 1) -> RegisterMap:
    """The register map of a SunSpec model 203 meter whose ID register is at ``model_address``."""
    amps_sf = model_address + 6

    def phase(offset: int) -> Register:
        return Register(model_address + offset, RegisterType.INT16, scale_factor_address=amps_sf)

    return RegisterMap(
        l1_current=phase(3),
        l2_current=phase(4),
        l3_current=phase(5),
        total_power=Register(
            model_address + 18, RegisterType.INT16, scale_factor_address=model_address + 22
        ),
        unit_id=unit_id,
    )


def decode(
    words: Sequence[int], kind: RegisterType, *, word_order: Order, byte_order: Order
) -> float:
    """One value from its registers; raises :class:`MeterValueInvalid` for "not implemented"."""
    if len(words) != kind.size:
        raise MeterValueInvalid(f"{kind} needs {kind.size} registers, got {len(words)}")
    ordered = list(words) if word_order is Order.BIG else list(reversed(words))
    raw = b"".join(
        word.to_bytes(2, "big" if byte_order is Order.BIG else "little") for word in ordered
    )
    (value,) = struct.unpack(_FORMATS[kind], raw)
    if kind is RegisterType.FLOAT32:
        if not math.isfinite(value):
            raise MeterValueInvalid(f"float32 register holds {value}")
        return float(value)
    if value == _NOT_IMPLEMENTED[kind]:
        raise MeterValueInvalid(f"{kind} register holds the 'not implemented' value")
    return float(value)


def value_of(register: Register, registers: dict[int, int], meter: RegisterMap) -> float:
    """The scaled value of ``register`` from the words read (address -> word)."""
    words = [registers[a] for a in range(register.address, register.address + register.type.size)]
    value = decode(words, register.type, word_order=meter.word_order, byte_order=meter.byte_order)
    if register.scale_factor_address is not None:
        factor = decode(
            [registers[register.scale_factor_address]],
            RegisterType.INT16,
            word_order=meter.word_order,
            byte_order=meter.byte_order,
        )
        if not -10 <= factor <= 10:  # SunSpec: sunssf is in -10..10
            raise MeterValueInvalid(f"scale factor {factor} at {register.scale_factor_address}")
        value *= 10.0**factor
    return value * register.scale


class SiteMeter:
    """A Modbus TCP client for one meter; keeps its connection between reads."""

    def __init__(
        self, host: str, register_map: RegisterMap, *, port: int = 502, timeout: float = 2.0
    ) -> None:
        self.host, self.port, self.map, self.timeout = host, port, register_map, timeout
        self._client = AsyncModbusTcpClient(
            host, port=port, timeout=timeout, retries=0, reconnect_delay=0
        )

    async def read(self, *, now: datetime) -> MeterReading:
        """Per-phase currents (A) and total power (W, if mapped) taken at ``now``.

        Raises:
            MeterNotAnswering: no connection or answer within the timeout.
            MeterValueInvalid: a register holds a "not implemented" or unusable value.
        """
        try:
            words = await asyncio.wait_for(self._read_words(), timeout=self.timeout * 2 + 1)
        except (ModbusException, OSError, TimeoutError) as error:
            self._client.close()
            raise MeterNotAnswering(
                f"site meter {self.host}:{self.port} does not answer: {error}"
            ) from error
        meter = self.map
        power = value_of(meter.total_power, words, meter) if meter.total_power else None
        return MeterReading(
            now,
            l1=value_of(meter.l1_current, words, meter),
            l2=value_of(meter.l2_current, words, meter),
            l3=value_of(meter.l3_current, words, meter),
            total_power_w=power,
        )

    async def _read_words(self) -> dict[int, int]:
        words: dict[int, int] = {}
        for address, count in self.map.spans():
            block = await self.read_block(address, count)
            words.update(zip(range(address, address + count), block, strict=True))
        return words

    async def read_block(self, address: int, count: int) -> list[int]:
        """``count`` raw registers from ``address`` (connecting first if need be)."""
        if not self._client.connected and not await self._client.connect():
            raise MeterNotAnswering(f"cannot connect to the site meter {self.host}:{self.port}")
        read = (
            self._client.read_input_registers
            if self.map.input_registers
            else self._client.read_holding_registers
        )
        response = await read(address, count=count, device_id=self.map.unit_id)
        if response.isError():
            raise MeterNotAnswering(
                f"site meter {self.host}:{self.port} refused registers {address}+{count}: "
                f"{response}"
            )
        return list(response.registers)

    def close(self) -> None:
        self._client.close()


async def find_sunspec_model(meter: SiteMeter, model_id: int = 203) -> int:
    """The address of ``model_id``'s ID register, walking the SunSpec chain from 40000.

    Raises:
        MeterValueInvalid: no "SunS" marker or no such model on the meter.
        MeterNotAnswering: as :meth:`SiteMeter.read`.
    """
    try:
        if tuple(await meter.read_block(SUNSPEC_BASE, 2)) != SUNSPEC_MARKER:
            raise MeterValueInvalid("no SunSpec marker at 40000")
        address = SUNSPEC_BASE + 2
        for _ in range(64):
            found, length = await meter.read_block(address, 2)
            if found == SUNSPEC_END:
                break
            if found == model_id:
                return address
            address += 2 + length
    except (ModbusException, OSError, TimeoutError) as error:
        raise MeterNotAnswering(f"site meter {meter.host} does not answer: {error}") from error
    raise MeterValueInvalid(f"SunSpec model {model_id} is not on the meter")


async def read_budget(
    meter: SiteMeter,
    *,
    fuse: SiteLimit,
    our_draw: SiteLimit,
    now: datetime,
    fallback: SiteLimit,
    max_age: timedelta = timedelta(seconds=30),
    circuit: SiteLimit | None = None,
) -> Budget:
    """Read the meter and compute the charging budget; a meter error gives the fallback."""
    try:
        reading: MeterReading | None = await meter.read(now=now)
    except SiteMeterError as error:
        budget = meter_budget(
            fuse=fuse,
            reading=None,
            our_draw=our_draw,
            now=now,
            max_age=max_age,
            fallback=fallback,
            circuit=circuit,
        )
        return Budget(budget.limit, True, f"{error}: static fallback limit")
    return meter_budget(
        fuse=fuse,
        reading=reading,
        our_draw=our_draw,
        now=now,
        max_age=max_age,
        fallback=fallback,
        circuit=circuit,
    )
