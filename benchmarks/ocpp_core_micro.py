"""Heartbeat round trips per second through the pure OCPP core, on one core.

Runs ``StationProtocol.receive`` + ``reply`` (frame parsing, full JSON-schema validation of the
request and the reply, translation, encoding) against ``json.loads`` + ``json.dumps`` of the same
frame, and prints both rates and their ratio.

    python benchmarks/ocpp_core_micro.py [--version 1.6|2.0.1|2.1] [--count 200000]
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime

from charging.outcomes import ClockDecision
from ocpp_edge.protocol import IncomingCall, StationProtocol

FRAME = '[2,"19223201","Heartbeat",{}]'


def core_rate(version: str, count: int) -> float:
    protocol = StationProtocol(version, "CP-BENCH")
    decision = ClockDecision(datetime.now(UTC))
    receive, reply = protocol.receive, protocol.reply
    start = time.perf_counter()
    for _ in range(count):
        received = receive(FRAME, 0.0)
        assert isinstance(received, IncomingCall)
        reply(received.message_id, received.event, decision)
    return count / (time.perf_counter() - start)


def json_rate(count: int) -> float:
    now = datetime.now(UTC)
    loads, dumps = json.loads, json.dumps
    start = time.perf_counter()
    for _ in range(count):
        message = loads(FRAME)
        dumps([3, message[1], {"currentTime": now.isoformat()}])
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default="1.6", choices=["1.6", "2.0.1", "2.1"])
    parser.add_argument("--count", type=int, default=200_000)
    args = parser.parse_args()
    core_rate(args.version, 1_000)  # compile the validators before timing
    core = core_rate(args.version, args.count)
    bare = json_rate(args.count)
    print(f"OCPP {args.version} core receive+reply: {core:,.0f} Heartbeats/s")
    print(f"json.loads+json.dumps:           {bare:,.0f} frames/s")
    print(f"ratio core/json:                 {core / bare:.2f}")


if __name__ == "__main__":
    main()
