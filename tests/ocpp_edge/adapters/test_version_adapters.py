"""Every version adapter meets the ``VersionAdapter`` Protocol and sits in the one table."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

from ocpp_edge import adapters
from ocpp_edge.adapters import ADAPTERS, VersionAdapter
from ocpp_edge.protocol import SUBPROTOCOLS, VERSIONS
from ocpp_edge.schemas import actions

_METHODS = ("to_event", "action_of", "to_reply", "to_call", "to_result")


def _adapter_modules() -> list[str]:
    names = []
    for info in pkgutil.iter_modules(adapters.__path__):
        module = importlib.import_module(f"{adapters.__name__}.{info.name}")
        if hasattr(module, "ADAPTER"):
            names.append(info.name)
    return names


def test_the_table_holds_every_adapter_module_in_the_handshake_order() -> None:
    assert _adapter_modules() == ["v16", "v201", "v21"]
    modules = [
        importlib.import_module(f"ocpp_edge.adapters.{name}") for name in ("v16", "v201", "v21")
    ]
    assert list(ADAPTERS.values()) == [module.ADAPTER for module in modules]
    assert list(SUBPROTOCOLS.items()) == [
        ("ocpp1.6", "1.6"),
        ("ocpp2.0.1", "2.0.1"),
        ("ocpp2.1", "2.1"),
    ]
    assert VERSIONS == ("1.6", "2.0.1", "2.1")


@pytest.mark.parametrize("subprotocol", list(ADAPTERS))
def test_each_adapter_satisfies_the_protocol(subprotocol: str) -> None:
    adapter = ADAPTERS[subprotocol]
    assert isinstance(adapter, VersionAdapter)
    for name in _METHODS:
        wanted = list(inspect.signature(getattr(VersionAdapter, name)).parameters)[1:]
        assert list(inspect.signature(getattr(adapter, name)).parameters) == wanted, name


@pytest.mark.parametrize("subprotocol", list(ADAPTERS))
def test_each_adapter_names_its_version_consistently(subprotocol: str) -> None:
    adapter = ADAPTERS[subprotocol]
    assert adapter.subprotocol == subprotocol == f"ocpp{adapter.version}"
    assert adapter.dialect.version == adapter.version
    assert adapter.schemas is adapter.schemas  # one compiled set per process
    assert adapter.station_actions
    assert adapter.station_actions <= actions(adapter.version)
