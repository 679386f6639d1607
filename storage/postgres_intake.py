"""Group commit of inbound messages on PostgreSQL: a constant number of statements per batch.

Each step sends whole columns as arrays (`= ANY`, `unnest`), so a batch of 500 messages costs
the same round trips as a batch of one. Every insert that a concurrent writer may race is
ON CONFLICT DO NOTHING followed by a look-up of what that writer committed: retrying the whole
batch instead can livelock two writers whose batches share senders.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from inbox.model import NO_LABELS, ConversationId, IntakeLabels, MessageId, StoredInbound
from storage.base import KeyedInbound
from storage.intake_plan import (
    THREAD_JOINED,
    THREAD_JOINED_DATA,
    answers,
    attachment_rows,
    attachments_json,
    first_per_identity,
    follow_threads,
    fresh_items,
    hinted_conversations,
    labels_per_identity,
    message_keys,
)
from storage.postgres_attachments import insert_attachments

FIND_MESSAGES = """
SELECT m.channel, m.external_id, m.id, m.conversation_id
FROM messages m
JOIN unnest($1::text[], $2::text[]) AS k(channel, external_id)
  ON m.channel = k.channel AND m.external_id = k.external_id
"""
FIND_IDENTITIES = """
SELECT i.channel, i.identity_hash, i.id, i.contact_id
FROM channel_identities i
JOIN unnest($1::text[], $2::text[]) AS k(channel, identity_hash)
  ON i.channel = k.channel AND i.identity_hash = k.identity_hash
"""
HINTED_CONVERSATIONS = """
SELECT c.id, i.channel, i.identity_hash FROM conversations c
JOIN channel_identities i ON i.id = c.identity_id
WHERE c.status <> 'closed' AND c.id = ANY($1::bigint[])
"""
# Contact ids are drawn up front so one statement can pair each contact with its identity;
# the CTE calls nextval, so PostgreSQL evaluates it exactly once (volatile CTEs are not inlined).
# A contact is created only for an identity actually inserted (the foreign key is checked at the
# end of the statement, after both inserts).
INSERT_IDENTITIES = """
WITH k AS (
    SELECT nextval(pg_get_serial_sequence('contacts', 'id')) AS contact_id,
           channel, identity_hash, address, created_at
    FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])
         AS u(channel, identity_hash, address, created_at)
), i AS (
    INSERT INTO channel_identities (contact_id, channel, identity_hash, address, created_at)
    SELECT contact_id, channel, identity_hash, address, created_at FROM k
    ON CONFLICT (channel, identity_hash) DO NOTHING
    RETURNING channel, identity_hash, id, contact_id
), c AS (
    INSERT INTO contacts (id, created_at)
    SELECT k.contact_id, k.created_at FROM k JOIN i ON i.contact_id = k.contact_id
)
SELECT channel, identity_hash, id, contact_id FROM i
"""
# FOR UPDATE: a conversation closed meanwhile drops out here instead of receiving the message;
# locking in id order keeps two writers from deadlocking on each other's conversations.
FIND_OPEN_CONVERSATIONS = """
SELECT identity_id, id FROM conversations
WHERE status <> 'closed' AND identity_id = ANY($1::bigint[])
ORDER BY id
FOR UPDATE
"""
# Tags travel as JSON text: unnest() would flatten an array of arrays.
# `at` is the identity's first message in the batch, `last` its latest: a conversation opened
# here is written in its final state, not touched again by TOUCH_CONVERSATIONS.
INSERT_CONVERSATIONS = """
INSERT INTO conversations (contact_id, identity_id, channel, status, created_at, updated_at,
                           queued_at, last_inbound_at, priority, skill, team, tags,
                           awaiting_since, language)
SELECT contact_id, identity_id, channel, 'queued', at, last, at, last, priority, skill, team,
       ARRAY(SELECT jsonb_array_elements_text(tags::jsonb)), at, language
FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::timestamptz[], $5::int[], $6::text[],
            $7::text[], $8::text[], $9::text[], $10::timestamptz[]) WITH ORDINALITY
     AS u(contact_id, identity_id, channel, at, priority, skill, team, tags, language, last, ord)
ORDER BY ord
ON CONFLICT (identity_id) WHERE status <> 'closed' DO NOTHING
RETURNING identity_id, id
"""
INSERT_MESSAGES = """
INSERT INTO messages (conversation_id, direction, channel, external_id, body, attachments,
                      delivery_status, created_at)
SELECT conversation_id, 'inbound', channel, external_id, body, attachments::jsonb, 'received', at
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])
     WITH ORDINALITY AS u(conversation_id, channel, external_id, body, attachments, at, ord)
ORDER BY ord
ON CONFLICT (channel, external_id) WHERE external_id IS NOT NULL DO NOTHING
RETURNING channel, external_id, id
"""
# The batch's events go in by COPY (about a third faster than INSERT ... unnest here; nothing
# is read back), in list order, so ids follow it; COPY fires the NOTIFY trigger like an INSERT.
EVENT_COLUMNS = ["at", "kind", "conversation_id", "message_id", "data"]
# A consulter writing again puts a conversation that waited on her back in front of a counselor.
TOUCH_CONVERSATIONS = """
UPDATE conversations c SET
    last_inbound_at = greatest(c.last_inbound_at, u.at),
    updated_at = greatest(c.updated_at, u.at),
    awaiting_since = coalesce(c.awaiting_since, u.at),
    queued_at = CASE WHEN c.status = 'waiting' AND c.assignee_id IS NULL
                     THEN u.at ELSE c.queued_at END,
    status = CASE WHEN c.status <> 'waiting' THEN c.status
                  WHEN c.assignee_id IS NULL THEN 'queued' ELSE 'assigned' END
FROM unnest($1::bigint[], $2::timestamptz[]) AS u(id, at)
WHERE c.id = u.id
"""

# What the rules decided for the new messages: priority only rises, tags only add, and a skill
# team or language already set stays (the counselor may have been chosen for it).
LABEL_CONVERSATIONS = """
UPDATE conversations c SET
    priority = greatest(c.priority, u.priority),
    skill = coalesce(c.skill, u.skill),
    team = coalesce(c.team, u.team),
    language = coalesce(c.language, u.language),
    tags = ARRAY(SELECT DISTINCT t FROM unnest(c.tags || ARRAY(
        SELECT jsonb_array_elements_text(u.tags::jsonb))) AS t ORDER BY t)
FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[])
     AS u(id, priority, skill, team, tags, language)
WHERE c.id = u.id
"""

Key = tuple[str, str]


class ThreadClosed(Exception):
    """Rolls the batch back for PostgresStore to retry (see _check_threads_still_open)."""


ALERTED = "supervisors_alerted"


def _columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows to the column arrays that unnest() takes back apart."""
    return [[row[i] for row in rows] for i in range(width)]


async def save_inbound_batch(conn: Any, items: Sequence[KeyedInbound]) -> list[StoredInbound]:
    """Run inside an open transaction on an asyncpg connection; the caller commits or rolls back."""
    keys = message_keys(items)
    stored: dict[Key, tuple[MessageId, ConversationId]] = {
        (r[0], r[1]): (MessageId(r[2]), ConversationId(r[3]))
        for r in await conn.fetch(FIND_MESSAGES, *_columns(keys, 2))
    }
    fresh = fresh_items(keys, items, stored)

    new_keys: set[Key] = set()
    other_address: set[Key] = set()
    if fresh:
        if hinted := hinted_conversations(fresh):
            rows = await conn.fetch(HINTED_CONVERSATIONS, hinted)
            other_address = follow_threads(fresh, {int(r[0]): (r[1], r[2]) for r in rows})
        identity_of = await _find_or_create_identities(conn, list(fresh.values()))
        labels_of = labels_per_identity(list(fresh.values()))
        conversation_of, opened, opened_events = await _find_or_open_conversations(
            conn, list(fresh.values()), identity_of, labels_of
        )
        _check_threads_still_open(fresh, other_address, identity_of, conversation_of)
        await _label_conversations(conn, labels_of, identity_of, conversation_of, opened)
        rows = [
            (
                conversation_of[identity_of[(key[0], item.identity_hash)][0]],
                key[0],
                key[1],
                item.message.body,
                attachments_json(item),
                item.message.received_at,
                item.labels.alert,
            )
            for key, item in fresh.items()
        ]
        inserted = await conn.fetch(INSERT_MESSAGES, *_columns(rows, 6))
        new_ids = {(r[0], r[1]): MessageId(r[2]) for r in inserted}
        contents = [
            row
            for key, item in fresh.items()
            if item.message.attachments and key in new_ids  # raced ones: the winner stored them
            for row in attachment_rows(new_ids[key], item)
        ]
        if contents:
            await insert_attachments(conn, contents)
        rows = [row for row in rows if (row[1], row[2]) in new_ids]
        if len(new_ids) < len(fresh):  # a concurrent writer stored these: duplicates now
            raced = [key for key in fresh if key not in new_ids]
            for r in await conn.fetch(FIND_MESSAGES, *_columns(raced, 2)):
                stored[(r[0], r[1])] = (MessageId(r[2]), ConversationId(r[3]))
        opened_ids = {conversation_of[ident] for ident in opened}
        await _record_received(conn, rows, new_ids, other_address, opened_ids, opened_events)
        for row in rows:
            stored[(row[1], row[2])] = (new_ids[(row[1], row[2])], ConversationId(row[0]))
        new_keys = set(new_ids)

    return answers(keys, stored, new_keys, other_address)


def _check_threads_still_open(
    fresh: dict[Key, KeyedInbound],
    other_address: set[Key],
    identity_of: dict[Key, tuple[int, int]],
    conversation_of: dict[int, int],
) -> None:
    """A message from another address went by its hint to conversation C under C's identity;
    if C was closed meanwhile (HINTED_CONVERSATIONS takes no lock, so as not to lock in two
    rounds), that identity just got a new conversation holding a stranger's message. Undo the
    batch instead; its retry ignores the hint to a closed conversation."""
    for key in other_address:
        item = fresh[key]
        ident = identity_of[(key[0], item.identity_hash)][0]
        if conversation_of[ident] != item.message.conversation_hint:
            raise ThreadClosed(
                f"conversation {item.message.conversation_hint} was closed while a reply to it "
                "was stored"
            )


async def _record_received(
    conn: Any,
    rows: list[tuple[Any, ...]],
    new_ids: dict[Key, MessageId],
    other_address: set[Key],
    opened: set[int],
    opened_events: list[tuple[Any, ...]],
) -> None:
    """The batch's events in one statement (the conversations opened, then the messages: no
    bodies, no addresses) and the new state of the conversations that existed before."""
    events = list(opened_events)
    touched: dict[int, datetime] = {}
    for conv_id, channel, external_id, _body, _attachments, at, alert in rows:
        mid = new_ids[(channel, external_id)]
        events.append((at, "message_received", conv_id, mid, json.dumps({"channel": channel})))
        if (channel, external_id) in other_address:
            events.append((at, THREAD_JOINED, conv_id, mid, THREAD_JOINED_DATA))
        if alert is not None:
            events.append((at, ALERTED, conv_id, mid, json.dumps({"reason": alert})))
        if conv_id not in opened:
            touched[conv_id] = max(touched.get(conv_id, at), at)
    if events:  # an empty COPY would still fire the NOTIFY trigger
        await conn.copy_records_to_table("events", records=events, columns=EVENT_COLUMNS)
    if touched:
        await conn.execute(TOUCH_CONVERSATIONS, list(touched), list(touched.values()))


async def _find_or_create_identities(
    conn: Any, items: list[KeyedInbound]
) -> dict[Key, tuple[int, int]]:
    """(channel, identity_hash) -> (identity id, contact id), creating contacts for new senders."""
    wanted = {(i.message.channel.value, i.identity_hash): i for i in reversed(items)}
    found = {
        (r[0], r[1]): (int(r[2]), int(r[3]))
        for r in await conn.fetch(FIND_IDENTITIES, *_columns(list(wanted), 2))
    }
    # Sorted by key, so two writers creating the same identities lock them in the same order.
    missing = sorted(
        (key[0], key[1], item.message.sender, item.message.received_at)
        for key, item in wanted.items()
        if key not in found
    )
    if missing:
        for r in await conn.fetch(INSERT_IDENTITIES, *_columns(missing, 4)):
            found[(r[0], r[1])] = (int(r[2]), int(r[3]))
        raced = [(m[0], m[1]) for m in missing if (m[0], m[1]) not in found]
        if raced:  # a concurrent writer created these; its rows are committed and visible now
            for r in await conn.fetch(FIND_IDENTITIES, *_columns(raced, 2)):
                found[(r[0], r[1])] = (int(r[2]), int(r[3]))
    return found


async def _label_conversations(
    conn: Any,
    labels_of: dict[Key, IntakeLabels],
    identity_of: dict[Key, tuple[int, int]],
    conversation_of: dict[int, int],
    opened: set[int],
) -> None:
    """Apply the rules' labels to conversations that existed before this batch."""
    rows = [
        (conversation_of[ident], lab.priority, lab.skill, lab.team, _tags(lab), lab.language)
        for key, lab in labels_of.items()
        if (ident := identity_of[key][0]) not in opened
    ]
    if rows:
        await conn.execute(LABEL_CONVERSATIONS, *_columns(rows, 6))


def _tags(labels: IntakeLabels) -> str:
    return json.dumps(sorted(labels.tags), ensure_ascii=False)


async def _find_or_open_conversations(
    conn: Any,
    items: list[KeyedInbound],
    identity_of: dict[Key, tuple[int, int]],
    labels_of: dict[Key, IntakeLabels],
) -> tuple[dict[int, int], set[int], list[tuple[Any, ...]]]:
    """identity id -> open conversation id, opening queued conversations where there is none;
    also the identities whose conversation this batch opened, and their conversation_opened
    events (written with the batch's other events)."""
    first_item = first_per_identity(items, identity_of)
    last_at: dict[int, datetime] = {}  # identity id -> its latest message in the batch
    for item in items:
        ident = identity_of[(item.message.channel.value, item.identity_hash)][0]
        at = item.message.received_at
        last_at[ident] = max(last_at.get(ident, at), at)
    found = {
        int(r[0]): int(r[1]) for r in await conn.fetch(FIND_OPEN_CONVERSATIONS, list(first_item))
    }
    to_open = []
    for ident, i in first_item.items():
        if ident in found:
            continue
        key = (i.message.channel.value, i.identity_hash)
        lab = labels_of.get(key, NO_LABELS)
        to_open.append(
            (
                *(identity_of[key][1], ident, key[0], i.message.received_at),
                *(lab.priority, lab.skill, lab.team, _tags(lab), lab.language, last_at[ident]),
            )
        )
    opened_here: set[int] = set()
    events: list[tuple[Any, ...]] = []
    if to_open:
        opened = await conn.fetch(INSERT_CONVERSATIONS, *_columns(to_open, 10))
        found.update({int(r[0]): int(r[1]) for r in opened})
        opened_here = {int(r[0]) for r in opened}
        at_of = {row[1]: row[3] for row in to_open}
        events = [(at_of[int(r[0])], "conversation_opened", int(r[1]), None, "{}") for r in opened]
        raced = [row[1] for row in to_open if row[1] not in found]
        if raced:  # a concurrent writer opened these; FOR UPDATE waits for it and locks them
            found.update(
                {int(r[0]): int(r[1]) for r in await conn.fetch(FIND_OPEN_CONVERSATIONS, raced)}
            )
    return found, opened_here, events
