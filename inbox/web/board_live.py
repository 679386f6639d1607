"""The board, live: after events, the supervisors' sockets are pushed the whole board.

`{"type": "board", "event_id": <the newest event it reflects>, ...GET /api/board}` goes to the
supervisors' staff sockets only (a counselor's socket never gets it: the board names every
counselor's load), unless a socket said it does not want them (`{"type": "board", "watch":
false}`: the console, which shows none of it, says so when it connects). It is built once per
round and encoded once for all of them (hub.Audience), and rounds are coalesced: a round starts
at least MIN_GAP_S after the one before, so a burst of 200 messages a second costs at most
1/MIN_GAP_S rounds a second, not 200, while a lone event is out at once. A change waits at most
MIN_GAP_S plus a round's time to reach the board.

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

from inbox.core.errors import ValidationError
from inbox.core.model import Event, Role, User
from inbox.resilience import Outages
from inbox.web.access import require
from inbox.web.hub import Audience, Subscriber
from inbox.web.server import SERVICES, path_id, read_json_object

log = logging.getLogger(__name__)
MIN_GAP_S = 0.1
BACKLOG = 4  # frames a socket may have unsent (events frames count too); more: a later board
# Events that change nothing the board shows: a round of only these builds no board (every staff
# member's read of a conversation is an audited event, every consulter's read receipt one too).
# A kind not named here may change it: new kinds are news to the board until said otherwise.
QUIET_KINDS = frozenset(
    {
        "conversation_read",
        "consulter_read",
        "note_added",
        "reply_sent",
        "reply_delivered",
        "sms_opted_out",
        "sms_opted_in",
        "auto_reply_due",
        "auto_reply_queued",
        "thread_joined",
        "signed_in",
        "sign_in_failures",
        "sign_in_locked",
        "sign_in_refused",
        "canned_reply_created",
        "canned_reply_updated",
        "canned_reply_deleted",
        # casework: the directory of partner agencies and referrals (not on the board)
        "agency_created",
        "agency_updated",
        "agency_archived",
        "agency_restored",
        "agencies_imported",
        "referral_recorded",
        "referral_deleted",
        # casework (issue 17): topics, age groups and activities are the report's, not the board's
        "topics_set",
        "age_group_set",
        "activity_logged",
        "activity_updated",
        "activity_deleted",
    }
)
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
        # Changes published, and the number of them the last board built reflects: a round
        # with no new change re-pushes that board to the sockets that missed it, unbuilt.
        self._changes = 0
        self._built = -1
        self._last: dict[str, Any] = {}

    def pending(self) -> bool:
        """Whether a change waits for the next round."""
        return self._dirty.is_set()

    async def published(self, events: Sequence[Event]) -> None:
        """After the feed published `events`: the board is out of date, unless they are all
        quiet ones."""
        if any(e.kind not in QUIET_KINDS for e in events):
            self._changes += 1
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
        """Build the board and push it; how many sockets took it. A socket still behind on
        BACKLOG frames is passed over, and gets the next round's board, which comes even if
        nothing changes: then the board built last, pushed again to the sockets that missed
        it only, without building one (a slow socket costs no database reads). Raises
        StorageError."""
        if self._built == self._changes:
            took = self._audience.push(self._last, backlog=BACKLOG, missed=True)
        else:
            changes = self._changes  # what changes later goes in the next round
            self._last = {"type": "board"} | await self._build()
            self._built = changes
            took = self._audience.push(self._last, backlog=BACKLOG)
        if self._audience.behind:
            self._dirty.set()
        return took


def board_frame(audience: Audience, sub: Subscriber, user: User, data: str) -> bool:
    """A staff socket's `{"type": "board", "watch": false}` (or true): a supervisor's socket
    leaves (or takes again) the board's frames; the console leaves them, as it shows none of
    it. True when the frame was one of these, else it is someone else's."""
    try:
        frame = read_json_object(data.encode())
    except ValidationError:
        return False
    if frame.get("type") != "board":
        return False
    if frame.get("watch") is False:
        audience.discard(sub)
    elif frame.get("watch") is True and user.has_any(Role.SUPERVISOR):
        audience.add(sub)
    return True


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
