"""The supervisor's board: its reads in one consistent read, and acknowledging an alert, written
once for both stores.

Alerts, their acknowledgements and who paused a channel come from the event log, read over a
range of its primary key (the newest ALERT_WINDOW events), so that the board's cost stays flat
however long the log grows; no index on the event kind is needed.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime

from inbox.core.board import (
    ALERT_ACKNOWLEDGED,
    ALERT_KINDS,
    ALERT_WINDOW,
    Alert,
    AlertAck,
    BoardConversation,
    BoardRows,
    ChannelPause,
    CounselorLink,
    alert_kind,
    waits,
)
from inbox.core.decisions import QueueDepth
from inbox.core.errors import NotFound
from inbox.core.model import ChannelKind, ConversationId, ConversationStatus, UserId
from storage import events, rows
from storage.assignment import QUEUE_DEPTH
from storage.routing_rows import agents_from_rows
from storage.rows import Row, TimeParser
from storage.sql import Database, Dialects, Tx

# Every open conversation with a counselor (her load is counted from them): at most MAX_CAPACITY
# (50) each, for 100 counselors.
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
       last_assigned_at, connected_until
FROM users WHERE is_counselor AND NOT disabled ORDER BY id
"""
NAMES = "SELECT id, display_name FROM users"
ARRIVALS = "SELECT created_at, first_reply_at FROM conversations WHERE created_at >= $1"
PAUSES = "SELECT channel, updated_at FROM channel_settings WHERE paused ORDER BY channel"
PAUSED_BY = """
SELECT CAST(data AS text), actor_id FROM events
WHERE id > $1 AND kind = 'channel_paused' ORDER BY id DESC
"""
_KINDS = ", ".join(f"'{k}'" for k in ALERT_KINDS)
_ALERTS = f"""
SELECT id, at, kind, actor_id, conversation_id, message_id, CAST(data AS text) FROM events
WHERE id > $1 AND (kind IN ({_KINDS}) OR (kind = 'conversation_assigned' AND {{on_call}}))
ORDER BY id DESC LIMIT $2
"""
ALERTS = Dialects(
    postgres=_ALERTS.format(on_call=f"data ->> 'via' = '{events.VIA_ON_CALL}'"),
    sqlite=_ALERTS.format(on_call=f"json_extract(data, '$.via') = '{events.VIA_ON_CALL}'"),
)
ACKS = f"""
SELECT CAST(data AS text), actor_id, at FROM events
WHERE id > $1 AND kind = '{ALERT_ACKNOWLEDGED}' ORDER BY id
"""
_ALERT = "SELECT kind, conversation_id, CAST(data AS text) FROM events WHERE id = $1"
# Two supervisors acknowledging one alert at once take turns: the second finds the first's.
LOCK_ALERT = Dialects(postgres=f"{_ALERT} FOR UPDATE", sqlite=_ALERT)
ACK_OF = Dialects(
    postgres=f"""
SELECT actor_id, at FROM events WHERE id > $1 AND kind = '{ALERT_ACKNOWLEDGED}'
  AND (data ->> 'event_id')::bigint = $1 ORDER BY id LIMIT 1
""",
    sqlite=f"""
SELECT actor_id, at FROM events WHERE id > $1 AND kind = '{ALERT_ACKNOWLEDGED}'
  AND json_extract(data, '$.event_id') = $1 ORDER BY id LIMIT 1
""",
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


async def _pauses(tx: Tx, floor: int) -> tuple[ChannelPause, ...]:
    paused = await tx.fetch(PAUSES)
    if not paused:
        return ()
    by: dict[str, UserId | None] = {}
    for data, actor_id in await tx.fetch(PAUSED_BY, floor):
        by.setdefault(json.loads(data).get("channel"), actor_id)
    return tuple(
        ChannelPause(channel=ChannelKind(r[0]), since=tx.parse_time(r[1]), by=by.get(r[0]))
        for r in paused
    )


async def _alerts(tx: Tx, floor: int, limit: int) -> tuple[Alert, ...]:
    found = [rows.event(r, tx.parse_time) for r in await tx.fetch(ALERTS, floor, limit)]
    if not found:
        return ()
    acks: dict[int, AlertAck] = {}
    for data, actor_id, at in await tx.fetch(ACKS, min(e.id for e in found) - 1):
        alert_id = json.loads(data).get("event_id")
        if isinstance(alert_id, int) and alert_id not in acks:
            acks[alert_id] = AlertAck(event_id=alert_id, by=UserId(actor_id), at=tx.parse_time(at))
    return tuple(Alert(event=e, ack=acks.get(e.id)) for e in found)


def _loads(assigned: tuple[BoardConversation, ...]) -> dict[tuple[int, str], int]:
    loads: Counter[tuple[int, str]] = Counter()
    for conv in assigned:
        if conv.assignee_id is not None:
            loads[(conv.assignee_id, conv.channel.value)] += 1
    return dict(loads)


async def board_rows(
    tx: Tx, *, day_start: datetime, now: datetime, waiting: int, assigned: int, alerts: int
) -> BoardRows:
    parse = tx.parse_time
    last = int(await tx.fetchval(events.LAST_EVENT_ID))
    floor = max(0, last - ALERT_WINDOW)
    arrivals = [
        (parse(r[0]), None if r[1] is None else parse(r[1]))
        for r in await tx.fetch(ARRIVALS, day_start)
    ]
    theirs = tuple(_conversation(r, parse) for r in await tx.fetch(ASSIGNED, assigned))
    counselors = await tx.fetch(AGENTS)
    depth = [
        QueueDepth(channel=ChannelKind(r[0]), priority=r[1], count=r[2], oldest=parse(r[3]))
        for r in await tx.fetch(QUEUE_DEPTH)
    ]
    return BoardRows(
        agents=agents_from_rows(counselors, _loads(theirs), parse),
        names={UserId(r[0]): r[1] for r in await tx.fetch(NAMES)},
        depth=tuple(depth),
        waiting=tuple(_conversation(r, parse) for r in await tx.fetch(WAITING, waiting)),
        assigned=theirs,
        pauses=await _pauses(tx, floor),
        alerts=await _alerts(tx, floor, alerts),
        links=tuple(
            CounselorLink(
                user_id=UserId(r[0]), connected_until=None if r[9] is None else parse(r[9])
            )
            for r in counselors
        ),
        waits_today_s=waits(arrivals, now),
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
    ) -> BoardRows:
        return await self._db.read(
            lambda tx: board_rows(
                tx, day_start=day_start, now=now, waiting=waiting, assigned=assigned, alerts=alerts
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
