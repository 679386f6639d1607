"""Callbacks asked for from any conversation, and phone staff's list of open ones, written
once (the calls that work them: storage.calls)."""

from __future__ import annotations

from datetime import datetime

from inbox.core.errors import NumberOfOtherConsulter
from inbox.core.model import ContactId, ConversationId, ConversationStatus, UserId
from inbox.core.phone import CallbackBy, CallbackRequest, CallbackRow, Caller
from storage import events, rows
from storage.calls import OPEN_PHONE_CONVERSATION, open_phone, phone_identity
from storage.desk import get_conversation
from storage.sql import Database, Tx

# A request without a window keeps the one she gave before (NULL: keep, never clear).
SET_WINDOW = "UPDATE contacts SET call_window = $2 WHERE id = $1"
INSERT_NOTE = """
INSERT INTO messages (conversation_id, direction, channel, body, author_id, delivery_status,
                      created_at)
VALUES ($1, 'note', 'phone', $2, $3, 'none', $4)
RETURNING id
"""
# Open phone conversations: the queue's, and (with $1) those assigned to her; all with $1 NULL.
OPEN_CALLBACKS = """
SELECT c.id, c.contact_id, c.status, c.assignee_id, c.callback_tries, c.callback_due_at,
       t.call_window, t.discretion, c.queued_at
FROM conversations c JOIN contacts t ON t.id = c.contact_id
WHERE c.channel = 'phone' AND c.status <> 'closed'
  AND (CAST($1 AS bigint) IS NULL OR c.assignee_id = $1
       OR (c.assignee_id IS NULL AND c.status = 'queued'))
ORDER BY c.queued_at, c.id
LIMIT $2
"""


async def request_callback(
    tx: Tx,
    conversation_id: ConversationId,
    caller: Caller,
    window_json: str | None,
    note: str,
    actor_id: UserId,
    now: datetime,
) -> CallbackRequest:
    source = await get_conversation(tx, conversation_id)
    identity_id, contact_id = await phone_identity(tx, caller, source.contact_id, now)
    if contact_id != source.contact_id:
        # Filed there, her discretion flag, her window and the note would land on another
        # consulter's record; whether they are one person is a supervisor's call (link them).
        # Raised before any write: the transaction changes nothing.
        raise NumberOfOtherConsulter(
            "this number belongs to another consulter's record; ask a supervisor to link them first"
        )
    if window_json is not None:
        await tx.execute(SET_WINDOW, contact_id, window_json)
    row = await tx.fetchrow(OPEN_PHONE_CONVERSATION, identity_id)
    created = row is None
    if row is None:
        phone, created = await open_phone(tx, contact_id, identity_id, now)
    else:
        phone = rows.conversation(row, tx.parse_time)
    if note.strip():
        note_id = await tx.fetchval(INSERT_NOTE, phone.id, note, actor_id, now)
        await events.record(
            tx, "note_added", now, actor_id=actor_id, conversation_id=phone.id, message_id=note_id
        )
    await events.record(
        tx,
        "callback_requested",
        now,
        actor_id=actor_id,
        conversation_id=phone.id,
        data={
            "window": window_json is not None,
            "by": CallbackBy.STAFF.value,
            "from_conversation_id": source.id,
            "new": created,
        },
    )
    return CallbackRequest(conversation_id=phone.id, created=created, other_contact=False)


def callback_row(row: rows.Row, parse: rows.TimeParser) -> CallbackRow:
    return CallbackRow(
        conversation_id=ConversationId(row[0]),
        contact_id=ContactId(row[1]),
        status=ConversationStatus(row[2]),
        assignee_id=None if row[3] is None else UserId(row[3]),
        tries=int(row[4]),
        due_at=None if row[5] is None else parse(row[5]),
        window=row[6],
        discretion=bool(row[7]),
        waiting_since=parse(row[8]),
    )


class Callbacks:
    """The callback operations of CallStore on both stores, over the store's Database."""

    _db: Database

    async def request_callback(
        self,
        conversation_id: ConversationId,
        caller: Caller,
        *,
        window_json: str | None,
        note: str,
        actor_id: UserId,
        now: datetime,
    ) -> CallbackRequest:
        return await self._db.write(
            lambda tx: request_callback(
                tx, conversation_id, caller, window_json, note, actor_id, now
            )
        )

    async def open_callbacks(
        self, user_id: UserId | None, *, limit: int = 500
    ) -> list[CallbackRow]:
        found = await self._db.read(lambda tx: tx.fetch(OPEN_CALLBACKS, user_id, limit))
        return [callback_row(r, self._db.parse_time) for r in found]
