"""The Modbus TCP site meter against a real pymodbus server on loopback."""

from __future__ import annotations

import asyncio
import math
import socket
import struct
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from app.site_meter import (
    MeterNotAnswering,
    MeterValueInvalid,
    Order,
    Register,
    RegisterMap,
    RegisterType,
    SiteMeter,
    decode,
    find_sunspec_model,
    read_budget,
    sunspec_203,
)
from charging.load_sharing import SiteLimit

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FUSE = SiteLimit.per_phase(63)
FALLBACK = SiteLimit.per_phase(16)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def meter_server(words: Sequence[int], base: int = 40000) -> AsyncIterator[ModbusTcpServer]:
    port = free_port()
    device = SimDevice(
        id=1, simdata=[SimData(address=base, values=list(words), datatype=DataType.REGISTERS)]
    )
    server = ModbusTcpServer(device, address=("127.0.0.1", port))
    server.port = port  # type: ignore[attr-defined]
    await server.serve_forever(background=True)
    try:
        yield server
    finally:
        await server.shutdown()


def s16(value: int) -> int:
    return value & 0xFFFF


def sunspec_image(
    amps: tuple[int, int, int] = (123, 456, 78), amps_sf: int = -1, watts: int = 1234, w_sf: int = 1
) -> list[int]:
    """40000: "SunS", common model 1 (66 registers), model 203 at 40070, end marker."""
    common = [1, 66] + [0] * 66
    model = [0] * 107
    model[0], model[1] = 203, 105
    model[2] = s16(sum(amps))
    model[3], model[4], model[5] = (s16(a) for a in amps)
    model[6] = s16(amps_sf)
    model[18], model[22] = s16(watts), s16(w_sf)
    return [0x5375, 0x6E53, *common, *model, 0xFFFF, 0]


async def test_a_sunspec_203_meter_reads_per_phase_currents_and_power_with_scale_factors() -> None:
    async with meter_server(sunspec_image()) as server:
        meter = SiteMeter("127.0.0.1", sunspec_203(), port=server.port, timeout=1)
        try:
            assert await find_sunspec_model(meter) == 40070
            reading = await meter.read(now=T0)
        finally:
            meter.close()
    assert (reading.l1, reading.l2, reading.l3) == pytest.approx((12.3, 45.6, 7.8))
    assert reading.total_power_w == pytest.approx(12340.0)
    assert reading.taken_at == T0


async def test_the_budget_from_a_live_meter_takes_the_building_load_off_the_fuse() -> None:
    async with meter_server(sunspec_image(amps=(400, 300, 200))) as server:
        meter = SiteMeter("127.0.0.1", sunspec_203(), port=server.port, timeout=1)
        try:
            budget = await read_budget(
                meter, fuse=FUSE, our_draw=SiteLimit.per_phase(16), now=T0, fallback=FALLBACK
            )
        finally:
            meter.close()
    assert budget.alert is False
    assert (budget.limit.l1, budget.limit.l2, budget.limit.l3) == pytest.approx((39, 49, 59))


def words_of(value: float, kind: str, word_order: Order, byte_order: Order) -> list[int]:
    raw = struct.pack({"int32": ">i", "uint32": ">I", "float32": ">f"}[kind], value)
    words = [
        int.from_bytes(raw[i : i + 2], "big" if byte_order is Order.BIG else "little")
        for i in (0, 2)
    ]
    return words if word_order is Order.BIG else words[::-1]


@pytest.mark.parametrize("word_order", list(Order))
@pytest.mark.parametrize("byte_order", list(Order))
async def test_32_bit_registers_read_right_in_every_word_and_byte_order(
    word_order: Order, byte_order: Order
) -> None:
    image = (
        words_of(-21500, "int32", word_order, byte_order)  # mA at 100
        + words_of(18250, "uint32", word_order, byte_order)  # mA at 102
        + words_of(9.75, "float32", word_order, byte_order)  # A at 104
        + words_of(-3200.5, "float32", word_order, byte_order)  # W at 106
    )
    register_map = RegisterMap(
        l1_current=Register(100, RegisterType.INT32, scale=0.001),
        l2_current=Register(102, RegisterType.UINT32, scale=0.001),
        l3_current=Register(104, RegisterType.FLOAT32),
        total_power=Register(106, RegisterType.FLOAT32),
        word_order=word_order,
        byte_order=byte_order,
    )
    async with meter_server(image, base=100) as server:
        meter = SiteMeter("127.0.0.1", register_map, port=server.port, timeout=1)
        try:
            reading = await meter.read(now=T0)
        finally:
            meter.close()
    assert (reading.l1, reading.l2, reading.l3) == pytest.approx((-21.5, 18.25, 9.75))
    assert reading.total_power_w == pytest.approx(-3200.5)


async def test_a_meter_that_stops_answering_mid_run_gives_the_fallback_and_an_alert() -> None:
    async with meter_server(sunspec_image()) as server:
        meter = SiteMeter("127.0.0.1", sunspec_203(), port=server.port, timeout=0.5)
        first = await read_budget(
            meter, fuse=FUSE, our_draw=SiteLimit.per_phase(0), now=T0, fallback=FALLBACK
        )
        assert first.alert is False
    try:
        with pytest.raises(MeterNotAnswering, match="does not answer"):
            await meter.read(now=T0 + timedelta(seconds=10))
        later = await read_budget(
            meter,
            fuse=FUSE,
            our_draw=SiteLimit.per_phase(0),
            now=T0 + timedelta(seconds=20),
            fallback=FALLBACK,
        )
    finally:
        meter.close()
    assert later.alert is True and later.limit == FALLBACK
    assert "static fallback" in later.reason


async def test_no_meter_at_the_address_is_a_clear_error() -> None:
    meter = SiteMeter("127.0.0.1", sunspec_203(), port=free_port(), timeout=0.5)
    try:
        with pytest.raises(MeterNotAnswering):
            await meter.read(now=T0)
    finally:
        meter.close()


async def test_registers_the_meter_does_not_have_are_a_clear_error() -> None:
    async with meter_server(sunspec_image()) as server:
        meter = SiteMeter("127.0.0.1", sunspec_203(50000), port=server.port, timeout=1)
        try:
            with pytest.raises(MeterNotAnswering, match="refused registers"):
                await meter.read(now=T0)
        finally:
            meter.close()


@pytest.mark.parametrize(
    "image",
    [
        sunspec_image(amps=(-0x8000, 10, 10)),
        sunspec_image(amps_sf=-0x8000),
        sunspec_image(amps_sf=42),
    ],
    ids=["current-not-implemented", "scale-factor-not-implemented", "scale-factor-out-of-range"],
)
async def test_garbage_registers_make_the_reading_unusable_and_the_budget_falls_back(
    image: list[int],
) -> None:
    async with meter_server(image) as server:
        meter = SiteMeter("127.0.0.1", sunspec_203(), port=server.port, timeout=1)
        try:
            with pytest.raises(MeterValueInvalid):
                await meter.read(now=T0)
            budget = await read_budget(
                meter, fuse=FUSE, our_draw=SiteLimit.per_phase(0), now=T0, fallback=FALLBACK
            )
        finally:
            meter.close()
    assert budget.alert is True and budget.limit == FALLBACK


async def test_a_nan_float_register_is_not_a_reading() -> None:
    nan = words_of(math.nan, "float32", Order.BIG, Order.BIG)
    register_map = RegisterMap(*(Register(a, RegisterType.FLOAT32) for a in (0, 2, 4)))
    async with meter_server([*nan, *nan, *nan], base=0) as server:
        meter = SiteMeter("127.0.0.1", register_map, port=server.port, timeout=1)
        try:
            with pytest.raises(MeterValueInvalid, match="nan"):
                await meter.read(now=T0)
        finally:
            meter.close()


@pytest.mark.parametrize(
    ("words", "kind"),
    [
        ([0xFFFF], RegisterType.UINT16),
        ([0x8000, 0x0000], RegisterType.INT32),
        ([0xFFFF, 0xFFFF], RegisterType.UINT32),
        ([0x7F80, 0x0000], RegisterType.FLOAT32),  # +inf
    ],
)
def test_not_implemented_values_of_every_type_are_refused(
    words: list[int], kind: RegisterType
) -> None:
    with pytest.raises(MeterValueInvalid):
        decode(words, kind, word_order=Order.BIG, byte_order=Order.BIG)


def test_far_apart_registers_are_read_in_separate_requests() -> None:
    register_map = RegisterMap(
        Register(0), Register(1, scale_factor_address=2), Register(300, RegisterType.INT32)
    )
    assert register_map.spans() == [(0, 3), (300, 2)]
    assert sunspec_203().spans() == [(40073, 20)]


async def test_a_meter_that_accepts_but_never_answers_times_out() -> None:
    release = asyncio.Event()
    handlers: list[asyncio.Task[None] | None] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.append(asyncio.current_task())  # type: ignore[arg-type]
        await reader.read(1024)
        await release.wait()  # holds the request without answering
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    meter = SiteMeter("127.0.0.1", sunspec_203(), port=port, timeout=0.3)
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        with pytest.raises(MeterNotAnswering):
            await meter.read(now=T0)
    finally:
        meter.close()
        release.set()
        server.close()
        await server.wait_closed()
        await asyncio.gather(*(task for task in handlers if task))
    assert loop.time() - started < 3
