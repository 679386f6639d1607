"""Sign-in throttling: failures counted per username and per client address, in memory.

Each instance counts its own sign-ins (README, Sign-in). A username is counted whether or not
such an account exists, so a lock says nothing about which usernames are real.
"""

from __future__ import annotations

import hashlib
import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from argon2 import PasswordHasher

from inbox.auth import PasswordVerifier
from inbox.config import SignInConfig

Scope = Literal["account", "address"]
MAX_KEYS = 10_000  # usernames or addresses remembered per counter; the oldest go first


@dataclass(slots=True)
class _Failures:
    count: int
    first_at: float
    locked_until: float = 0.0


class FailureCounter:
    """Failures per key within `window_s`; the `limit`-th locks the key for `lockout_s`.

    Times are monotonic seconds passed in by the caller. While locked, attempts are refused
    before any password is checked, and they do not extend the lock.
    """

    def __init__(
        self, *, limit: int, window_s: float, lockout_s: float, max_keys: int = MAX_KEYS
    ) -> None:
        self.limit, self.window_s, self.lockout_s = limit, window_s, lockout_s
        self._max_keys = max_keys
        self._failures: dict[str, _Failures] = {}

    def retry_after_s(self, key: str, now: float) -> float | None:
        """Seconds until the key may try again, or None when it may now."""
        found = self._failures.get(key)
        if found is None or found.locked_until <= now:
            return None
        return found.locked_until - now

    def failed(self, key: str, now: float) -> bool:
        """Count a failure; True when it locks the key."""
        found = self._failures.pop(key, None)  # re-inserted last: the dict is oldest first
        if found is None or self._expired(found, now):
            found = _Failures(count=0, first_at=now)
        locks = False
        if not found.locked_until:  # else a request that raced past the check: lock stands
            found.count += 1
            if found.count >= self.limit:
                found.locked_until = now + self.lockout_s
                locks = True
        self._make_room(now)
        self._failures[key] = found
        return locks

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)

    def __len__(self) -> int:
        return len(self._failures)

    def _expired(self, found: _Failures, now: float) -> bool:
        if found.locked_until:
            return found.locked_until <= now
        return now - found.first_at >= self.window_s

    def _make_room(self, now: float) -> None:
        """Forget the expired, then the oldest unlocked counts: a lock stands its full time,
        or junk usernames could push a real account's lock out and let the guessing resume.
        Only past twice the room do locks go too (oldest first), so memory stays bounded."""
        if len(self._failures) < self._max_keys:
            return
        self._failures = {k: f for k, f in self._failures.items() if not self._expired(f, now)}
        keep = self._max_keys - max(1, self._max_keys // 10)  # room for many, not just one
        unlocked = [k for k, f in self._failures.items() if not f.locked_until]
        for key in unlocked[: max(0, len(self._failures) - keep)]:
            del self._failures[key]
        while len(self._failures) > 2 * self._max_keys:
            del self._failures[next(iter(self._failures))]


class SignInGuard:
    """What POST /api/session needs beyond the store: the verifier and both counters."""

    def __init__(
        self,
        cfg: SignInConfig | None = None,
        *,
        hasher: PasswordHasher | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        cfg = cfg or SignInConfig()
        self.client_address_header = cfg.client_address_header
        self.verifier = PasswordVerifier(
            max_concurrent=cfg.max_concurrent_hashes, wait_s=cfg.hash_wait_s, hasher=hasher
        )
        self.accounts = FailureCounter(
            limit=cfg.max_failures_per_account, window_s=cfg.window_s, lockout_s=cfg.lockout_s
        )
        self.addresses = FailureCounter(
            limit=cfg.max_failures_per_address, window_s=cfg.window_s, lockout_s=cfg.lockout_s
        )
        self._clock = clock

    def refusal(self, username: str, address: str) -> tuple[Scope, float] | None:
        """Which lock refuses this attempt and for how many more seconds; None: go ahead."""
        now = self._clock()
        if (wait_s := self.addresses.retry_after_s(_key(address_bucket(address)), now)) is not None:
            return "address", wait_s
        if (wait_s := self.accounts.retry_after_s(_key(username), now)) is not None:
            return "account", wait_s
        return None

    def failed(self, username: str, address: str) -> list[Scope]:
        """Count a refused sign-in; the scopes this failure locked."""
        now = self._clock()
        locked: list[Scope] = []
        if self.accounts.failed(_key(username), now):
            locked.append("account")
        if self.addresses.failed(_key(address_bucket(address)), now):
            locked.append("address")
        return locked

    def succeeded(self, username: str) -> None:
        # The address keeps its count: one good account must not reset an address's guessing.
        self.accounts.clear(_key(username))


def address_bucket(address: str) -> str:
    """What one client is counted as: an IPv4 address, or the /64 of an IPv6 one (a single
    host is usually given a whole /64 and can rotate through it at will)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address  # "unknown", or what a configured proxy header said
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip.ipv4_mapped or ip) if isinstance(ip, ipaddress.IPv6Address) else str(ip)


def _key(value: str) -> str:
    """A fixed-size digest: a 60 kB username costs the counter no more than a short one, and
    the typed names are not kept in memory as they were typed."""
    return hashlib.blake2b(value.encode(errors="surrogatepass"), digest_size=16).hexdigest()
