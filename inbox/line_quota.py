"""LINE's monthly message quota for the supervisor's board (issue 16), asked of LINE at most once
every TTL_S per instance.

The board is built after every round of events and fetched by every supervisor's page, so
asking LINE each time would cost two API calls per push: the answer (or the failure to get one)
is kept for TTL_S by the service clock and every board in between reads the kept one. While one
ask is under way, other boards wait for it (a lock) rather than ask again; the ask is bounded by
ASK_TIMEOUT_S, so a LINE that does not answer holds a board up that long once in TTL_S at most.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from inbox.core.board import QuotaStanding, quota_standing
from inbox.core.errors import ChannelError
from inbox.kept import Kept

log = logging.getLogger(__name__)
TTL_S = 300.0
ASK_TIMEOUT_S = 5.0


class Quota(Protocol):
    """What LINE answers (channels.line.LineQuota)."""

    @property
    def limit(self) -> int | None: ...

    @property
    def used(self) -> int: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class QuotaReading:
    """One ask of LINE: its standing, or None when LINE could not be asked; and when."""

    standing: QuotaStanding | None
    read_at: datetime
    warn_percent: int


class LineQuotaWatch:
    def __init__(
        self,
        ask: Callable[[], Awaitable[Quota]],
        *,
        clock: Callable[[], datetime],
        warn_percent: int,
        ttl_s: float = TTL_S,
        timeout_s: float = ASK_TIMEOUT_S,
    ) -> None:
        self._ask = ask
        self._warn_percent = warn_percent
        self._timeout_s = timeout_s
        self._kept = Kept(self._reading, clock=clock, ttl_s=ttl_s)

    async def read(self) -> QuotaReading:
        """The kept reading while younger than the TTL; else LINE is asked (once, however many
        boards are being built) and its answer, or its failure, kept."""
        return await self._kept.get()

    async def _reading(self, now: datetime) -> QuotaReading:
        return QuotaReading(
            standing=await self._standing(), read_at=now, warn_percent=self._warn_percent
        )

    async def _standing(self) -> QuotaStanding | None:
        try:
            async with asyncio.timeout(self._timeout_s):
                quota = await self._ask()
        except (ChannelError, TimeoutError) as exc:
            # the kind only: LINE's message is not the board's business, and is not logged
            log.warning("line quota unavailable: %s", type(exc).__name__)
            return None
        except Exception as exc:  # noqa: BLE001 - an answer the SDK cannot read never fails the board
            log.error("line quota unreadable: %s", type(exc).__name__)
            return None
        return quota_standing(quota.limit, quota.used, self._warn_percent)
