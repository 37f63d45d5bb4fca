"""Which edge node holds which station, and what happens when a node dies.

Each edge gets a node id at start. ``stations.edge_node`` records the node holding a station's
live connection; a disconnect only marks the station offline if that node still holds it
(``ChargingCore.mark_offline``). A station is ``online`` exactly while some live edge holds it:

- without Redis there is one edge: at start it clears every station it might have held before
  a crash;
- with Redis, each node keeps ``chargeline:edge-alive:<node>`` alive (TTL ``NODE_TTL_S``,
  refreshed while it runs) and every edge sweeps the stations of nodes whose key expired, at
  start and every few seconds; a station connecting on another node is closed on the old one
  (``app.command_bus.EdgeRelay``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from redis.asyncio import Redis

from charging.service import ChargingCore

log = logging.getLogger(__name__)

NODE_TTL_S = 10.0


def alive_key(node_id: str) -> str:
    return f"chargeline:edge-alive:{node_id}"


class NodePresence:
    """Keeps this node's liveness and clears the stations of nodes that are gone."""

    def __init__(
        self, core: ChargingCore, node_id: str, redis: Redis | None, *, ttl: float = NODE_TTL_S
    ) -> None:
        self.core = core
        self.node_id = node_id
        self.redis = redis
        self.ttl = ttl
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    async def start(self) -> None:
        if self.redis is None:
            cleared = await asyncio.to_thread(self.core.clear_presence)
            log.info("start-up: %d stations held before are offline until they reconnect", cleared)
            return
        await self._beat()
        await self.sweep()
        self._task = asyncio.create_task(self._run())

    async def aclose(self) -> None:
        if self._task is not None:
            self._stop.set()  # the round under way finishes: no database work is cut in half
            await self._task
        if self.redis is not None:
            with contextlib.suppress(Exception):
                await self.redis.delete(alive_key(self.node_id))

    async def _beat(self) -> None:
        assert self.redis is not None
        await self.redis.set(alive_key(self.node_id), "1", px=int(self.ttl * 1000))

    async def sweep(self) -> int:
        """Mark offline the stations of nodes whose liveness expired."""
        assert self.redis is not None
        nodes = await asyncio.to_thread(self.core.holding_nodes)
        dead = [node for node in nodes if not await self.redis.exists(alive_key(node))]
        if not dead:
            return 0
        return await asyncio.to_thread(self.core.clear_presence, nodes=dead)

    async def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.ttl / 3)
                return
            try:
                await self._beat()
                await self.sweep()
            except Exception:
                log.warning("presence round failed", exc_info=True)
