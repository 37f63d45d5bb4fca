"""Argon2 password checks that take as long for an unknown account as for a known one."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class Argon2Passwords:
    """Hashes and checks passwords with ``hasher``; a missing hash is checked against a dummy.

    Verifying against a dummy hash when there is no account (or no password) keeps the time
    taken the same, so the answer does not tell which users or stations exist.
    """

    def __init__(self, hasher: PasswordHasher) -> None:
        self._hasher = hasher
        self._dummy = hasher.hash(secrets.token_urlsafe(24))

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password: str, password_hash: str | None) -> bool:
        """Whether ``password`` matches ``password_hash``; False when there is no hash."""
        try:
            ok = self._hasher.verify(password_hash or self._dummy, password)
        except (VerificationError, InvalidHashError):
            return False
        return ok and password_hash is not None
