"""Checking a sign-in: throttled per username and per client address, argon2 off the event
loop, and every refusal alike (one argon2 verification, the same answer), so neither the
answer nor its timing tells which usernames exist."""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable
from contextlib import suppress
from datetime import timedelta
from typing import TypeVar

from aiohttp import web

from inbox.auth import HashingBusy, check_password, needs_rehash
from inbox.core.model import User
from inbox.throttle import Scope
from inbox.web.server import SERVICES, ApiError, Services

log = logging.getLogger(__name__)
_T = TypeVar("_T")
BUSY_RETRY_S = 5


def client_address(request: web.Request, header: str) -> str:
    """The peer's address, or with `header` configured (a trusted proxy sets it) the header's
    last entry: the address the proxy saw, which a client cannot forge through that proxy."""
    if header and (last := request.headers.get(header, "").rsplit(",", 1)[-1].strip()):
        return last
    return request.remote or "unknown"


async def _hashing(work: Awaitable[_T]) -> _T:
    try:
        return await work
    except HashingBusy as exc:
        raise ApiError(503, "busy", str(exc), headers={"Retry-After": str(BUSY_RETRY_S)}) from None


async def new_password_hash(services: Services, password: str, *, field: str = "password") -> str:
    """A checked password's hash, computed off the event loop (503 when every slot is busy);
    `field` names it when it breaks the rule."""
    check_password(password, field=field)
    return await _hashing(services.sign_in.verifier.hash(password))


def _throttled(services: Services, scope: Scope, wait_s: float) -> ApiError:
    seconds = max(1, math.ceil(wait_s))
    at = (services.clock() + timedelta(seconds=seconds)).isoformat(timespec="seconds")
    whom = "this username" if scope == "account" else "your address"
    return ApiError(
        429,
        "too_many_attempts",
        f"too many failed sign-ins for {whom}; try again in {seconds} s (after {at})",
        headers={"Retry-After": str(seconds)},
    )


async def _count_refusal(
    services: Services, user: User | None, username: str, address: str
) -> None:
    """Count the failure; when it locks the username or the address, write sign_in_failures
    (the user's id for an existing account, never the typed username or the password)."""
    guard = services.sign_in
    log.info("sign-in refused", extra={"action": "sign_in_refused"})
    for scope in guard.failed(username, address):
        counter = guard.accounts if scope == "account" else guard.addresses
        data: dict[str, object] = {
            "scope": scope,
            "failures": counter.limit,
            "window_s": counter.window_s,
            "locked_s": counter.lockout_s,
        }
        if scope == "account" and user is not None:
            data["user_id"] = user.id
        if scope == "address":
            data["address"] = address
        log.warning(
            "sign-in locked after repeated failures",
            extra={"action": "sign_in_locked", "scope": scope},
        )
        await services.commands.accounts.record_sign_in_failures(data)


async def checked_login(request: web.Request, username: str, password: str) -> User:
    """The user whose password this is; 429 while her username or the caller's address is
    locked, 401 for an unknown or disabled user or a wrong password, 503 when hashing is busy."""
    services = request.app[SERVICES]
    guard = services.sign_in
    address = client_address(request, guard.client_address_header)
    if (refusal := guard.refusal(username, address)) is not None:
        raise _throttled(services, *refusal)
    found = await services.store.find_login(username)
    user, stored_hash = found if found else (None, None)
    matches = await _hashing(guard.verifier.verify(stored_hash, password))
    # A burst that passed the check above is answered after the lock it caused began: then a
    # right password gets the same 429 as a wrong one, so a burst tests no more than the limit.
    if (refusal := guard.refusal(username, address)) is not None:
        raise _throttled(services, *refusal)
    if user is None or user.disabled or not matches:
        await _count_refusal(services, user, username, address)
        raise ApiError(401, "bad_credentials", "wrong username or password")
    guard.succeeded(username)
    if stored_hash and needs_rehash(stored_hash):
        with suppress(HashingBusy):  # she is signed in anyway; the next sign-in rehashes
            new_hash = await guard.verifier.hash(password)
            await services.commands.accounts.set_password_hash(user.id, new_hash)
    return user
