"""The event log: every change writes its events here, in the change's own transaction.

One function writes them on both stores (record_many; record for one), so the rule of what an
event row holds lives in one place. Reading the log as a live tail differs by dialect
(storage.sqlite.store, storage.postgres.feed).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from inbox.core.model import ConversationId, Event, UserId
from storage import rows
from storage.sql import Database, Tx

COLUMNS = ("at", "kind", "actor_id", "conversation_id", "message_id", "data")
_WITHOUT_ACTOR = ("at", "kind", "conversation_id", "message_id", "data")
LAST_EVENT_ID = "SELECT coalesce(max(id), 0) FROM events"
LIST_EVENTS = """
SELECT id, at, kind, actor_id, conversation_id, message_id, CAST(data AS text) FROM events
WHERE id > $1 ORDER BY id LIMIT $2
"""
NO_DATA = "{}"
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


class Events:
    """The EventLog operations both stores share (the live tail is per dialect)."""

    _db: Database

    async def list_events(self, *, after_id: int = 0, limit: int = 500) -> list[Event]:
        return await self._db.read(lambda tx: list_events(tx, after_id, limit))

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
