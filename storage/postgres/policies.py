"""Policies on PostgreSQL: automatic replies, discretion, handling times and response
deadlines, over one asyncpg connection in PostgresStore's transaction (mirrors sqlite_policies)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from inbox.core.errors import NotFound
from inbox.core.model import (
    Anonymity,
    AwaitingAnswer,
    ChannelKind,
    ContactAddress,
    ContactFacts,
    ConversationId,
    DeadlineChange,
    LastArrival,
    UserId,
)
from storage.postgres import sql as q
from storage.rows import facts_from_row

CONVERSATION_CONTACT = """
SELECT c.channel, c.status, t.discretion, t.id FROM conversations c
JOIN contacts t ON t.id = c.contact_id WHERE c.id = $1
"""
# The primary key of auto_replies is the once-per-conversation guarantee, across restarts and
# instances: the loser of a race inserts nothing and sends nothing.
CLAIM_AUTO_REPLY = """
INSERT INTO auto_replies (conversation_id, kind, sent_at) VALUES ($1, $2, $3)
ON CONFLICT (conversation_id, kind) DO NOTHING RETURNING kind
"""
QUEUE_AUTO_REPLY = """
WITH m AS (
    INSERT INTO messages (conversation_id, direction, channel, body, delivery_status, created_at)
    VALUES ($1, 'outbound', $2, $3, 'pending', $4)
    RETURNING id
), o AS (
    INSERT INTO outbox (message_id, status, due_at, created_at, updated_at)
    SELECT id, 'pending', $4, $4, $4 FROM m
), a AS (
    UPDATE auto_replies SET message_id = (SELECT id FROM m) WHERE conversation_id = $1 AND kind = $5
), e AS (
    INSERT INTO events (at, kind, conversation_id, message_id, data)
    SELECT $4, 'auto_reply_queued', $1, id, $6::jsonb FROM m
)
SELECT id FROM m
"""
SET_DISCRETION = "UPDATE contacts SET discretion = $2 WHERE id = $1"


async def _contact_of(conn: Any, conversation_id: ConversationId) -> Any:
    row = await conn.fetchrow(CONVERSATION_CONTACT, conversation_id)
    if row is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    return row


async def claim_auto_reply(
    conn: Any,
    conversation_id: ConversationId,
    kind: str,
    body: str,
    discreet_body: str,
    now: datetime,
) -> int | None:
    channel, status, discretion, _ = await _contact_of(conn, conversation_id)
    if (
        status == "closed"
        or await conn.fetchval(CLAIM_AUTO_REPLY, conversation_id, kind, now) is None
    ):
        return None
    text = discreet_body if discretion else body
    data = json.dumps({"kind": kind, "discreet": discretion})
    return int(
        await conn.fetchval(QUEUE_AUTO_REPLY, conversation_id, channel, text, now, kind, data)
    )


async def set_discretion(
    conn: Any, conversation_id: ConversationId, discretion: bool, actor_id: UserId, now: datetime
) -> None:
    contact_id = (await _contact_of(conn, conversation_id))[3]
    await conn.execute(SET_DISCRETION, contact_id, discretion)
    kind = "discretion_set" if discretion else "discretion_cleared"
    await conn.execute(q.INSERT_EVENT, now, kind, actor_id, conversation_id, None, "{}")


# Open conversations that never had the auto-reply `kind`: the auto-replier's pending work is
# derivable from them after a restart, since it is only queued after the intake's commit.
UNREPLIED_ARRIVALS = """
SELECT c.id, c.channel, c.last_inbound_at FROM conversations c
WHERE c.status <> 'closed' AND c.last_inbound_at >= $2
  AND NOT EXISTS (SELECT 1 FROM auto_replies a WHERE a.conversation_id = c.id AND a.kind = $1)
ORDER BY c.id
"""


DUE_RULE_REPLIES = """
SELECT c.id, c.channel, e.at, e.data->'templates' FROM conversations c
JOIN events e ON e.conversation_id = c.id AND e.kind = 'auto_reply_due'
WHERE c.status <> 'closed' AND c.last_inbound_at >= $1
ORDER BY e.id
"""


async def due_rule_replies(conn: Any, since: datetime) -> list[LastArrival]:
    return [
        LastArrival(
            conversation_id=ConversationId(r[0]),
            channel=ChannelKind(r[1]),
            received_at=r[2],
            templates=tuple(json.loads(r[3]) if r[3] else ()),
        )
        for r in await conn.fetch(DUE_RULE_REPLIES, since)
    ]


async def unreplied_arrivals(conn: Any, kind: str, since: datetime) -> list[LastArrival]:
    return [
        LastArrival(
            conversation_id=ConversationId(r[0]), channel=ChannelKind(r[1]), received_at=r[2]
        )
        for r in await conn.fetch(UNREPLIED_ARRIVALS, kind, since)
    ]


# How long counselors recently took per conversation, from her taking it to closing it.
RECENT_HANDLING = """
SELECT avg(extract(epoch FROM closed_at - coalesce(offered_at, created_at)))::float8
FROM (SELECT closed_at, offered_at, created_at FROM conversations
      WHERE status = 'closed' AND closed_at IS NOT NULL ORDER BY closed_at DESC LIMIT $1) AS c
"""


async def recent_handling_s(conn: Any, limit: int) -> float | None:
    value = await conn.fetchval(RECENT_HANDLING, limit)
    return None if value is None else float(value)


AWAITING = """
SELECT id, channel, priority, awaiting_since, first_reply_at, first_response_due,
       next_response_due, warned_at, escalated_at
FROM conversations WHERE status <> 'closed' AND awaiting_since IS NOT NULL
ORDER BY awaiting_since LIMIT $1
"""
SET_DUE = """
UPDATE conversations c SET first_response_due = u.first_due, next_response_due = u.next_due
FROM unnest($1::bigint[], $2::timestamptz[], $3::timestamptz[]) AS u(id, first_due, next_due)
WHERE c.id = u.id
"""
# Conditional on the column still being empty, so two instances record an alarm once.
WARNED = """
UPDATE conversations SET warned_at = $2 WHERE id = $1 AND warned_at IS NULL RETURNING id
"""
# Breached: urgent now, open to anyone (declined_by cleared), and an offer nobody opened goes
# back to the queue so that any eligible counselor can take it.
ESCALATED = """
UPDATE conversations SET escalated_at = $2, priority = greatest(priority, $3),
    declined_by = '{}', updated_at = $2,
    status = CASE WHEN status = 'assigned' AND opened_at IS NULL THEN 'queued' ELSE status END,
    assignee_id = CASE WHEN status = 'assigned' AND opened_at IS NULL THEN NULL
                       ELSE assignee_id END
WHERE id = $1 AND escalated_at IS NULL RETURNING id
"""


async def awaiting_answers(conn: Any, limit: int) -> list[AwaitingAnswer]:
    return [
        AwaitingAnswer(
            id=ConversationId(r[0]),
            channel=ChannelKind(r[1]),
            priority=r[2],
            awaiting_since=r[3],
            first_reply_at=r[4],
            first_response_due=r[5],
            next_response_due=r[6],
            warned_at=r[7],
            escalated_at=r[8],
        )
        for r in await conn.fetch(AWAITING, limit)
    ]


async def apply_deadlines(
    conn: Any, changes: Sequence[DeadlineChange], urgent_priority: int, now: datetime
) -> list[DeadlineChange]:
    await conn.execute(
        SET_DUE,
        [c.conversation_id for c in changes],
        [c.first_response_due for c in changes],
        [c.next_response_due for c in changes],
    )
    recorded = []
    for c in changes:
        if c.alarm is None:
            continue
        if c.alarm == "breach":
            done = await conn.fetchval(ESCALATED, c.conversation_id, now, urgent_priority)
        else:
            done = await conn.fetchval(WARNED, c.conversation_id, now)
        if done is None:
            continue
        due = c.first_response_due or c.next_response_due
        kind = "deadline_breached" if c.alarm == "breach" else "deadline_warning"
        data = json.dumps(
            {"due": None if due is None else due.isoformat(), "first": bool(c.first_response_due)}
        )
        await conn.execute(q.INSERT_EVENT, now, kind, None, c.conversation_id, None, data)
        recorded.append(c)
    return recorded


CONTACT_ADDRESS = """
SELECT c.channel, i.address, t.anonymity, t.discretion FROM conversations c
JOIN channel_identities i ON i.id = c.identity_id
JOIN contacts t ON t.id = c.contact_id WHERE c.id = $1
"""
SET_ANONYMITY = "UPDATE contacts SET anonymity = $2 WHERE id = $1"
CONTACT_FACTS = """
SELECT i.channel, i.identity_hash, t.anonymity, t.discretion,
       EXISTS (SELECT 1 FROM conversations v WHERE v.contact_id = t.id AND v.status = 'closed')
FROM channel_identities i JOIN contacts t ON t.id = i.contact_id
JOIN unnest($1::text[], $2::text[]) AS k(channel, identity_hash)
  ON i.channel = k.channel AND i.identity_hash = k.identity_hash
"""


async def contact_facts(
    conn: Any, identities: Sequence[tuple[ChannelKind, str]]
) -> dict[tuple[ChannelKind, str], ContactFacts]:
    rows = await conn.fetch(
        CONTACT_FACTS, [c.value for c, _ in identities], [h for _, h in identities]
    )
    return {(ChannelKind(r[0]), r[1]): facts_from_row(r[2], r[3], r[4]) for r in rows}


async def contact_address(conn: Any, conversation_id: ConversationId) -> ContactAddress:
    row = await conn.fetchrow(CONTACT_ADDRESS, conversation_id)
    if row is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    return ContactAddress(
        conversation_id=conversation_id,
        channel=ChannelKind(row[0]),
        address=row[1],
        anonymity=None if row[2] is None else Anonymity(row[2]),
        discretion=bool(row[3]),
    )


async def set_anonymity(
    conn: Any,
    conversation_id: ConversationId,
    mode: Anonymity | None,
    actor_id: UserId,
    now: datetime,
) -> None:
    contact_id = (await _contact_of(conn, conversation_id))[3]
    await conn.execute(SET_ANONYMITY, contact_id, None if mode is None else mode.value)
    data = json.dumps({"mode": None if mode is None else mode.value})
    await conn.execute(q.INSERT_EVENT, now, "anonymity_set", actor_id, conversation_id, None, data)
