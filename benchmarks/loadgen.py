"""A cheap OCPP-J load generator: many WebSocket connections in one asyncio process.

It speaks just enough RFC 6455 to be cheap per message: the handshake is one pre-built request,
client frames are pre-encoded with an all-zero masking key (a valid mask that leaves the payload
as it is, RFC 6455 5.3), and replies are only framed, never parsed as JSON, except during setup.
Each connection keeps one CALL outstanding (as a station must, OCPP-J 4.1.1), so N active
connections are a closed loop of N.

Driven over stdin/stdout by ``benchmarks/ocpp_load.py``, one JSON object per line:

    python benchmarks/loadgen.py --url ws://127.0.0.1:9000/ocpp/ --first 1 --count 5000 \\
        --prefix BENCH- --password PASSWORD --subprotocol ocpp1.6
    <- {"event": "connected", "connected": 5000, "failed": 0, "seconds": 3.1}
    -> {"cmd": "heartbeat", "seconds": 10, "active": 200}
    <- {"event": "result", "count": ..., "seconds": ..., "p50_ms": ..., "p99_ms": ...}
    -> {"cmd": "quit"}
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import resource
import struct
import sys
import time
from typing import Any
from urllib.parse import urlsplit

BOOT = '[2,"b","BootNotification",{"chargePointVendor":"Bench","chargePointModel":"L1"}]'
HEARTBEAT = '[2,"h","Heartbeat",{}]'
START = (
    '[2,"s","StartTransaction",{"connectorId":1,"idTag":"%s","meterStart":0,'
    '"timestamp":"2026-01-01T00:00:00Z"}]'
)
METER = (
    '[2,"m%d","MeterValues",{"connectorId":1,"transactionId":%d,"meterValue":[{"timestamp":'
    '"%s","sampledValue":[{"value":"%d","measurand":"Energy.Active.Import.Register",'
    '"unit":"Wh"},{"value":"7400","measurand":"Power.Active.Import","unit":"W"}]}]}]'
)


def raise_file_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def client_frame(text: str) -> bytes:
    """A masked text frame with the masking key 0 (RFC 6455 5.2)."""
    payload = text.encode()
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x81, 0x80 | n)
    elif n < 65536:
        header = struct.pack("!BBH", 0x81, 0x80 | 126, n)
    else:
        header = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
    return header + b"\x00\x00\x00\x00" + payload


def iso(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1_767_225_600 + seconds))


class Station(asyncio.Protocol):
    """One connection: handshake, then a frame counter with an optional closed loop."""

    def __init__(self, request: bytes, done: asyncio.Future[bool]) -> None:
        self.request = request
        self.handshake = done
        self.buffer = bytearray()
        self.upgraded = False
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[bytes] | None = None
        self.loop_frame: Any = None  # callable giving the next frame, or None when idle
        self.sent_at = 0.0
        self.latencies: list[float] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, _exc: Exception | None) -> None:
        self.closed = True
        if not self.handshake.done():
            self.handshake.set_result(False)
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("closed"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            ok = self.buffer.startswith(b"HTTP/1.1 101")
            del self.buffer[: end + 4]
            self.upgraded = ok
            self.handshake.set_result(ok)
            if not ok:
                assert self.transport is not None
                self.transport.close()
                return
        self._frames()

    def _frames(self) -> None:
        buf = self.buffer
        while len(buf) >= 2:
            opcode, n = buf[0] & 0x0F, buf[1] & 0x7F
            start = 2
            if n == 126:
                if len(buf) < 4:
                    return
                n, start = struct.unpack_from("!H", buf, 2)[0], 4
            elif n == 127:
                if len(buf) < 10:
                    return
                n, start = struct.unpack_from("!Q", buf, 2)[0], 10
            if len(buf) < start + n:
                return
            payload = bytes(buf[start : start + n])
            del buf[: start + n]
            if opcode == 0x9:  # ping -> pong
                assert self.transport is not None
                self.transport.write(
                    struct.pack("!BB", 0x8A, 0x80 | len(payload)) + b"\x00" * 4 + payload
                )
            elif opcode == 0x1:
                self._reply(payload)

    def _reply(self, payload: bytes) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(payload)
            return
        if self.loop_frame is None:
            return
        now = time.perf_counter()
        if self.latencies is not None:
            self.latencies.append(now - self.sent_at)
        self.send(self.loop_frame())

    def send(self, frame: bytes) -> None:
        self.sent_at = time.perf_counter()
        assert self.transport is not None
        self.transport.write(frame)

    async def call(self, text: str) -> Any:
        self.waiter = asyncio.get_running_loop().create_future()
        self.send(client_frame(text))
        try:
            return json.loads(await asyncio.wait_for(self.waiter, 30))
        finally:
            self.waiter = None


def handshake_request(
    host: str, path: str, subprotocol: str, password: str | None, station_id: str
) -> bytes:
    lines = [
        f"GET {path}{station_id} HTTP/1.1",
        f"Host: {host}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
        f"Sec-WebSocket-Protocol: {subprotocol}",
    ]
    if password is not None:
        token = base64.b64encode(f"{station_id}:{password}".encode()).decode()
        lines.append(f"Authorization: Basic {token}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class Fleet:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        url = urlsplit(args.url)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.path = url.path if url.path.endswith("/") else url.path + "/"
        self.stations: list[Station] = []
        self.failed = 0

    async def connect_all(self) -> None:
        loop = asyncio.get_running_loop()
        gate = asyncio.Semaphore(self.args.parallel)

        async def one(n: int) -> None:
            station_id = f"{self.args.prefix}{n:05d}"
            request = handshake_request(
                f"{self.host}:{self.port}",
                self.path,
                self.args.subprotocol,
                self.args.password,
                station_id,
            )
            async with gate:
                done: asyncio.Future[bool] = loop.create_future()
                station = Station(request, done)
                try:
                    await loop.create_connection(lambda: station, self.host, self.port)
                    ok = await asyncio.wait_for(done, 60)
                except (OSError, TimeoutError):
                    ok = False
                if not ok:
                    self.failed += 1
                    return
                if self.args.boot:
                    await station.call(BOOT)
                self.stations.append(station)

        first = self.args.first
        await asyncio.gather(*(one(n) for n in range(first, first + self.args.count)))

    async def run(self, kind: str, seconds: float, active: int) -> dict[str, Any]:
        stations = [s for s in self.stations if not s.closed][:active]
        latencies: list[float] = []
        if kind == "meter":
            await self._start_transactions(stations)
        for index, station in enumerate(stations):
            station.latencies = latencies
            station.loop_frame = self._frame_source(kind, index, station)
            station.send(station.loop_frame())
        start = time.perf_counter()
        await asyncio.sleep(seconds)
        elapsed = time.perf_counter() - start
        count = len(latencies)
        for station in stations:
            station.loop_frame = None
        await asyncio.sleep(0.5)  # let the last answers arrive
        latencies.sort()
        return {
            "event": "result",
            "kind": kind,
            "count": count,
            "seconds": elapsed,
            "rate": count / elapsed,
            "active": len(stations),
            "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else None,
            "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)] if latencies else None,
            "load_cpu_s": time.process_time(),
        }

    async def _start_transactions(self, stations: list[Station]) -> None:
        for station in stations:
            if not hasattr(station, "transaction_id"):
                reply = await station.call(START % self.args.id_tag)
                station.transaction_id = reply[2]["transactionId"]  # type: ignore[attr-defined]

    def _frame_source(self, kind: str, index: int, station: Station) -> Any:
        if kind == "heartbeat":
            frame = client_frame(HEARTBEAT)
            return lambda: frame
        counter = iter(range(1, 1 << 40))
        tx = station.transaction_id  # type: ignore[attr-defined]
        base = 100_000 * index

        def meter() -> bytes:
            n = next(counter)
            return client_frame(METER % (n, tx, iso(base + n), 1000 + 10 * n))

        return meter


async def serve_commands(fleet: Fleet) -> None:
    start = time.perf_counter()
    await fleet.connect_all()
    emit(
        {
            "event": "connected",
            "connected": len(fleet.stations),
            "failed": fleet.failed,
            "seconds": time.perf_counter() - start,
        }
    )
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        command = json.loads(line)
        if command["cmd"] == "quit":
            break
        emit(await fleet.run(command["cmd"], command["seconds"], command["active"]))
    for station in fleet.stations:
        if station.transport is not None:
            station.transport.close()


def emit(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="ws://host:port/path/ (the id is appended)")
    parser.add_argument("--first", type=int, default=1)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--prefix", default="BENCH-")
    parser.add_argument("--password")
    parser.add_argument("--subprotocol", default="ocpp1.6")
    parser.add_argument("--boot", action="store_true", help="send a BootNotification first")
    parser.add_argument("--id-tag", default="BENCH-TAG")
    parser.add_argument("--parallel", type=int, default=100, help="handshakes at once")
    args = parser.parse_args()
    raise_file_limit()
    asyncio.run(serve_commands(Fleet(args)))


if __name__ == "__main__":
    main()
