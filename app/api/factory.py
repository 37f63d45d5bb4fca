"""The factory line's wiring: keys and roles (its errors become problems in app/problems.py).

Shared by the families, devices, labels and enrollment routers and by ``chargeline devices``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.deps import PlatformDep, require_role
from app.identity.jwt_tokens import Principal
from app.settings import Settings
from enrollment.sealing import SecretKeys

__all__ = [
    "KeysDep",
    "LinePrincipal",
    "secret_keys",
]

LinePrincipal = Annotated[Principal, Depends(require_role("manufacturing", "admin"))]
"""The line scripts (``manufacturing``) and admins."""


def secret_keys(settings: Settings) -> SecretKeys:
    """The code pepper and the label sealing key, from the settings' secrets."""
    pepper = settings.code_pepper.get_secret_value() if settings.code_pepper else None
    return SecretKeys.from_secrets(settings.secret_key.get_secret_value(), pepper)


def get_keys(platform: PlatformDep) -> SecretKeys:
    return secret_keys(platform.settings)


KeysDep = Annotated[SecretKeys, Depends(get_keys)]
