"""Group commit of inbound messages on PostgreSQL: a constant number of statements per batch.

Each step sends whole columns as arrays (`= ANY`, `unnest`), so a batch of 500 messages costs
the same round trips as a batch of one. Every insert that a concurrent writer may race is
ON CONFLICT DO NOTHING followed by a look-up of what that writer committed: retrying the whole
batch instead can livelock two writers whose batches share senders.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from inbox.core.model import ConversationId, MessageId, StoredInbound
from storage import events, line, sms
from storage.attachments import insert_attachments
from storage.base import IntakeRouter, KeyedInbound
from storage.intake_plan import (
    answers,
    attachment_rows,
    attachments_json,
    follow_threads,
    fresh_items,
    hinted_conversations,
    identity_key,
    labels_per_identity,
    message_events,
    message_keys,
)
from storage.intake_routing import Threads
from storage.postgres import listen
from storage.postgres import threads as pt
from storage.postgres.database import PgTx
from storage.postgres.threads import BatchRaced, columns

FIND_MESSAGES = """
SELECT m.channel, m.external_id, m.id, m.conversation_id
FROM messages m
JOIN unnest($1::text[], $2::text[]) AS k(channel, external_id)
  ON m.channel = k.channel AND m.external_id = k.external_id
"""
# What the batch looks up before it writes, in one round trip (it was three): 'm' the messages
# stored before (a redelivery), 'i' the senders' identities, 'h' the open conversations that
# replies name (InboundMessage.conversation_hint) with their identity, which such a reply then
# goes to (intake_plan.follow_threads). Every identity the batch can want is in 'i' or 'h';
# one in neither is new. No lock is taken here (_check_threads_still_open).
LOOK_UP = """
SELECT 'm', m.channel, m.external_id, m.id, m.conversation_id, NULL::bigint
FROM messages m
JOIN unnest($1::text[], $2::text[]) AS k(channel, external_id)
  ON m.channel = k.channel AND m.external_id = k.external_id
UNION ALL
SELECT 'i', i.channel, i.identity_hash, i.id, i.contact_id, NULL
FROM channel_identities i
JOIN unnest($3::text[], $4::text[]) AS k(channel, identity_hash)
  ON i.channel = k.channel AND i.identity_hash = k.identity_hash
UNION ALL
SELECT 'h', i.channel, i.identity_hash, i.id, i.contact_id, c.id
FROM conversations c JOIN channel_identities i ON i.id = c.identity_id
WHERE c.status <> 'closed' AND c.id = ANY($5::bigint[])
"""
# $7: the batch's notice tag (listen.intake_tag), set here before its events are written: a
# statement of its own was one more round trip in ~45% of the batches of a loaded server.
INSERT_MESSAGES = f"""
WITH tag AS MATERIALIZED (SELECT {listen.TAG_SETTING.format("$7::text")})
INSERT INTO messages (conversation_id, direction, channel, external_id, body, attachments,
                      delivery_status, created_at)
SELECT conversation_id, 'inbound', channel, external_id, body, attachments::jsonb, 'received', at
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])
     WITH ORDINALITY AS u(conversation_id, channel, external_id, body, attachments, at, ord)
     CROSS JOIN tag
ORDER BY ord
ON CONFLICT (channel, external_id) WHERE external_id IS NOT NULL DO NOTHING
RETURNING channel, external_id, id
"""
Key = tuple[str, str]


async def save_inbound_batch(
    conn: Any, items: Sequence[KeyedInbound], router: IntakeRouter | None = None
) -> list[StoredInbound]:
    """Run inside an open transaction on an asyncpg connection; the caller commits or rolls back."""
    keys = message_keys(items)
    stored, known, owners = await _look_up(conn, keys, items)
    fresh = fresh_items(keys, items, stored)

    new_keys: set[Key] = set()
    other_address: set[Key] = set()
    threads: Threads | None = None
    if fresh:
        if owners:
            other_address = follow_threads(fresh, owners)
        identity_of, new_contacts = await pt.find_or_create_identities(
            conn, list(fresh.values()), known
        )
        labels_of = labels_per_identity(list(fresh.values()))
        threads = await pt.find_or_open_conversations(
            conn, list(fresh.values()), identity_of, labels_of, router, new_contacts
        )
        conversation_of, opened = threads.conversation_of, threads.opened
        _check_threads_still_open(fresh, other_address, identity_of, conversation_of)
        rows = [
            (
                conversation_of[identity_of[(key[0], item.identity_hash)][0]],
                key[0],
                key[1],
                item.message.body,
                attachments_json(item),
                item.message.received_at,
                item.labels.alert,
                item.labels.auto_replies,
            )
            for key, item in fresh.items()
        ]
        # before the events: their notice tells the routing instance what this batch did
        tag = listen.intake_tag(threads, fresh.values())
        inserted = await conn.fetch(INSERT_MESSAGES, *columns(rows, 6), tag)
        new_ids = {(r[0], r[1]): MessageId(r[2]) for r in inserted}
        contents = [
            row
            for key, item in fresh.items()
            if item.message.attachments and key in new_ids  # raced ones: the winner stored them
            for row in attachment_rows(new_ids[key], item)
        ]
        if contents:
            await insert_attachments(PgTx(conn), contents)
        rows = [row for row in rows if (row[1], row[2]) in new_ids]
        opened_ids = {conversation_of[ident] for ident in opened}
        if len(new_ids) < len(fresh):  # a concurrent writer stored these: duplicates now
            if opened_ids - {row[0] for row in rows}:
                # ... all of a conversation opened here: it would stay open with no message
                raise BatchRaced("another writer stored every message of a new conversation")
            raced = [key for key in fresh if key not in new_ids]
            for r in await conn.fetch(FIND_MESSAGES, *columns(raced, 2)):
                stored[(r[0], r[1])] = (MessageId(r[2]), ConversationId(r[3]))
        await _record_received(conn, rows, new_ids, other_address, threads)
        # STOP / START texts: her opt-out changes in the transaction that stores them.
        keywords = [
            (
                item.identity_hash,
                item.labels.sms_opt,
                item.message.received_at,
                conversation_of[identity_of[(key[0], item.identity_hash)][0]],
            )
            for key, item in fresh.items()
            if item.labels.sms_opt is not None and key in new_ids
        ]
        if keywords:
            await sms.apply_keywords(PgTx(conn), keywords)
        tokens = [
            (
                key[0],
                item.identity_hash,
                item.message.reply_token.token,
                item.message.reply_token.expires_at,
            )
            for key, item in fresh.items()
            if item.message.reply_token is not None and key in new_ids
        ]
        if tokens:
            await line.keep_tokens(PgTx(conn), tokens)
        for row in rows:
            stored[(row[1], row[2])] = (new_ids[(row[1], row[2])], ConversationId(row[0]))
        new_keys = set(new_ids)

    if threads is None:
        return answers(keys, stored, new_keys)
    return answers(
        keys,
        stored,
        new_keys,
        other_address,
        assigned=threads.assigned,
        unassigned=threads.unassigned,
        requeued=threads.requeued,
    )


async def _look_up(
    conn: Any, keys: list[Key], items: Sequence[KeyedInbound]
) -> tuple[
    dict[Key, tuple[MessageId, ConversationId]],
    dict[Key, tuple[int, int]],
    dict[int, tuple[str, str]],
]:
    """LOOK_UP's rows: the messages stored before, the identities known ((channel, identity
    hash) -> (identity id, contact id)), and each hinted open conversation's channel and
    identity hash."""
    senders = sorted({identity_key(item) for item in items})
    hinted = hinted_conversations(items)
    stored: dict[Key, tuple[MessageId, ConversationId]] = {}
    known: dict[Key, tuple[int, int]] = {}
    owners: dict[int, tuple[str, str]] = {}
    for kind, a, b, c, d, e in await conn.fetch(
        LOOK_UP, *columns(keys, 2), *columns(senders, 2), hinted
    ):
        if kind == "m":
            stored[(a, b)] = (MessageId(c), ConversationId(d))
        else:
            known[(a, b)] = (int(c), int(d))
            if kind == "h":
                owners[int(e)] = (a, b)
    return stored, known, owners


def _check_threads_still_open(
    fresh: dict[Key, KeyedInbound],
    other_address: set[Key],
    identity_of: dict[Key, tuple[int, int]],
    conversation_of: dict[int, int],
) -> None:
    """A message from another address went by its hint to conversation C under C's identity;
    if C was closed meanwhile (LOOK_UP takes no lock, so as not to lock in two rounds), that
    identity just got a new conversation holding a stranger's message. Undo the batch instead;
    its retry ignores the hint to a closed conversation."""
    for key in other_address:
        item = fresh[key]
        ident = identity_of[(key[0], item.identity_hash)][0]
        if conversation_of[ident] != item.message.conversation_hint:
            raise BatchRaced(
                f"conversation {item.message.conversation_hint} was closed while a reply to it "
                "was stored"
            )


async def _record_received(
    conn: Any,
    rows: list[tuple[Any, ...]],
    new_ids: dict[Key, MessageId],
    other_address: set[Key],
    threads: Threads,
) -> None:
    """The batch's events (one COPY): the conversations opened, then the messages' own, then
    the assignments made at intake."""
    news = list(threads.opened_events)
    for conv_id, channel, external_id, _body, _attachments, at, alert, templates in rows:
        key = (channel, external_id)
        joined = key in other_address
        news += message_events(
            at, conv_id, new_ids[key], channel, joined=joined, alert=alert, templates=templates
        )
    news += threads.assigned_events
    await events.record_many(PgTx(conn), news)
