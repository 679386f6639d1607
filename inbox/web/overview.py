"""The supervisor's live view: each counselor's load, the queue, paused channels and the
conversations closest to breaching their response deadline (GET /api/supervision), and the
board built from the same parts (GET /api/board, also pushed to the supervisors' sockets by
inbox.web.board_live): who is connected, today's waits against the target, the conversations a
supervisor may move, the alerts with their acknowledgements and LINE's monthly quota. Ids,
counts and times only: no bodies, no addresses. Times are UTC ISO-8601; the pages show them in
Asia/Tokyo."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from aiohttp import web

from inbox.core.board import (
    ON_CALL_ALERT,
    Alert,
    BoardConversation,
    ChannelPause,
    alert_kind,
    percentile,
    since,
)
from inbox.core.decisions import AgentLoad, QueueDepth
from inbox.core.model import (
    OPEN_STATUSES,
    ChannelKind,
    Conversation,
    Presence,
    Role,
    User,
    UserId,
    contact_alias,
)
from inbox.core.shifts import DeskClosed, asked_once, on_shift
from inbox.core.windows import day_start
from inbox.line_friends import LineFriendsWatch
from inbox.line_quota import LineQuotaWatch
from inbox.web.access import require
from inbox.web.api import urgency_of
from inbox.web.server import SERVICES, Services, WebSettings

routes = web.RouteTableDef()
BREACH_SCAN = 500  # open conversations looked at for deadlines
BREACH_TOP = 50  # the ones shown, soonest first
BOARD_WAITING = 200  # the waiting conversations the board lists (urgent first, then the oldest)
# The alerts shown (newest first): the newest open ones, however old, and the most recently
# acknowledged ones, read apart, so that acknowledged ones never push an open one off the board.
ALERTS_OPEN = 50
ALERTS_DONE = 20


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
    now = services.clock()
    depth = await store.queue_depth(now=now)
    paused = await store.paused_channels()
    open_ones = await store.list_conversations(statuses=OPEN_STATUSES, limit=BREACH_SCAN)
    closed = asked_once(services.router.closed_day, now)
    return web.json_response(
        {
            "now": now.isoformat(),
            # counselors, as the board lists them (the router's agents include phone staff)
            "counselors": [
                agent_json(a, users.get(a.user_id), now, closed=closed)
                for a in snapshot.agents
                if a.counselor
            ],
            "queue": [queue_json(d, paused, now) for d in depth],
            "paused_channels": sorted(c.value for c in paused),
            "time_to_breach": time_to_breach(open_ones, now, users=users),
        }
    )


# ---- the board (GET /api/board, and the frames inbox.web.board_live pushes) -------------------
def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def board_conversation_json(
    conv: BoardConversation, now: datetime, settings: WebSettings
) -> dict[str, Any]:
    """A conversation the supervisor may move: who, where, how urgent, how long it has waited;
    no body, no address."""
    return {
        "id": conv.id,
        "contact_alias": contact_alias(conv.contact_id),
        "channel": conv.channel.value,
        "status": conv.status.value,
        "priority": conv.priority,
        "urgent": conv.priority >= settings.urgent_priority,
        "urgency": urgency_of(conv.tags, settings.urgency_categories),
        "assignee_id": conv.assignee_id,
        "waiting_since": _iso(conv.waiting_since),
        "waiting_s": since(conv.waiting_since, now),
        "due": _iso(conv.due),
        "seconds_left": None if conv.due is None else since(now, conv.due),
    }


def _alert_json(alert: Alert, names: Mapping[UserId, str]) -> dict[str, Any]:
    event, ack = alert.event, alert.ack
    data = event.data
    kind = alert_kind(event.kind, data) or event.kind
    user_id = data.get("user_id") if kind == ON_CALL_ALERT else None
    return {
        "event_id": event.id,
        "kind": kind,
        "at": event.at.isoformat(),
        "conversation_id": event.conversation_id,
        # urgent triage's category; never a provider's error text (it may name an address)
        "reason": data.get("reason") if event.kind == "supervisors_alerted" else None,
        "user_id": user_id,
        "user_name": None if user_id is None else names.get(user_id),
        "acknowledged": None
        if ack is None
        else {"by_id": ack.by, "by_name": names.get(ack.by), "at": ack.at.isoformat()},
    }


def shown_alerts(alerts: Iterable[Alert]) -> list[Alert]:
    """Of the alerts read (newest first), the newest open ones and acknowledged ones, newest
    first: acknowledged ones never push an open one off the board."""
    found = list(alerts)
    open_ones = [a for a in found if a.ack is None][:ALERTS_OPEN]
    done = [a for a in found if a.ack is not None][:ALERTS_DONE]
    return sorted(open_ones + done, key=lambda a: a.event.id, reverse=True)


def _channels_json(pauses: Iterable[ChannelPause], names: Mapping[UserId, str]) -> list[Any]:
    paused = {p.channel: p for p in pauses}
    found = []
    for channel in ChannelKind:
        pause = paused.get(channel)
        found.append(
            {
                "channel": channel.value,
                "paused": pause is not None,
                "since": None if pause is None else pause.since.isoformat(),
                "by_id": None if pause is None else pause.by,
                "by_name": None if pause is None or pause.by is None else names.get(pause.by),
            }
        )
    return found


def _waits_json(waits: tuple[float, ...], day: datetime, target_s: float) -> dict[str, Any]:
    return {
        "day": day.date().isoformat(),
        "count": len(waits),
        "median_s": percentile(waits, 0.5),
        "p90_s": percentile(waits, 0.9),
        "target_s": target_s,
        "over_target": sum(1 for w in waits if w > target_s),
    }


def _counselor_json(
    agent: AgentLoad,
    names: Mapping[UserId, str],
    now: datetime,
    connected: bool,
    mine: list[dict[str, Any]],
    soon_s: float,
    closed: DeskClosed,
) -> dict[str, Any]:
    lefts = [c["seconds_left"] for c in mine if c["seconds_left"] is not None]
    return agent_json(agent, None, now, closed=closed) | {
        "display_name": names.get(agent.user_id),
        "connected": connected,
        "last_assigned_at": _iso(agent.idle_since),
        "since_last_assignment_s": since(agent.idle_since, now),
        "due_soon": sum(1 for s in lefts if 0 <= s <= soon_s),
        "overdue": sum(1 for s in lefts if s < 0),
        "conversation_ids": [c["id"] for c in mine],
    }


def _on_the_board(agent: AgentLoad, connected: bool, now: datetime, closed: DeskClosed) -> bool:
    """Every counselor on shift or signed in (her socket open, or a presence she set)."""
    return (
        connected
        or agent.presence is not Presence.OFFLINE
        or on_shift(agent.shift, now, closed=closed)
    )


async def board_json(services: Services) -> dict[str, Any]:
    """The board, as GET /api/board answers and the supervisors' sockets are pushed it."""
    store, settings = services.store, services.settings
    now = services.clock()
    today = day_start(now, settings.timezone)
    rows = await store.board_rows(
        day_start=today,
        now=now,
        waiting=BOARD_WAITING,
        alerts=ALERTS_OPEN,
        acknowledged=ALERTS_DONE,
    )
    names, depth = rows.names, rows.depth
    leases = {link.user_id: link.connected_until for link in rows.links}
    assigned = [board_conversation_json(c, now, settings) for c in rows.assigned]
    by_counselor: dict[UserId | None, list[dict[str, Any]]] = {}
    for conv in assigned:
        by_counselor.setdefault(conv["assignee_id"], []).append(conv)
    paused = frozenset(p.channel for p in rows.pauses)
    counselors = []
    closed = asked_once(services.router.closed_day, now)  # the desk's closed days, as routing
    for agent in rows.agents:
        lease = leases.get(agent.user_id)
        connected = lease is not None and lease > now
        if _on_the_board(agent, connected, now, closed):
            mine = by_counselor.get(agent.user_id, [])
            counselors.append(
                _counselor_json(agent, names, now, connected, mine, settings.due_soon_s, closed)
            )
    return {
        "event_id": rows.event_id,
        "now": now.isoformat(),
        "counselors": counselors,
        "queue": [queue_json(d, paused, now) for d in depth],
        "waiting_total": sum(d.count for d in depth),
        "channels": _channels_json(rows.pauses, names),
        "waits": _waits_json(rows.waits_today_s, today, settings.response_target_s),
        "due_soon_s": settings.due_soon_s,  # a deadline closer than this is near
        "waiting": [board_conversation_json(c, now, settings) for c in rows.waiting],
        "assigned": assigned,
        "alerts": [_alert_json(a, names) for a in shown_alerts(rows.alerts)],
        "on_call": _on_call_json(services.router.on_call_now(), names),
        "line_quota": await _line_quota_json(services.line_quota),
        "line_friends": await _line_friends_json(services.line_friends),
    }


async def _line_quota_json(watch: LineQuotaWatch | None) -> dict[str, Any] | None:
    """LINE's monthly quota (issue 16) as last read, at most TTL_S old; None when LINE is off.
    LINE not answering is "unavailable", never a failed board."""
    if watch is None:
        return None
    reading = await watch.read()
    found = reading.standing
    return {
        "state": "ok" if found is not None else "unavailable",
        "limit": None if found is None else found.limit,
        "used": None if found is None else found.used,
        "remaining": None if found is None else found.remaining,
        "percent": None if found is None else found.percent,
        "warn": found is not None and found.warn,
        "exhausted": found is not None and found.exhausted,
        "warn_percent": reading.warn_percent,
        "read_at": reading.read_at.isoformat(),
    }


async def _line_friends_json(watch: LineFriendsWatch | None) -> dict[str, Any] | None:
    """LINE friends added (follows) and lost (unfollows, blocks) today and this month so far, in
    settings.timezone, as last counted (at most TTL_S old); None when LINE is off."""
    if watch is None:
        return None
    found = await watch.read()
    return {
        "today": {"added": found.today.added, "lost": found.today.lost},
        "month": {"added": found.month.added, "lost": found.month.lost},
        "read_at": found.read_at.isoformat(),
    }


def _on_call_json(user_id: UserId | None, names: Mapping[UserId, str]) -> dict[str, Any] | None:
    """Who takes an urgent conversation no one on duty can (routing.on_call), now."""
    return None if user_id is None else {"id": user_id, "display_name": names.get(user_id)}


@routes.get("/api/board")
async def board(request: web.Request) -> web.Response:
    await require(request, Role.SUPERVISOR)
    return web.json_response(await board_json(request.app[SERVICES]))


def add_routes(app: web.Application) -> None:
    app.router.add_routes(routes)
