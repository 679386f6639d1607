"""Background workers outlive a database outage: a step that fails with a StorageError is
retried with capped exponential backoff, logged once when the outage begins and once when it
ends, and the web layer's /readyz reads which workers are waiting meanwhile.

Only StorageError is retried: anything else is a bug and escapes, so the TaskGroup stops the
process (STYLE.md §6). CancelledError always propagates, also from the backoff's sleep, so a
worker waiting out an outage stops at once on shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from inbox.core.errors import DatabaseUnavailable, StorageError

log = logging.getLogger(__name__)
T = TypeVar("T")
FIRST_DELAY_S = 0.5
MAX_DELAY_S = 10.0


class Outages:
    """One per process: which workers wait out a database failure now, and how they back off.

    `pause` is injectable so that tests run the backoff without waiting it out."""

    def __init__(
        self,
        *,
        first_delay_s: float = FIRST_DELAY_S,
        max_delay_s: float = MAX_DELAY_S,
        pause: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._first_s = first_delay_s
        self._max_s = max(first_delay_s, max_delay_s)
        self._pause = pause
        self._down: dict[str, float] = {}  # worker -> when its outage began (monotonic)

    @property
    def waiting(self) -> list[str]:
        """The workers in backoff now, by name."""
        return sorted(self._down)

    async def retrying(self, worker: str, step: Callable[[], Awaitable[T]]) -> T:
        """`step()`'s result, retried until it does not raise a StorageError."""
        delay_s = self._first_s
        failures = 0
        while True:
            try:
                result = await step()
            except StorageError as exc:
                failures += 1
                if failures == 1:
                    self._began(worker, exc, delay_s)
                await self._pause(delay_s)
                delay_s = min(self._max_s, delay_s * 2)
                continue
            if failures:
                self._ended(worker, failures)
            return result

    def _began(self, worker: str, exc: StorageError, delay_s: float) -> None:
        # Only an unreachable database makes the instance not ready: a failure of another kind
        # (one row a statement keeps failing on) is retried too, but taking every instance out
        # of the load balancer over it would stop the web chat for everyone.
        if isinstance(exc, DatabaseUnavailable):
            self._down.setdefault(worker, time.monotonic())
        self._log_began(worker, exc, delay_s)

    def _log_began(self, worker: str, exc: StorageError, delay_s: float) -> None:
        # The error's class and its cause's, never its text: a driver's message may quote a value.
        cause = type(exc.__cause__).__name__ if exc.__cause__ is not None else None
        log.warning(
            f"{worker}: database unavailable, retrying with backoff up to {self._max_s:.0f} s",
            extra={
                "action": "worker_db_unavailable",
                "worker": worker,
                "error": type(exc).__name__,
                "cause": cause,
                "retry_in_s": delay_s,
            },
        )

    def _ended(self, worker: str, failures: int) -> None:
        began = self._down.pop(worker, None)
        down_s = None if began is None else round(time.monotonic() - began, 1)
        log.info(
            f"{worker}: database reachable again",
            extra={
                "action": "worker_db_recovered",
                "worker": worker,
                "attempts": failures,
                "down_s": down_s,
            },
        )
