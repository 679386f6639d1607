"""The mail channel's state on PostgreSQL: mailbox cursors, reply threads and bounces, over one
asyncpg connection in PostgresStore's transaction (mirrors sqlite_mail)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from inbox.core.errors import NotFound
from inbox.core.model import ConversationId, MailCursor, MailThread, MessageId
from storage.rows import BOUNCED_EVENT, BOUNCED_EVENT_DATA, provider_id_forms

MAIL_CURSOR = "SELECT uidvalidity, last_uid FROM mail_cursors WHERE mailbox = $1"
# Within one UIDVALIDITY the cursor only moves forward, so a slow writer that read an older
# batch cannot rewind a newer one; a different UIDVALIDITY invalidates every old UID.
SAVE_MAIL_CURSOR = """
INSERT INTO mail_cursors (mailbox, uidvalidity, last_uid, updated_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (mailbox) DO UPDATE SET
    last_uid = CASE WHEN mail_cursors.uidvalidity = excluded.uidvalidity
                    THEN greatest(mail_cursors.last_uid, excluded.last_uid)
                    ELSE excluded.last_uid END,
    uidvalidity = excluded.uidvalidity,
    updated_at = excluded.updated_at
"""
MAIL_THREAD = "SELECT subject, last_message_id, refs FROM mail_threads WHERE conversation_id = $1"
MISSING_CONVERSATIONS = """
SELECT array_agg(w.id ORDER BY w.id) FROM unnest($1::bigint[]) AS w(id)
WHERE NOT EXISTS (SELECT 1 FROM conversations c WHERE c.id = w.id)
"""
# A mail without a subject keeps the thread's subject, so replies stay recognizable.
SAVE_MAIL_THREAD = """
INSERT INTO mail_threads (conversation_id, subject, last_message_id, refs, updated_at)
VALUES ($1, $2, $3, $4::text[], $5)
ON CONFLICT (conversation_id) DO UPDATE SET
    subject = CASE WHEN trim(excluded.subject) = '' THEN mail_threads.subject
                   ELSE excluded.subject END,
    last_message_id = excluded.last_message_id,
    refs = excluded.refs,
    updated_at = excluded.updated_at
"""
# Only a delivered reply can bounce; a failed one already told the counselor. A concurrent
# caller waits for the row lock, re-checks status = 'sent' and marks nothing twice.
MARK_BOUNCED = """
WITH o AS (
    UPDATE outbox SET status = 'failed', last_error = 'bounced', updated_at = $2
    WHERE status = 'sent' AND provider_id = ANY($1::text[])
    RETURNING message_id
), m AS (
    UPDATE messages SET delivery_status = 'failed'
    FROM o WHERE messages.id = o.message_id
    RETURNING messages.id, messages.conversation_id
), e AS (
    INSERT INTO events (at, kind, conversation_id, message_id, data)
    SELECT $2, $3, conversation_id, id, $4::jsonb FROM m ORDER BY id
)
SELECT id FROM m ORDER BY id
"""


async def mail_cursor(conn: Any, mailbox: str) -> MailCursor | None:
    row = await conn.fetchrow(MAIL_CURSOR, mailbox)
    return None if row is None else MailCursor(uidvalidity=int(row[0]), last_uid=int(row[1]))


async def save_mail_cursor(conn: Any, mailbox: str, cursor: MailCursor, now: datetime) -> None:
    await conn.execute(SAVE_MAIL_CURSOR, mailbox, cursor.uidvalidity, cursor.last_uid, now)


async def mail_thread(conn: Any, conversation_id: ConversationId) -> MailThread | None:
    row = await conn.fetchrow(MAIL_THREAD, conversation_id)
    if row is None:
        return None
    return MailThread(subject=row[0], last_message_id=row[1], references=tuple(row[2]))


async def save_mail_threads(
    conn: Any, threads: Sequence[tuple[ConversationId, MailThread]], now: datetime
) -> None:
    wanted = sorted({conversation_id for conversation_id, _ in threads})
    if missing := await conn.fetchval(MISSING_CONVERSATIONS, wanted):
        raise NotFound(f"conversations {list(missing)} do not exist")
    # One statement per thread, in order: a later thread of the same conversation wins (one
    # multi-row upsert could not touch the same row twice).
    await conn.executemany(
        SAVE_MAIL_THREAD,
        [(cid, t.subject, t.last_message_id, list(t.references), now) for cid, t in threads],
    )


async def mark_bounced(conn: Any, provider_ids: Sequence[str], now: datetime) -> list[MessageId]:
    forms = provider_id_forms(provider_ids)
    data = json.dumps(dict(BOUNCED_EVENT_DATA))
    found = await conn.fetch(MARK_BOUNCED, forms, now, BOUNCED_EVENT, data)
    return [MessageId(r[0]) for r in found]
