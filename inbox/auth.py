"""Passwords (argon2id) and bearer secrets (sessions, API tokens), stored only as hashes."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import secrets
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from inbox.core.errors import InboxError, ValidationError

_hasher = PasswordHasher()
MIN_PASSWORD_CHARS = 10
API_TOKEN_PREFIX = "tsu_"
# Verifying against this when the user does not exist keeps "no such user" and "wrong
# password" equally slow, so timing does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("not-a-password-anyone-has")
_P = ParamSpec("_P")
_T = TypeVar("_T")


class HashingBusy(InboxError):
    """Every password-hashing slot stayed busy for the whole wait; retry shortly."""


def check_password(password: str, *, field: str = "password") -> None:
    """The one password rule, for every path that sets one; `field` names it in the error."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValidationError(f"must have at least {MIN_PASSWORD_CHARS} characters", field=field)


# Letters and digits that cannot be misread for one another (no 0/o, 1/l/i), read aloud or typed.
_TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def temporary_password() -> str:
    """A password an admin hands over once (four groups of four, about 79 bits): the person
    must set her own at the next sign-in, and sign-ins are throttled."""
    groups = ("".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(4)) for _ in range(4))
    return "-".join(groups)


def hash_password(password: str) -> str:
    """On the calling thread: for the CLI and tests. The server uses PasswordVerifier.hash."""
    check_password(password)
    return _hasher.hash(password)


def _verify(hasher: PasswordHasher, stored_hash: str | None, password: str) -> bool:
    """One argon2 verification, always: against the dummy hash when there is no user."""
    try:
        hasher.verify(stored_hash or _DUMMY_HASH, password)  # raises unless it matches
    except (VerificationError, InvalidHashError):
        return False
    return stored_hash is not None


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


class PasswordVerifier:
    """argon2 for the server: in worker threads, at most `max_concurrent` at once.

    argon2 costs ~0.1 s of CPU by design; on the event loop it would stall every socket for
    that long. A caller waits at most `wait_s` for a slot, then gets HashingBusy (a 503), so a
    flood of sign-ins queues neither threads nor memory without bound.
    """

    def __init__(
        self,
        *,
        max_concurrent: int = 2,
        wait_s: float = 5.0,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self._slots = asyncio.Semaphore(max_concurrent)
        self._max_concurrent = max_concurrent
        self._wait_s = wait_s
        self._hasher = hasher or _hasher
        self.running = 0  # hashes in worker threads now, at most max_concurrent

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """Exactly one argon2 verification whether the user exists or not (None: she does
        not), so the time taken tells nothing. Raises HashingBusy."""
        return await self._run(_verify, self._hasher, stored_hash, password)

    async def hash(self, password: str) -> str:
        """A new hash of a password the caller has checked (check_password). Raises
        HashingBusy."""
        return await self._run(self._hasher.hash, password)

    async def _run(self, fn: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            async with asyncio.timeout(self._wait_s):
                await self._slots.acquire()
        except TimeoutError:
            raise HashingBusy(
                f"all {self._max_concurrent} password-hashing slots stayed busy for"
                f" {self._wait_s:g} s; retry shortly"
            ) from None
        self.running += 1
        try:
            future = asyncio.get_running_loop().run_in_executor(
                None, functools.partial(fn, *args, **kwargs)
            )
        except BaseException:
            self._release(None)
            raise
        # The slot is freed when the thread ends, not when the caller stops waiting, so a
        # cancelled sign-in never lets more hashes run at once than the bound.
        future.add_done_callback(self._release)
        return await asyncio.shield(future)

    def _release(self, future: asyncio.Future[Any] | None) -> None:
        self.running -= 1
        self._slots.release()
        if future is not None and not future.cancelled():
            future.exception()  # retrieved, so a caller that left logs no "never retrieved"


def new_secret(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    """Sessions and tokens are long random strings, so a fast hash suffices (no guessing)."""
    return hashlib.sha256(secret.encode()).hexdigest()
