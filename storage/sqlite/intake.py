"""Group commit of inbound messages on SQLite: a few statements per batch, not per message.

Look-ups take their keys as one JSON parameter read with json_each; new rows go in many to a
statement (storage.sqlite.bulk). The functions here are synchronous: SqliteStore runs the whole
transaction as ONE call on aiosqlite's thread instead of one thread hand-off per statement.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from inbox.core.model import ConversationId, MessageId, StoredInbound
from storage import events, line, sms
from storage.attachments import insert_attachments
from storage.base import IntakeRouter, KeyedInbound
from storage.intake_plan import (
    AttachmentRow,
    answers,
    attachment_rows,
    attachments_json,
    follow_threads,
    fresh_items,
    hinted_conversations,
    labels_per_identity,
    message_events,
    message_keys,
)
from storage.rows import format_text_time
from storage.sql import run_sync
from storage.sqlite.bulk import Insert, insert_rows
from storage.sqlite.database import SqliteTx
from storage.sqlite.threads import (
    NEXT_IDS,
    NextIds,
    find_or_create_identities,
    find_or_open_conversations,
    rows_of,
)

FIND_MESSAGES = """
SELECT channel, external_id, id, conversation_id FROM messages
WHERE (channel, external_id) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?))
"""
HINTED_CONVERSATIONS = """
SELECT c.id, i.channel, i.identity_hash FROM conversations c
JOIN channel_identities i ON i.id = c.identity_id
WHERE c.status <> 'closed' AND c.id IN (SELECT value FROM json_each(?))
"""
INSERT_MESSAGES = Insert(
    "INSERT INTO messages (id, conversation_id, direction, channel, external_id, body,"
    " attachments, delivery_status, created_at) VALUES ",
    "(?, ?, 'inbound', ?, ?, ?, ?, 'received', ?)",
)


def save_inbound_batch(
    db: sqlite3.Connection, items: Sequence[KeyedInbound], router: IntakeRouter | None = None
) -> list[StoredInbound]:
    """Run inside an open write transaction; the caller commits or rolls back.

    Optimistic about redeliveries, which are rare: the batch is written without looking its
    messages up first, under a savepoint. A message stored before fails the messages insert on
    its unique key; the batch is then undone to the savepoint and written again, knowing them.
    """
    keys = message_keys(items)
    db.execute("SAVEPOINT intake")
    try:
        result = _save(db, keys, items, {}, router)
    except sqlite3.IntegrityError as exc:
        if "messages.channel, messages.external_id" not in str(exc):
            raise
        db.execute("ROLLBACK TO intake")
        stored = {
            (r[0], r[1]): (MessageId(r[2]), ConversationId(r[3]))
            for r in rows_of(db, FIND_MESSAGES, keys)
        }
        result = _save(db, keys, items, stored, router)
    db.execute("RELEASE intake")
    return result


def _save(
    db: sqlite3.Connection,
    keys: list[tuple[str, str]],
    items: Sequence[KeyedInbound],
    stored: dict[tuple[str, str], tuple[MessageId, ConversationId]],
    router: IntakeRouter | None,
) -> list[StoredInbound]:
    """The batch, given the messages already `stored` (their answers are duplicates)."""
    fresh = fresh_items(keys, items, stored)
    if not fresh:
        return answers(keys, stored, set())
    other_address: set[tuple[str, str]] = set()
    if hinted := hinted_conversations(fresh.values()):
        owners = {int(r[0]): (r[1], r[2]) for r in rows_of(db, HINTED_CONVERSATIONS, hinted)}
        other_address = follow_threads(fresh, owners)
    next_id = NextIds(*db.execute(NEXT_IDS).fetchone())
    new = list(fresh.values())
    # Computed once per message: every table's row of it takes the time, and its identity.
    ats = [format_text_time(item.message.received_at) for item in new]
    identity_of, new_contacts = find_or_create_identities(db, new, ats, next_id)
    idents = [identity_of[(key[0], item.identity_hash)][0] for key, item in fresh.items()]
    last_at: dict[int, str] = {}  # identity id -> its latest message in this batch
    for ident, at in zip(idents, ats, strict=True):
        if at > last_at.get(ident, ""):
            last_at[ident] = at
    labels_of = labels_per_identity(new)
    threads = find_or_open_conversations(
        db, new, idents, ats, identity_of, last_at, labels_of, next_id, router, new_contacts
    )
    conversation_of = threads.conversation_of

    messages: list[tuple[object, ...]] = []
    news = list(threads.opened_events)  # then the messages' own, then the assignments
    contents: list[AttachmentRow] = []
    mid = next_id.take_many("messages", len(new))
    keywords: list[tuple[str, bool, datetime, int]] = []  # STOP / START, set with the message
    tokens: list[tuple[str, str, str, datetime]] = []  # LINE reply tokens, kept with it
    for (key, item), ident, at in zip(fresh.items(), idents, ats, strict=True):
        mid += 1
        conv_id = ConversationId(conversation_of[ident])
        stored[key] = (MessageId(mid), conv_id)
        msg = item.message
        if msg.attachments:  # rare: a message without any costs this test only
            contents += attachment_rows(mid, item)
            messages.append((mid, conv_id, key[0], key[1], msg.body, attachments_json(item), at))
        else:
            messages.append((mid, conv_id, key[0], key[1], msg.body, "[]", at))
        if msg.reply_token is not None:
            tokens.append(
                (key[0], item.identity_hash, msg.reply_token.token, msg.reply_token.expires_at)
            )
        labels = item.labels
        if labels.sms_opt is not None:
            keywords.append((item.identity_hash, labels.sms_opt, msg.received_at, conv_id))
        news += message_events(
            *(at, conv_id, mid, key[0]),
            joined=key in other_address,
            alert=labels.alert,
            templates=labels.auto_replies,
        )
    news += threads.assigned_events  # after the messages, as a router round's would be
    insert_rows(db, INSERT_MESSAGES, messages)
    if contents:
        run_sync(insert_attachments(SqliteTx(db), contents))
    run_sync(events.record_many(SqliteTx(db), news))
    if keywords:
        run_sync(sms.apply_keywords(SqliteTx(db), keywords))
    if tokens:
        run_sync(line.keep_tokens(SqliteTx(db), tokens))
    return answers(
        keys,
        stored,
        set(fresh),
        other_address,
        assigned=threads.assigned,
        unassigned=threads.unassigned,
        requeued=threads.requeued,
    )
