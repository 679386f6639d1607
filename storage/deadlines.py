"""Response deadlines and handling times: the deadline pass's reads and writes, written once.

The watcher (inbox.deadlines) reads every waiting conversation once when it starts, page by
page, and afterwards only those that events say changed: each read is one statement over the
primary key, and each write one statement for all due times plus one per alarm.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from inbox.core.decisions import AwaitingAnswer, DeadlineChange
from inbox.core.model import ChannelKind, ConversationId
from storage import events, rows
from storage.events import EventRow
from storage.sql import Database, Dialects, Tx

# A few conversations' ids in $1: an array on PostgreSQL, a JSON array on SQLite.
_PG_IDS, _SQLITE_IDS = "= ANY($1::bigint[])", "IN (SELECT value FROM json_each($1))"
_AWAITING = """
SELECT id, channel, priority, awaiting_since, first_reply_at, first_response_due,
       next_response_due, warned_at, escalated_at
FROM conversations WHERE status <> 'closed' AND awaiting_since IS NOT NULL AND id {which}
"""
# Every one, a page at a time in id order (keyset: each page starts where the last ended).
AWAITING = _AWAITING.format(which="> $1 ORDER BY id LIMIT $2")
# Those of a few conversations (the ones events said changed; the ones whose alarm is due).
AWAITING_AMONG = Dialects(
    postgres=_AWAITING.format(which=_PG_IDS), sqlite=_AWAITING.format(which=_SQLITE_IDS)
)
# All due times in one statement, from one JSON array of [id, first due, next due], the times
# as the fixed-width UTC text SQLite keeps (storage.rows.format_text_time), which PostgreSQL
# reads as timestamptz. Not three parallel lists: SQLite would pick each row's value out of a
# whole list's JSON text (`$2 ->> key`), a cost that grows with the square of the changes.
SET_DUE = Dialects(
    postgres="""
UPDATE conversations c
SET first_response_due = (u.due ->> 1)::timestamptz, next_response_due = (u.due ->> 2)::timestamptz
FROM jsonb_array_elements($1::jsonb) AS u(due)
WHERE c.id = (u.due ->> 0)::bigint
""",
    sqlite="""
UPDATE conversations SET first_response_due = u.value ->> 1, next_response_due = u.value ->> 2
FROM json_each($1) AS u WHERE conversations.id = u.value ->> 0
""",
)
# The alarms of a pass, one statement of each kind for all its conversations (their ids, $1).
# One statement per alarm held SQLite's single writer for 80-130 ms when a few hundred came due
# together (the intake's acks waited behind it), and on PostgreSQL kept their rows locked
# across a round trip each. Conditional on the column still being empty, so two instances
# record an alarm once: what RETURNING gives is what this pass recorded.
_WARNED = (
    "UPDATE conversations SET warned_at = $2 WHERE id {ids} AND warned_at IS NULL RETURNING id"
)
# Breached: urgent now, open to anyone (declined_by cleared: $4 is an empty list), and an offer
# nobody opened goes back to the queue so that any eligible counselor can take it.
_ESCALATED = """
UPDATE conversations SET escalated_at = $2, updated_at = $2, declined_by = $4,
    priority = CASE WHEN priority > $3 THEN priority ELSE $3 END,
    status = CASE WHEN status = 'assigned' AND opened_at IS NULL THEN 'queued' ELSE status END,
    assignee_id = CASE WHEN status = 'assigned' AND opened_at IS NULL THEN NULL
                       ELSE assignee_id END
WHERE id {ids} AND escalated_at IS NULL RETURNING id
"""
WARNED = Dialects(postgres=_WARNED.format(ids=_PG_IDS), sqlite=_WARNED.format(ids=_SQLITE_IDS))
ESCALATED = Dialects(
    postgres=_ESCALATED.format(ids=_PG_IDS), sqlite=_ESCALATED.format(ids=_SQLITE_IDS)
)
# How long counselors recently took per conversation, from her taking it to closing it.
_RECENT_CLOSED = """
FROM (SELECT closed_at, offered_at, created_at FROM conversations
      WHERE status = 'closed' AND closed_at IS NOT NULL ORDER BY closed_at DESC LIMIT $1) AS c
"""
RECENT_HANDLING = Dialects(
    postgres="SELECT avg(extract(epoch FROM closed_at - coalesce(offered_at, created_at)))::float8"
    + _RECENT_CLOSED,
    sqlite="SELECT avg(julianday(closed_at) - julianday(coalesce(offered_at, created_at)))"
    " * 86400.0" + _RECENT_CLOSED,
)


def _text_time(value: datetime | None) -> str | None:
    return None if value is None else rows.format_text_time(value)


def awaiting_answer(row: rows.Row, parse: rows.TimeParser) -> AwaitingAnswer:
    """A row of AWAITING."""

    def t(value: object) -> datetime | None:
        return None if value is None else parse(value)

    return AwaitingAnswer(
        id=ConversationId(row[0]),
        channel=ChannelKind(row[1]),
        priority=row[2],
        awaiting_since=t(row[3]),
        first_reply_at=t(row[4]),
        first_response_due=t(row[5]),
        next_response_due=t(row[6]),
        warned_at=t(row[7]),
        escalated_at=t(row[8]),
    )


async def apply_deadlines(
    tx: Tx, changes: Sequence[DeadlineChange], urgent_priority: int, now: datetime
) -> list[DeadlineChange]:
    """Write the due times; record each alarm once. Returns the alarms recorded here."""
    due_times = [
        [c.conversation_id, _text_time(c.first_response_due), _text_time(c.next_response_due)]
        for c in changes
    ]
    await tx.execute(SET_DUE, json.dumps(due_times))
    breached = [c.conversation_id for c in changes if c.alarm == "breach"]
    warned = [c.conversation_id for c in changes if c.alarm == "warn"]
    done: set[int] = set()
    if breached:
        done.update(r[0] for r in await tx.fetch(ESCALATED, breached, now, urgent_priority, []))
    if warned:
        done.update(r[0] for r in await tx.fetch(WARNED, warned, now))
    # the others were recorded before, by this instance or another
    recorded = [c for c in changes if c.alarm is not None and c.conversation_id in done]
    alarms: list[EventRow] = []
    for c in recorded:
        due = c.first_response_due or c.next_response_due
        data: dict[str, object] = {
            "due": None if due is None else due.isoformat(),
            "first": bool(c.first_response_due),
        }
        kind = "deadline_breached" if c.alarm == "breach" else "deadline_warning"
        alarms.append(
            EventRow(now, kind, conversation_id=c.conversation_id, data=events.data_json(data))
        )
    await events.record_many(tx, alarms)
    return recorded


class Deadlines:
    """The deadline operations of both stores, over `_db`."""

    _db: Database

    async def awaiting_answers(self, *, after: int = 0, limit: int = 1000) -> list[AwaitingAnswer]:
        found = await self._db.read(lambda tx: tx.fetch(AWAITING, after, limit))
        return [awaiting_answer(r, self._db.parse_time) for r in found]

    async def awaiting_among(self, ids: Sequence[ConversationId]) -> list[AwaitingAnswer]:
        if not ids:
            return []
        found = await self._db.read(lambda tx: tx.fetch(AWAITING_AMONG, list(ids)))
        return [awaiting_answer(r, self._db.parse_time) for r in found]

    async def apply_deadlines(
        self, changes: Sequence[DeadlineChange], *, urgent_priority: int, now: datetime
    ) -> list[DeadlineChange]:
        if not changes:
            return []
        return await self._db.write(lambda tx: apply_deadlines(tx, changes, urgent_priority, now))

    async def recent_handling_s(self, *, limit: int = 50) -> float | None:
        value = await self._db.read(lambda tx: tx.fetchval(RECENT_HANDLING, limit))
        return None if value is None else float(value)
