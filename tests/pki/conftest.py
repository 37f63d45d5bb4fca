"""A session-scoped throwaway CA: both hierarchies, made once with a fixed clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from pki.hierarchy import (
    CARole,
    IssuingCA,
    create_intermediate,
    create_manufacturer_root,
    create_operator_root,
)
from pki.keys import KeyKind, PrivateKey, generate_private_key
from tests.pki.builders import OPERATOR

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class ThrowawayCA:
    root: IssuingCA
    station: IssuingCA
    user: IssuingCA
    server: IssuingCA
    manufacturer: IssuingCA


def build_test_ca(kind: KeyKind = KeyKind.EC_P256, now: datetime = NOW) -> ThrowawayCA:
    root = create_operator_root(
        operator_name=OPERATOR, key=generate_private_key(kind), serial=1, now=now, country="DE"
    )

    def intermediate(role: CARole, serial: int) -> IssuingCA:
        key: PrivateKey = generate_private_key(kind)
        return create_intermediate(
            root, role=role, key=key, serial=serial, now=now, crl_url="http://pki.test/root.crl"
        )

    manufacturer = create_manufacturer_root(
        manufacturer_name="Chargeline Test Works", key=generate_private_key(kind), serial=5, now=now
    )
    return ThrowawayCA(
        root=root,
        station=intermediate(CARole.STATION, 2),
        user=intermediate(CARole.USER, 3),
        server=intermediate(CARole.SERVER, 4),
        manufacturer=manufacturer,
    )


@pytest.fixture(scope="session")
def ca() -> ThrowawayCA:
    return build_test_ca()


@pytest.fixture(scope="session")
def rsa_ca() -> ThrowawayCA:
    return build_test_ca(KeyKind.RSA_2048)


@pytest.fixture(scope="session")
def ec_key() -> PrivateKey:
    return generate_private_key()


@pytest.fixture(scope="session")
def rsa_key() -> PrivateKey:
    return generate_private_key(KeyKind.RSA_2048)
