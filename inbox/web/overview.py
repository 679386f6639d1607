"""The supervisor's live view: each counselor's load, the queue, paused channels and the
conversations closest to breaching their response deadline. Ids, counts and times only: no
bodies, no addresses. Times are UTC ISO-8601; the console shows them in local time."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from aiohttp import web

from inbox.core.decisions import AgentLoad, QueueDepth
from inbox.core.model import OPEN_STATUSES, ChannelKind, Conversation, Role, User, UserId
from inbox.core.shifts import DeskClosed, asked_once, on_shift
from inbox.web.access import require
from inbox.web.server import SERVICES

routes = web.RouteTableDef()
BREACH_SCAN = 500  # open conversations looked at for deadlines
BREACH_TOP = 50  # the ones shown, soonest first


def _by_channel(pairs: Iterable[tuple[ChannelKind, int]]) -> dict[str, int]:
    return {channel.value: n for channel, n in pairs}


def agent_json(
    agent: AgentLoad, user: User | None, now: datetime, *, closed: DeskClosed
) -> dict[str, Any]:
    return {
        "id": agent.user_id,
        "display_name": None if user is None else user.display_name,
        "presence": agent.presence.value,
        "on_shift": on_shift(agent.shift, now, closed=closed),
        "load": agent.load,
        "capacity": agent.capacity,
        "channel_load": _by_channel(agent.channel_load),
        "channel_capacity": _by_channel(agent.channel_capacity),
    }


def queue_json(depth: QueueDepth, paused: frozenset[ChannelKind], now: datetime) -> dict[str, Any]:
    return {
        "channel": depth.channel.value,
        "priority": depth.priority,
        "count": depth.count,
        "oldest": depth.oldest.isoformat(),
        "oldest_waiting_s": round((now - depth.oldest).total_seconds(), 3),
        "paused": depth.channel in paused,
    }


def due_at(conv: Conversation) -> datetime | None:
    """The earliest response deadline the conversation has, if any."""
    dues = [d for d in (conv.first_response_due, conv.next_response_due) if d is not None]
    return min(dues, default=None)


def time_to_breach(
    conversations: Iterable[Conversation],
    now: datetime,
    *,
    top: int = BREACH_TOP,
    users: Mapping[UserId, User] | None = None,
) -> list[dict[str, Any]]:
    """Conversations with a deadline, soonest first; negative seconds: already breached."""
    timed = [(due, conv) for conv in conversations if (due := due_at(conv)) is not None]
    timed.sort(key=lambda pair: (pair[0], pair[1].id))
    return [
        {
            "conversation_id": conv.id,
            "assignee_id": conv.assignee_id,
            "assignee_name": _name(users, conv.assignee_id),
            "channel": conv.channel.value,
            "status": conv.status.value,
            "priority": conv.priority,
            "due": due.isoformat(),
            "seconds_left": round((due - now).total_seconds(), 3),
        }
        for due, conv in timed[:top]
    ]


def _name(users: Mapping[UserId, User] | None, user_id: UserId | None) -> str | None:
    found = None if users is None or user_id is None else users.get(user_id)
    return None if found is None else found.display_name


def _users_by_id(users: Iterable[User]) -> Mapping[UserId, User]:
    return {u.id: u for u in users}


@routes.get("/api/supervision")
async def supervision(request: web.Request) -> web.Response:
    await require(request, Role.SUPERVISOR)
    services = request.app[SERVICES]
    store = services.store
    snapshot = await store.routing_snapshot()
    users = _users_by_id(await store.list_users())
    depth = await store.queue_depth()
    paused = await store.paused_channels()
    open_ones = await store.list_conversations(statuses=OPEN_STATUSES, limit=BREACH_SCAN)
    now = services.clock()
    closed = asked_once(services.router.closed_day, now)
    return web.json_response(
        {
            "now": now.isoformat(),
            "counselors": [
                agent_json(a, users.get(a.user_id), now, closed=closed) for a in snapshot.agents
            ],
            "queue": [queue_json(d, paused, now) for d in depth],
            "paused_channels": sorted(c.value for c in paused),
            "time_to_breach": time_to_breach(open_ones, now, users=users),
        }
    )


def add_routes(app: web.Application) -> None:
    app.router.add_routes(routes)
