"""Hashing of passwords (memory-hard) and of high-entropy secrets (fast, keyed)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher

from common.passwords import Argon2Passwords


def production_hasher() -> PasswordHasher:
    """Argon2id with the RFC 9106 low-memory profile: 64 MiB, 3 passes, 4 lanes."""
    return PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4)


_passwords = Argon2Passwords(production_hasher())

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256


def hash_password(password: str) -> str:
    return _passwords.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Check ``password``; with no hash a dummy check still runs, so timing tells nothing."""
    return _passwords.verify(password, password_hash)


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def digest(secret: str) -> str:
    """SHA-256 of a random secret (client secrets, refresh tokens).

    These secrets carry 256 bits of entropy, so a fast hash resists guessing as well as a slow
    one would, and lets the database look them up by hash.
    """
    return hashlib.sha256(secret.encode()).hexdigest()


def digest_matches(secret: str, expected: str) -> bool:
    return hmac.compare_digest(digest(secret), expected)
