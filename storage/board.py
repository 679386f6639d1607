"""The supervisor's board: its reads in one consistent read, and acknowledging an alert, written
once for both stores.

Alerts, their acknowledgements and who paused a channel are read by index (migration 13): the
open alerts from open_alerts, with no window over the event log (an open one never falls off
the board however many newer ones were acknowledged), the newest acknowledged ones up to a cap,
and who paused a channel from channel_settings.paused_by.
"""

from __future__ import annotations

import json
from datetime import datetime

from inbox.core.board import (
    ALERT_ACKNOWLEDGED,
    Alert,
    AlertAck,
    BoardConversation,
    BoardRows,
    ChannelPause,
    CounselorLink,
    alert_kind,
)
from inbox.core.decisions import QueueDepth
from inbox.core.errors import NotFound
from inbox.core.model import ChannelKind, ConversationId, ConversationStatus, UserId
from storage import events, rows
from storage.assignment import QUEUE_DEPTH
from storage.routing_rows import LOADS, agents_from_rows, channel_loads
from storage.rows import Row, TimeParser
from storage.sql import Database, Dialects, Tx

# The open conversations with a counselor listed: at most MAX_CAPACITY (50) each, for 100
# counselors. Their loads are counted apart (LOADS, as the router counts them), whole.
ASSIGNED_MAX = 5000
_COLUMNS = """
id, contact_id, channel, status, priority, tags, assignee_id,
CASE WHEN status = 'queued' THEN queued_at ELSE awaiting_since END,
first_response_due, next_response_due
"""
WAITING = f"""
SELECT {_COLUMNS} FROM conversations WHERE status = 'queued' AND assignee_id IS NULL
ORDER BY priority DESC, queued_at, id LIMIT $1
"""
ASSIGNED = f"""
SELECT {_COLUMNS} FROM conversations
WHERE status IN ('assigned', 'waiting') AND assignee_id IS NOT NULL
ORDER BY assignee_id, priority DESC, id LIMIT $1
"""
# The router's columns (storage.routing_rows.agents_from_rows), and her connection lease.
AGENTS = """
SELECT id, capacity, presence, shift, skills, languages, teams, channel_capacity,
       last_assigned_at, is_counselor, is_phone_staff, connected_until
FROM users WHERE is_counselor AND NOT disabled ORDER BY id
"""
NAMES = "SELECT id, display_name FROM users"
# Today's waits in seconds: from arrival to the first reply; a conversation closed without one
# counts until it was closed (she waited that long and no longer), one still unanswered until
# now ($2). Computed here, so that no row's times are parsed (date_part: a float8, where
# extract's numeric costs PostgreSQL ten times more).
_WAITS = "SELECT {seconds} FROM conversations WHERE created_at >= $1"
WAITS = Dialects(
    postgres=_WAITS.format(
        seconds="date_part('epoch', coalesce(first_reply_at, closed_at, $2) - created_at)"
    ),
    sqlite=_WAITS.format(
        seconds="round((julianday(coalesce(first_reply_at, closed_at, $2)) - julianday(created_at))"
        " * 86400.0, 3)"
    ),
)
PAUSES = "SELECT channel, updated_at, paused_by FROM channel_settings WHERE paused ORDER BY channel"
# The alert an acknowledgement is of: the expression of the index events_alert_acks.
_ACKED = Dialects(
    postgres="(a.data ->> 'event_id')::bigint", sqlite="json_extract(a.data, '$.event_id')"
)
_EVENT = (
    "events.id, events.at, events.kind, events.actor_id, events.conversation_id, "
    "events.message_id, CAST(events.data AS text)"
)
# The newest open alerts, however old: open_alerts, which the database's triggers keep
# (migration 13), so the cost follows the open ones, not every alert ever acknowledged.
OPEN_ALERTS = f"""
SELECT {_EVENT} FROM open_alerts o JOIN events ON events.id = o.event_id
ORDER BY o.event_id DESC LIMIT $1
"""
# The newest acknowledgements, with their alerts.
_ACKNOWLEDGED = f"""
SELECT {_EVENT}, a.actor_id, a.at FROM events a JOIN events ON events.id = {{acked}}
WHERE a.kind = '{ALERT_ACKNOWLEDGED}' ORDER BY a.id DESC LIMIT $1
"""
ACKNOWLEDGED = Dialects(
    postgres=_ACKNOWLEDGED.format(acked=_ACKED.postgres),
    sqlite=_ACKNOWLEDGED.format(acked=_ACKED.sqlite),
)
_ALERT = "SELECT kind, conversation_id, CAST(data AS text) FROM events WHERE id = $1"
# Two supervisors acknowledging one alert at once take turns: the second finds the first's.
LOCK_ALERT = Dialects(postgres=f"{_ALERT} FOR UPDATE", sqlite=_ALERT)
_ACK_OF = f"""
SELECT a.actor_id, a.at FROM events a WHERE a.kind = '{ALERT_ACKNOWLEDGED}' AND {{acked}} = $1
ORDER BY a.id LIMIT 1
"""
ACK_OF = Dialects(
    postgres=_ACK_OF.format(acked=_ACKED.postgres), sqlite=_ACK_OF.format(acked=_ACKED.sqlite)
)


def _conversation(row: Row, parse: TimeParser) -> BoardConversation:
    first, following = (None if v is None else parse(v) for v in (row[8], row[9]))
    dues = [d for d in (first, following) if d is not None]
    return BoardConversation(
        id=ConversationId(row[0]),
        contact_id=row[1],
        channel=ChannelKind(row[2]),
        status=ConversationStatus(row[3]),
        priority=row[4],
        tags=tuple(rows.json_value(row[5])),
        assignee_id=None if row[6] is None else UserId(row[6]),
        waiting_since=None if row[7] is None else parse(row[7]),
        due=min(dues, default=None),
    )


async def _pauses(tx: Tx) -> tuple[ChannelPause, ...]:
    return tuple(
        ChannelPause(
            channel=ChannelKind(r[0]),
            since=tx.parse_time(r[1]),
            by=None if r[2] is None else UserId(r[2]),
        )
        for r in await tx.fetch(PAUSES)
    )


async def _alerts(tx: Tx, open_ones: int, acknowledged: int) -> tuple[Alert, ...]:
    parse = tx.parse_time
    found = {
        e.id: Alert(event=e, ack=None)
        for e in (rows.event(r, parse) for r in await tx.fetch(OPEN_ALERTS, open_ones))
    }
    # newest acknowledgement first: should an alert have two, the earlier one, read later, stays
    for r in await tx.fetch(ACKNOWLEDGED, acknowledged):
        event = rows.event(r, parse)
        ack = AlertAck(event_id=event.id, by=UserId(r[7]), at=parse(r[8]))
        found[event.id] = Alert(event=event, ack=ack)
    return tuple(found[k] for k in sorted(found, reverse=True))


async def board_rows(
    tx: Tx,
    *,
    day_start: datetime,
    now: datetime,
    waiting: int,
    assigned: int,
    alerts: int,
    acknowledged: int,
) -> BoardRows:
    parse = tx.parse_time
    last = int(await tx.fetchval(events.LAST_EVENT_ID))
    counselors = await tx.fetch(AGENTS)
    depth = [
        QueueDepth(channel=ChannelKind(r[0]), priority=r[1], count=r[2], oldest=parse(r[3]))
        for r in await tx.fetch(QUEUE_DEPTH, now)
    ]
    return BoardRows(
        agents=agents_from_rows(counselors, channel_loads(await tx.fetch(LOADS)), parse),
        names={UserId(r[0]): r[1] for r in await tx.fetch(NAMES)},
        depth=tuple(depth),
        waiting=tuple(_conversation(r, parse) for r in await tx.fetch(WAITING, waiting)),
        assigned=tuple(_conversation(r, parse) for r in await tx.fetch(ASSIGNED, assigned)),
        pauses=await _pauses(tx),
        alerts=await _alerts(tx, alerts, acknowledged),
        links=tuple(
            CounselorLink(
                user_id=UserId(r[0]), connected_until=None if r[11] is None else parse(r[11])
            )
            for r in counselors
        ),
        waits_today_s=tuple(max(0.0, float(r[0])) for r in await tx.fetch(WAITS, day_start, now)),
        event_id=last,
    )


class Board:
    """The BoardStore operations of both stores, over `_db`."""

    _db: Database

    async def board_rows(
        self,
        *,
        day_start: datetime,
        now: datetime,
        waiting: int = 200,
        assigned: int = ASSIGNED_MAX,
        alerts: int = 50,
        acknowledged: int = 20,
    ) -> BoardRows:
        return await self._db.snapshot(
            lambda tx: board_rows(
                tx,
                day_start=day_start,
                now=now,
                waiting=waiting,
                assigned=assigned,
                alerts=alerts,
                acknowledged=acknowledged,
            )
        )

    async def acknowledge_alert(
        self, event_id: int, *, actor_id: UserId, now: datetime
    ) -> AlertAck:
        async def op(tx: Tx) -> AlertAck:
            alert = await tx.fetchrow(LOCK_ALERT, event_id)
            kind = None if alert is None else alert_kind(alert[0], json.loads(alert[2]))
            if alert is None or kind is None:
                raise NotFound(f"alert {event_id} does not exist")
            earlier = await tx.fetchrow(ACK_OF, event_id)
            if earlier is not None:
                return AlertAck(
                    event_id=event_id, by=UserId(earlier[0]), at=tx.parse_time(earlier[1])
                )
            await events.record(
                tx,
                ALERT_ACKNOWLEDGED,
                now,
                actor_id=actor_id,
                conversation_id=alert[1],
                data={"event_id": event_id, "kind": kind},
            )
            return AlertAck(event_id=event_id, by=actor_id, at=now)

        return await self._db.write(op)
