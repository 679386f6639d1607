"""The board, live: after events, the supervisors' sockets are pushed the whole board.

`{"type": "board", "event_id": <the newest event it reflects>, ...GET /api/board}` goes to the
supervisors' staff sockets only (a counselor's socket never gets it: the board names every
counselor's load). It is built once per round and encoded once for all of them (hub.Audience),
and rounds are coalesced: a round starts at least MIN_GAP_S after the one before, so a burst of
200 messages a second costs at most 1/MIN_GAP_S rounds a second, not 200, while a lone event is
out at once. A change waits at most MIN_GAP_S plus a round's time to reach the board.

Fed by the event feed (inbox.feed's `published` hook), so a change written by another instance
or by the CLI reaches the board too. Best effort across a database outage: the round is retried
with the workers' backoff (inbox.resilience), and a page that reconnects asks GET /api/board.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web

from inbox.core.model import Event, Role
from inbox.resilience import Outages
from inbox.web.access import require
from inbox.web.hub import Audience
from inbox.web.server import SERVICES, path_id

log = logging.getLogger(__name__)
MIN_GAP_S = 0.1
routes = web.RouteTableDef()


class BoardLive:
    def __init__(
        self,
        audience: Audience,
        build: Callable[[], Awaitable[dict[str, Any]]],
        *,
        outages: Outages | None = None,
        min_gap_s: float = MIN_GAP_S,
    ) -> None:
        self._audience = audience
        self._build = build
        self._outages = outages or Outages()
        self._min_gap_s = min_gap_s
        self._dirty = asyncio.Event()

    async def published(self, events: Sequence[Event]) -> None:
        """After the feed published `events`: the board is out of date."""
        if events:
            self._dirty.set()

    async def run(self) -> None:
        """Until cancelled: a round after each change, rounds at least min_gap_s apart (from
        the start of one to the start of the next)."""
        loop = asyncio.get_running_loop()
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            if not len(self._audience):
                continue  # no supervisor is watching: nothing to build
            started = loop.time()
            await self._outages.retrying("board", self.round)
            # what changed meanwhile goes in the next round, once the gap has passed
            await asyncio.sleep(max(0.0, started + self._min_gap_s - loop.time()))

    async def round(self) -> int:
        """Build the board and push it; how many sockets took it. Raises StorageError."""
        board = await self._build()
        return self._audience.push({"type": "board"} | board)


@routes.post("/api/alerts/{id}/ack")
async def acknowledge_alert(request: web.Request) -> web.Response:
    """A supervisor acknowledges an alert (who, when: an alert_acknowledged event); the board
    then shows it folded away. Acknowledging again answers the first acknowledgement."""
    user = await require(request, Role.SUPERVISOR)
    services = request.app[SERVICES]
    ack = await services.commands.alerts.acknowledge(path_id(request), actor=user.id)
    names = await services.names.get(services.store)
    return web.json_response(
        {
            "event_id": ack.event_id,
            "acknowledged": {
                "by_id": ack.by,
                "by_name": names.get(ack.by),
                "at": ack.at.isoformat(),
            },
        }
    )


def add_routes(app: web.Application) -> None:
    app.router.add_routes(routes)
