"""One adapter per OCPP version behind the ``VersionAdapter`` Protocol.

Each adapter (``v16``, ``v201``, ``v21``) is a pure translator between one version's messages and
the platform's events, decisions and commands; what the versions share lives once in ``common``.
``ADAPTERS`` maps each WebSocket subprotocol to its adapter: adding a version is adding a module
and a row here.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ocpp_edge.adapters import v16, v21, v201
from ocpp_edge.adapters.base import VersionAdapter

__all__ = ["ADAPTERS", "VersionAdapter"]

ADAPTERS: Mapping[str, VersionAdapter] = MappingProxyType(
    {adapter.subprotocol: adapter for adapter in (v16.ADAPTER, v201.ADAPTER, v21.ADAPTER)}
)
"""Subprotocol (``ocpp1.6``, ``ocpp2.0.1``, ``ocpp2.1``) -> adapter, in the order the gateway
lists them in its handshake."""
