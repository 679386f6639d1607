"""Presence that follows the staff sockets: a counselor whose last socket closed is passed by.

A counselor who closed her laptop is not available, whatever her switch says; an offer to her
waits out the offer timeout while the consulter waits too. So each instance keeps, for every
staff member with a socket open on it, a lease in the database (users.connected_until), extended
every `interval_s` while the socket stays and set to end `grace_s` after her last socket here
closes. Any instance may find a lease that ran out (storage.presence.away_disconnected): the
counselor becomes away, marked as set by the disconnect, with a counselor_updated event that
wakes every router (PostgreSQL's NOTIFY). When she connects again, on any instance, that away
becomes available again; an away or offline she chose stays.

Why a lease in the database and not this instance's hub alone: the hub is per instance, and on
PostgreSQL her tabs may sit on two instances, so the one where her last tab closed cannot tell
whether another still holds one; and an instance that dies holds no timer at all. With the lease,
the instances holding her sockets keep her connected, and a crash lets it run out. A grace period
covers a reload, a train tunnel and a network change.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

from inbox.commands.counselors import CounselorCommands
from inbox.core.errors import StorageError
from inbox.core.model import UserId
from inbox.resilience import Outages

log = logging.getLogger(__name__)
MAX_INTERVAL_S = 10.0  # how often an instance extends its leases and looks for ended ones


class PresenceKeeper:
    """This instance's staff sockets by user, their leases, and the sweep for ended ones."""

    def __init__(
        self, counselors: CounselorCommands, *, grace_s: float, outages: Outages | None = None
    ) -> None:
        self._counselors = counselors
        self._grace_s = grace_s  # 0: presence does not follow the sockets
        self._outages = outages or Outages()
        self._sockets: Counter[UserId] = Counter()
        # Well inside the grace period, so that a lease never runs out under an open socket.
        self.interval_s = min(MAX_INTERVAL_S, grace_s / 4)

    @property
    def enabled(self) -> bool:
        return self._grace_s > 0

    def connected_here(self) -> list[UserId]:
        return sorted(self._sockets)

    async def opened(self, user: UserId) -> None:
        """A staff socket of hers opened: her lease starts, and an away the disconnect set ends."""
        self._sockets[user] += 1
        if not self.enabled:
            return
        try:
            if await self._counselors.connected(user, lease_s=self._grace_s + self.interval_s):
                log.info("presence restored on reconnect", extra={"action": "presence_restored"})
        except StorageError:
            # The sweep's next round, or her next socket, sets it right; the socket still serves.
            log.warning("presence lease not started", extra={"action": "presence_lease_failed"})

    async def closed(self, user: UserId) -> None:
        """A staff socket of hers closed; after her last one here, her lease ends in grace_s
        unless another instance holds a socket of hers."""
        self._sockets[user] -= 1
        if self._sockets[user] > 0:
            return
        del self._sockets[user]
        if not self.enabled:
            return
        try:
            await self._counselors.seen([user], lease_s=self._grace_s)
        except StorageError:
            # The lease still ends: at most one interval later than it would have.
            log.warning("presence lease not shortened", extra={"action": "presence_lease_failed"})

    async def run(self) -> None:
        """Until cancelled: extend the leases of those connected here, and set away those whose
        lease ran out (here or anywhere)."""
        if not self.enabled:
            await asyncio.Event().wait()
        while True:
            await asyncio.sleep(self.interval_s)
            await self._outages.retrying("presence", self.round)

    async def round(self) -> list[UserId]:
        here = self.connected_here()
        if here:
            await self._counselors.seen(here, lease_s=self._grace_s + self.interval_s)
        gone = await self._counselors.away_disconnected()
        if gone:
            log.info(
                "counselors away after their sockets closed",
                extra={"action": "presence_away_disconnected", "count": len(gone)},
            )
        return gone
