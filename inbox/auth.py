"""Passwords (argon2id) and bearer secrets (sessions, API tokens), stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from inbox.errors import ValidationError

_hasher = PasswordHasher()
MIN_PASSWORD_CHARS = 10
API_TOKEN_PREFIX = "tsu_"
# Verifying against this when the user does not exist keeps "no such user" and "wrong
# password" equally slow, so timing does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("not-a-password-anyone-has")


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValidationError(
            f"must have at least {MIN_PASSWORD_CHARS} characters", field="password"
        )


def hash_password(password: str) -> str:
    check_password(password)
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        _hasher.verify(stored_hash or _DUMMY_HASH, password)  # raises unless it matches
    except (VerificationError, InvalidHashError):
        return False
    return stored_hash is not None


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


def new_secret(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    """Sessions and tokens are long random strings, so a fast hash suffices (no guessing)."""
    return hashlib.sha256(secret.encode()).hexdigest()
