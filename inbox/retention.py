"""The retention rule for bodies, run by the server once a day when [retention] bodies_days is
set: the text of messages in conversations closed more than that many days ago (Tokyo days) is
emptied, as `tsunagu purge-bodies` does (storage.retention). The report's figures stay.

Several instances may run it side by side: a message already purged is never purged again."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

from inbox.commands.report import ReportCommands
from inbox.core.report_facts import TOKYO
from inbox.resilience import Outages

log = logging.getLogger(__name__)
DAY_S = 86400.0


def cutoff(now: datetime, days: int) -> datetime:
    """The Tokyo midnight `days` days before today's (Tokyo) date, in UTC."""
    day = now.astimezone(TOKYO).date() - timedelta(days=days)
    return datetime.combine(day, time(), TOKYO).astimezone(UTC)


class BodyRetention:
    def __init__(
        self,
        commands: ReportCommands,
        *,
        days: int,
        clock: Callable[[], datetime],
        outages: Outages,
        first_delay_s: float = 600.0,
        interval_s: float = DAY_S,
    ) -> None:
        self._commands = commands
        self._days = days
        self._clock = clock
        self._outages = outages
        self._first_delay_s = first_delay_s
        self._interval_s = interval_s

    async def purge_once(self) -> int:
        before = cutoff(self._clock(), self._days)
        purged = await self._commands.purge_bodies(before)
        if purged:
            log.info(
                "message bodies purged",
                extra={"action": "bodies_purged", "count": purged, "before": before.isoformat()},
            )
        return purged

    async def run(self) -> None:
        """Once some minutes after start (not in the start-up's rush), then once a day."""
        await asyncio.sleep(self._first_delay_s)
        while True:
            await self._outages.retrying("retention", self.purge_once)
            await asyncio.sleep(self._interval_s)
