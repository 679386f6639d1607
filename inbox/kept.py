"""A value read at most once every TTL (by the service clock) however many ask for it: the
board's LINE figures (inbox.line_quota, inbox.line_friends), built after every round of events
and fetched by every supervisor's page. While one read is under way, the others wait for it (a
lock) rather than read again."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Generic, TypeVar

T = TypeVar("T")


class Kept(Generic[T]):
    """`fetch(now)` reads the value; it is kept while younger than `ttl_s` and `still_good`
    (say, of today). A clock set back counts as young: no burst of reads."""

    def __init__(
        self,
        fetch: Callable[[datetime], Awaitable[T]],
        *,
        clock: Callable[[], datetime],
        ttl_s: float,
        still_good: Callable[[T, datetime], bool] = lambda _value, _now: True,
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._ttl = timedelta(seconds=ttl_s)
        self._still_good = still_good
        self._last: tuple[T, datetime] | None = None
        self._lock = asyncio.Lock()

    def _fresh(self, now: datetime) -> T | None:
        if self._last is None:
            return None
        value, read_at = self._last
        return value if now - read_at < self._ttl and self._still_good(value, now) else None

    async def get(self) -> T:
        found = self._fresh(self._clock())
        if found is not None:
            return found
        async with self._lock:
            now = self._clock()
            found = self._fresh(now)
            if found is not None:
                return found  # another caller read it while this one waited for the lock
            value = await self._fetch(now)
            self._last = (value, now)
            return value
