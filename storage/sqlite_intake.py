"""Group commit of inbound messages on SQLite: a constant number of statements per batch.

Arrays travel as one JSON parameter read with json_each, so a batch of 500 messages costs the
same nine round trips through aiosqlite's thread as a batch of one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import aiosqlite

from inbox.model import ConversationId, MessageId, StoredInbound
from storage.base import KeyedInbound
from storage.intake_plan import (
    answers,
    attachments_json,
    first_per_identity,
    fresh_items,
    message_keys,
)

FIND_MESSAGES = """
SELECT channel, external_id, id, conversation_id FROM messages
WHERE (channel, external_id) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?))
"""
FIND_IDENTITIES = """
SELECT channel, identity_hash, id, contact_id FROM channel_identities
WHERE (channel, identity_hash) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?))
"""
INSERT_CONTACTS = "INSERT INTO contacts (created_at) SELECT value FROM json_each(?) RETURNING id"
INSERT_IDENTITIES = """
INSERT INTO channel_identities (contact_id, channel, identity_hash, address, created_at)
SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 FROM json_each(?)
RETURNING channel, identity_hash, id, contact_id
"""
FIND_OPEN_CONVERSATIONS = """
SELECT identity_id, id FROM conversations
WHERE status <> 'closed' AND identity_id IN (SELECT value FROM json_each(?))
"""
INSERT_CONVERSATIONS = """
INSERT INTO conversations (contact_id, identity_id, channel, status, created_at, updated_at,
                           queued_at)
SELECT value ->> 0, value ->> 1, value ->> 2, 'queued', value ->> 3, value ->> 3, value ->> 3
FROM json_each(?)
RETURNING identity_id, id
"""
INSERT_MESSAGES = """
INSERT INTO messages (conversation_id, direction, channel, external_id, body, attachments,
                      delivery_status, created_at)
SELECT value ->> 0, 'inbound', value ->> 1, value ->> 2, value ->> 3, value ->> 4, 'received',
       value ->> 5
FROM json_each(?)
RETURNING channel, external_id, id
"""
INSERT_EVENTS = """
INSERT INTO events (at, kind, conversation_id, message_id, data)
SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 FROM json_each(?)
"""
# A consulter writing again puts a conversation that waited on her back in front of a counselor.
TOUCH_CONVERSATIONS = """
UPDATE conversations SET
    last_inbound_at = j.value ->> 1,
    updated_at = j.value ->> 1,
    queued_at = CASE WHEN status = 'waiting' AND assignee_id IS NULL
                     THEN j.value ->> 1 ELSE queued_at END,
    status = CASE WHEN status <> 'waiting' THEN status
                  WHEN assignee_id IS NULL THEN 'queued' ELSE 'assigned' END
FROM json_each(?) AS j
WHERE conversations.id = j.value ->> 0
"""


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


async def _rows(db: aiosqlite.Connection, sql: str, payload: object) -> list[aiosqlite.Row]:
    async with db.execute(sql, (json.dumps(payload, ensure_ascii=False),)) as cur:
        return list(await cur.fetchall())


async def save_inbound_batch(
    db: aiosqlite.Connection, items: Sequence[KeyedInbound]
) -> list[StoredInbound]:
    """Run inside an open write transaction; the caller commits or rolls back."""
    keys = message_keys(items)
    stored = {
        (r[0], r[1]): (MessageId(r[2]), ConversationId(r[3]))
        for r in await _rows(db, FIND_MESSAGES, keys)
    }
    fresh = fresh_items(keys, items, stored)

    identity_of = await _find_or_create_identities(db, list(fresh.values()))
    conversation_of = await _find_or_open_conversations(db, list(fresh.values()), identity_of)

    placed = [
        (ConversationId(conversation_of[identity_of[(key[0], item.identity_hash)][0]]), key, item)
        for key, item in fresh.items()
    ]
    rows = [
        [
            conv,
            key[0],
            key[1],
            item.message.body,
            attachments_json(item),
            _ts(item.message.received_at),
        ]
        for conv, key, item in placed
    ]
    new_ids = {(r[0], r[1]): MessageId(r[2]) for r in await _rows(db, INSERT_MESSAGES, rows)}

    events: list[list[object]] = []
    touched: dict[int, str] = {}
    for conv_id, key, item in placed:
        at = _ts(item.message.received_at)
        stored[key] = (new_ids[key], conv_id)
        events.append(
            [at, "message_received", conv_id, new_ids[key], json.dumps({"channel": key[0]})]
        )
        touched[conv_id] = max(touched.get(conv_id, ""), at)
    if events:
        await _rows(db, INSERT_EVENTS, events)
        await _rows(db, TOUCH_CONVERSATIONS, [[c, t] for c, t in touched.items()])

    return answers(keys, stored, set(new_ids))


async def _find_or_create_identities(
    db: aiosqlite.Connection, items: list[KeyedInbound]
) -> dict[tuple[str, str], tuple[int, int]]:
    """(channel, identity_hash) -> (identity id, contact id), creating contacts for new senders."""
    wanted = {(i.message.channel.value, i.identity_hash): i for i in items}
    found = {
        (r[0], r[1]): (int(r[2]), int(r[3])) for r in await _rows(db, FIND_IDENTITIES, list(wanted))
    }
    missing = [item for key, item in wanted.items() if key not in found]
    if missing:
        created = [_ts(i.message.received_at) for i in missing]
        contact_ids = [int(r[0]) for r in await _rows(db, INSERT_CONTACTS, created)]
        payload = [
            [cid, i.message.channel.value, i.identity_hash, i.message.sender, at]
            for cid, i, at in zip(contact_ids, missing, created, strict=True)
        ]
        for r in await _rows(db, INSERT_IDENTITIES, payload):
            found[(r[0], r[1])] = (int(r[2]), int(r[3]))
    return found


async def _find_or_open_conversations(
    db: aiosqlite.Connection,
    items: list[KeyedInbound],
    identity_of: dict[tuple[str, str], tuple[int, int]],
) -> dict[int, int]:
    """identity id -> open conversation id, opening queued conversations where there is none."""
    first_item = first_per_identity(items, identity_of)
    found = {
        int(r[0]): int(r[1]) for r in await _rows(db, FIND_OPEN_CONVERSATIONS, list(first_item))
    }
    to_open = [
        [
            identity_of[(i.message.channel.value, i.identity_hash)][1],
            ident,
            i.message.channel.value,
            _ts(i.message.received_at),
        ]
        for ident, i in first_item.items()
        if ident not in found
    ]
    if to_open:
        opened = await _rows(db, INSERT_CONVERSATIONS, to_open)
        found.update({int(r[0]): int(r[1]) for r in opened})
        at_of = {row[1]: row[3] for row in to_open}
        await _rows(
            db,
            INSERT_EVENTS,
            [[at_of[int(r[0])], "conversation_opened", int(r[1]), None, "{}"] for r in opened],
        )
    return found
