"""Station passwords for HTTP Basic authentication (security profiles 1 and 2).

OCPP 2.0.1 A00 (and the 1.6 Security Whitepaper) ask for 16-40 characters; the platform stores
them hashed with Argon2id and checks an unknown station against a dummy hash, so that the
time taken does not tell which station ids exist.
"""

from __future__ import annotations

from argon2 import PasswordHasher

from charging.errors import InvalidStationPassword
from common.passwords import Argon2Passwords

MIN_LENGTH = 16
MAX_LENGTH = 40

DEFAULT_HASHER = PasswordHasher()


class StationPasswords(Argon2Passwords):
    """Hashes and checks station passwords with ``hasher`` (Argon2id by default)."""

    def __init__(self, hasher: PasswordHasher = DEFAULT_HASHER) -> None:
        super().__init__(hasher)

    def hash(self, password: str) -> str:
        check_password(password)
        return super().hash(password)


def check_password(password: str) -> None:
    """Raises ``InvalidStationPassword`` unless ``password`` has 16-40 characters."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise InvalidStationPassword(
            f"a station password has {MIN_LENGTH}-{MAX_LENGTH} characters, not {len(password)}"
        )
