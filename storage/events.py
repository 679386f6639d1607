"""The event log: every change writes its events here, in the change's own transaction.

One function writes them on both stores (record_many; record for one), so the rule of what an
event row holds lives in one place. Reading the log as a live tail differs by dialect
(storage.sqlite.store, storage.postgres.feed).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from inbox.core.audit import CONVERSATION_READ, Actors, AuditQuery, StandingRead
from inbox.core.model import ConversationId, Event, UserId
from storage import rows
from storage.sql import Database, Dialects, Tx

COLUMNS = ("at", "kind", "actor_id", "conversation_id", "message_id", "data")
_WITHOUT_ACTOR = ("at", "kind", "conversation_id", "message_id", "data")
LAST_EVENT_ID = "SELECT coalesce(max(id), 0) FROM events"
LIST_EVENTS = """
SELECT id, at, kind, actor_id, conversation_id, message_id, CAST(data AS text) FROM events
WHERE id > $1 ORDER BY id LIMIT $2
"""
NO_DATA = "{}"
# Has she read it lately (inbox.core.audit.READ_COALESCE): found by the conversation's index.
# Her latest read of it after $3, if any (the end of a range of events_reads).
READ_LATELY = """
SELECT max(at) FROM events
WHERE conversation_id = $1 AND kind = 'conversation_read' AND actor_id = $2 AND at > $3
"""
# The audit log is put together from these, each filter with its own placeholder: a filter the
# query leaves out is not in its text, so each plan is made for the filters it has.
_AUDIT = LIST_EVENTS.split("WHERE", 1)[0].strip()
_KIND_IN = Dialects(
    postgres="kind = ANY(CAST({} AS text[]))", sqlite="kind IN (SELECT value FROM json_each({}))"
)
# conversation_assigned `via`: the router handed it to the person on call (Store.assign on_call).
VIA_ON_CALL = "on_call"


class EventRow(NamedTuple):
    """One row of the events table as written; `data` is its JSON text. `at` may be the text
    SQLite keeps a time as (its intake formats each message's time once)."""

    at: datetime | str
    kind: str
    actor_id: int | None = None
    conversation_id: int | None = None
    message_id: int | None = None
    data: str = NO_DATA


def data_json(data: dict[str, object] | None) -> str:
    return json.dumps(data, ensure_ascii=False) if data else NO_DATA


async def record_many(tx: Tx, events: Sequence[EventRow]) -> None:
    """Write the events in order, in as few statements as the driver can (COPY on PostgreSQL)."""
    if not events:  # an empty COPY would still fire PostgreSQL's NOTIFY trigger
        return
    if any(e.actor_id is not None for e in events):
        await tx.insert_rows("events", COLUMNS, [tuple(e) for e in events])
    else:
        # Plain tuples, and no actor column when none has one: sqlite3 binds a named tuple's
        # fields and a NULL each far slower (an intake batch's 340 events: 2.0 -> 1.0 ms).
        await tx.insert_rows(
            "events",
            _WITHOUT_ACTOR,
            [(e.at, e.kind, e.conversation_id, e.message_id, e.data) for e in events],
        )


async def record(
    tx: Tx,
    kind: str,
    at: datetime,
    *,
    actor_id: int | None = None,
    conversation_id: int | None = None,
    message_id: int | None = None,
    data: dict[str, object] | None = None,
) -> None:
    await record_many(
        tx, [EventRow(at, kind, actor_id, conversation_id, message_id, data_json(data))]
    )


async def list_events(tx: Tx, after_id: int, limit: int) -> list[Event]:
    return [rows.event(r, tx.parse_time) for r in await tx.fetch(LIST_EVENTS, after_id, limit)]


def audit_statement(q: AuditQuery) -> tuple[Dialects, list[Any]]:
    """The statement that answers `q`, newest first, and its arguments."""
    args: list[Any] = []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    where: list[str] = []
    kinds = ""
    if q.actor_id is not None:
        where.append(f"actor_id = {arg(q.actor_id)}")
    elif q.actors is Actors.STAFF:
        where.append("actor_id IS NOT NULL")
    elif q.actors is Actors.SYSTEM:
        where.append("actor_id IS NULL")
    if (asked := q.kinds_asked()) is not None:
        kinds = arg(list(asked))  # an empty list selects nothing
    if q.accounts_only:
        where.append("conversation_id IS NULL")
    if q.conversation_id is not None:
        where.append(f"conversation_id = {arg(q.conversation_id)}")
    if q.at_from is not None:
        where.append(f"at >= {arg(q.at_from)}")
    if q.at_before is not None:
        where.append(f"at < {arg(q.at_before)}")
    if q.before_id is not None:
        where.append(f"id < {arg(q.before_id)}")
    tail = f" ORDER BY id DESC LIMIT {arg(q.limit)}"

    def text(kind_in: str) -> str:
        found = [*where, kind_in.format(kinds)] if kinds else where
        return _AUDIT + (" WHERE " + " AND ".join(found) if found else "") + tail

    return Dialects(postgres=text(_KIND_IN.postgres), sqlite=text(_KIND_IN.sqlite)), args


async def record_read(
    tx: Tx, conversation_id: int, actor_id: int, now: datetime, *, since: datetime
) -> StandingRead:
    """The conversation_read event, unless she read it after `since`."""
    lately = await tx.fetchval(READ_LATELY, conversation_id, actor_id, since)
    if lately is not None:
        return StandingRead(written=False, at=tx.parse_time(lately))
    await record(tx, CONVERSATION_READ, now, actor_id=actor_id, conversation_id=conversation_id)
    return StandingRead(written=True, at=now)


class Events:
    """The EventLog operations both stores share (the live tail is per dialect)."""

    _db: Database

    async def list_events(self, *, after_id: int = 0, limit: int = 500) -> list[Event]:
        return await self._db.read(lambda tx: list_events(tx, after_id, limit))

    async def audit_events(self, query: AuditQuery) -> list[Event]:
        statement, args = audit_statement(query)

        async def op(tx: Tx) -> list[Event]:
            return [rows.event(r, tx.parse_time) for r in await tx.fetch(statement, *args)]

        return await self._db.read(op)

    async def record_read(
        self,
        conversation_id: ConversationId,
        actor_id: UserId,
        *,
        now: datetime,
        coalesce: timedelta,
    ) -> StandingRead:
        since = now - coalesce
        # Most calls are her screen's refetches: a look on the reader answers them without
        # taking the writer (SQLite's one write lock), and the write looks again, in its lock.
        lately = await self._db.read(
            lambda tx: tx.fetchval(READ_LATELY, conversation_id, actor_id, since)
        )
        if lately is not None:
            return StandingRead(written=False, at=self._db.parse_time(lately))
        return await self._db.write(
            lambda tx: record_read(tx, conversation_id, actor_id, now, since=since)
        )

    async def last_event_id(self) -> int:
        return int(await self._db.read(lambda tx: tx.fetchval(LAST_EVENT_ID)))

    async def record_event(
        self,
        kind: str,
        *,
        now: datetime,
        actor_id: UserId | None = None,
        conversation_id: ConversationId | None = None,
        data: dict[str, object] | None = None,
    ) -> None:
        await self._db.write(
            lambda tx: record(
                tx, kind, now, actor_id=actor_id, conversation_id=conversation_id, data=data
            )
        )
