"""Policies on SQLite: automatic replies, discretion, handling times and response deadlines;
synchronous functions run by SqliteStore as ONE call on aiosqlite's thread (see sqlite_routing)."""

from __future__ import annotations

import json
import sqlite3
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
from storage.rows import facts_from_row, format_text_time
from storage.rows import parse_text_time as _parse
from storage.sqlite import sql as q
from storage.sqlite.routing import write_event

CONVERSATION_CONTACT = """
SELECT c.channel, c.status, t.discretion, t.id FROM conversations c
JOIN contacts t ON t.id = c.contact_id WHERE c.id = ?
"""
CLAIM_AUTO_REPLY = """
INSERT INTO auto_replies (conversation_id, kind, sent_at) VALUES (?, ?, ?)
ON CONFLICT (conversation_id, kind) DO NOTHING
"""
LINK_AUTO_REPLY = "UPDATE auto_replies SET message_id = ? WHERE conversation_id = ? AND kind = ?"
SET_DISCRETION = "UPDATE contacts SET discretion = ? WHERE id = ?"


def _contact_of(db: sqlite3.Connection, conversation_id: ConversationId) -> sqlite3.Row:
    row: sqlite3.Row | None = db.execute(CONVERSATION_CONTACT, (conversation_id,)).fetchone()
    if row is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    return row


def claim_auto_reply(
    db: sqlite3.Connection,
    conversation_id: ConversationId,
    kind: str,
    body: str,
    discreet_body: str,
    now: datetime,
) -> int | None:
    channel, status, discretion, _ = _contact_of(db, conversation_id)
    if status == "closed":
        return None
    at = format_text_time(now)
    if db.execute(CLAIM_AUTO_REPLY, (conversation_id, kind, at)).rowcount == 0:
        return None  # sent before: by this process before a restart, or by another instance
    text = discreet_body if discretion else body
    params = (conversation_id, "outbound", channel, text, None, "pending", at)
    message_id = int(db.execute(q.INSERT_MESSAGE, params).fetchone()[0])
    db.execute(q.INSERT_OUTBOX, (message_id, at, at, at))
    db.execute(LINK_AUTO_REPLY, (message_id, conversation_id, kind))
    data: dict[str, object] = {"kind": kind, "discreet": bool(discretion)}
    write_event(
        db,
        "auto_reply_queued",
        now,
        conversation_id=conversation_id,
        message_id=message_id,
        data=data,
    )
    return message_id


def set_discretion(
    db: sqlite3.Connection,
    conversation_id: ConversationId,
    discretion: bool,
    actor_id: UserId,
    now: datetime,
) -> None:
    contact_id = _contact_of(db, conversation_id)[3]
    db.execute(SET_DISCRETION, (int(discretion), contact_id))
    write_event(
        db,
        "discretion_set" if discretion else "discretion_cleared",
        now,
        actor_id=actor_id,
        conversation_id=conversation_id,
    )


# Open conversations that never had the auto-reply `kind`: the auto-replier's pending work is
# derivable from them after a restart, since it is only queued after the intake's commit.
UNREPLIED_ARRIVALS = """
SELECT c.id, c.channel, c.last_inbound_at FROM conversations c
WHERE c.status <> 'closed' AND c.last_inbound_at >= ?2
  AND NOT EXISTS (SELECT 1 FROM auto_replies a WHERE a.conversation_id = c.id AND a.kind = ?1)
ORDER BY c.id
"""


DUE_RULE_REPLIES = """
SELECT c.id, c.channel, e.at, e.data FROM conversations c
JOIN events e ON e.conversation_id = c.id AND e.kind = 'auto_reply_due'
WHERE c.status <> 'closed' AND c.last_inbound_at >= ?1
ORDER BY e.id
"""


def due_rule_replies(db: sqlite3.Connection, since: datetime) -> list[LastArrival]:
    found = db.execute(DUE_RULE_REPLIES, (format_text_time(since),)).fetchall()
    return [
        LastArrival(
            conversation_id=ConversationId(r[0]),
            channel=ChannelKind(r[1]),
            received_at=_parse(r[2]),
            templates=tuple(json.loads(r[3]).get("templates", ())),
        )
        for r in found
    ]


def unreplied_arrivals(db: sqlite3.Connection, kind: str, since: datetime) -> list[LastArrival]:
    found = db.execute(UNREPLIED_ARRIVALS, (kind, format_text_time(since))).fetchall()
    return [
        LastArrival(
            conversation_id=ConversationId(r[0]),
            channel=ChannelKind(r[1]),
            received_at=_parse(r[2]),
        )
        for r in found
    ]


# How long counselors recently took per conversation, from her taking it to closing it.
RECENT_HANDLING = """
SELECT avg(julianday(closed_at) - julianday(coalesce(offered_at, created_at))) * 86400.0
FROM (SELECT closed_at, offered_at, created_at FROM conversations
      WHERE status = 'closed' AND closed_at IS NOT NULL ORDER BY closed_at DESC LIMIT ?)
"""


def recent_handling_s(db: sqlite3.Connection, limit: int) -> float | None:
    value = db.execute(RECENT_HANDLING, (limit,)).fetchone()[0]
    return None if value is None else float(value)


AWAITING = """
SELECT id, channel, priority, awaiting_since, first_reply_at, first_response_due,
       next_response_due, warned_at, escalated_at
FROM conversations WHERE status <> 'closed' AND awaiting_since IS NOT NULL
ORDER BY awaiting_since LIMIT ?
"""
SET_DUE = "UPDATE conversations SET first_response_due = ?, next_response_due = ? WHERE id = ?"
# Conditional on the column still being empty, so two instances record an alarm once.
WARNED = "UPDATE conversations SET warned_at = ?1 WHERE id = ?2 AND warned_at IS NULL"
# Breached: urgent now, open to anyone (declined_by cleared), and an offer nobody opened goes
# back to the queue so that any eligible counselor can take it.
ESCALATED = """
UPDATE conversations SET escalated_at = ?1, priority = max(priority, ?2), declined_by = '[]',
    status = CASE WHEN status = 'assigned' AND opened_at IS NULL THEN 'queued' ELSE status END,
    assignee_id = CASE WHEN status = 'assigned' AND opened_at IS NULL THEN NULL
                       ELSE assignee_id END,
    updated_at = ?1
WHERE id = ?3 AND escalated_at IS NULL
"""


def awaiting_answers(db: sqlite3.Connection, limit: int) -> list[AwaitingAnswer]:
    def t(v: Any) -> datetime | None:
        return None if v is None else _parse(v)

    return [
        AwaitingAnswer(
            id=ConversationId(r[0]),
            channel=ChannelKind(r[1]),
            priority=r[2],
            awaiting_since=t(r[3]),
            first_reply_at=t(r[4]),
            first_response_due=t(r[5]),
            next_response_due=t(r[6]),
            warned_at=t(r[7]),
            escalated_at=t(r[8]),
        )
        for r in db.execute(AWAITING, (limit,))
    ]


def apply_deadlines(
    db: sqlite3.Connection,
    changes: Sequence[DeadlineChange],
    urgent_priority: int,
    now: datetime,
) -> list[DeadlineChange]:
    """Write the due times; record each alarm once. Returns the alarms recorded here."""
    at = format_text_time(now)

    def opt(v: datetime | None) -> str | None:
        return None if v is None else format_text_time(v)

    db.executemany(
        SET_DUE,
        [(opt(c.first_response_due), opt(c.next_response_due), c.conversation_id) for c in changes],
    )
    recorded = []
    for c in changes:
        if c.alarm is None:
            continue
        if c.alarm == "breach":
            cur = db.execute(ESCALATED, (at, urgent_priority, c.conversation_id))
        else:
            cur = db.execute(WARNED, (at, c.conversation_id))
        if cur.rowcount:
            due = c.first_response_due or c.next_response_due
            kind = "deadline_breached" if c.alarm == "breach" else "deadline_warning"
            data: dict[str, object] = {
                "due": None if due is None else due.isoformat(),
                "first": bool(c.first_response_due),
            }
            write_event(db, kind, now, conversation_id=c.conversation_id, data=data)
            recorded.append(c)
    return recorded


CONTACT_ADDRESS = """
SELECT c.channel, i.address, t.anonymity, t.discretion FROM conversations c
JOIN channel_identities i ON i.id = c.identity_id
JOIN contacts t ON t.id = c.contact_id WHERE c.id = ?
"""
SET_ANONYMITY = "UPDATE contacts SET anonymity = ? WHERE id = ?"
CONTACT_FACTS = """
SELECT i.channel, i.identity_hash, t.anonymity, t.discretion,
       EXISTS (SELECT 1 FROM conversations v WHERE v.contact_id = t.id AND v.status = 'closed')
FROM channel_identities i JOIN contacts t ON t.id = i.contact_id
WHERE (i.channel, i.identity_hash) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?))
"""


def contact_facts(
    db: sqlite3.Connection, identities: Sequence[tuple[ChannelKind, str]]
) -> dict[tuple[ChannelKind, str], ContactFacts]:
    wanted = json.dumps([(c.value, h) for c, h in identities])
    return {
        (ChannelKind(r[0]), r[1]): facts_from_row(r[2], r[3], r[4])
        for r in db.execute(CONTACT_FACTS, (wanted,))
    }


def contact_address(db: sqlite3.Connection, conversation_id: ConversationId) -> ContactAddress:
    row = db.execute(CONTACT_ADDRESS, (conversation_id,)).fetchone()
    if row is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    return ContactAddress(
        conversation_id=conversation_id,
        channel=ChannelKind(row[0]),
        address=row[1],
        anonymity=None if row[2] is None else Anonymity(row[2]),
        discretion=bool(row[3]),
    )


def set_anonymity(
    db: sqlite3.Connection,
    conversation_id: ConversationId,
    mode: Anonymity | None,
    actor_id: UserId,
    now: datetime,
) -> None:
    contact_id = _contact_of(db, conversation_id)[3]
    db.execute(SET_ANONYMITY, (None if mode is None else mode.value, contact_id))
    data: dict[str, object] = {"mode": None if mode is None else mode.value}
    write_event(
        db, "anonymity_set", now, actor_id=actor_id, conversation_id=conversation_id, data=data
    )
