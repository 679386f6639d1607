"""The mail channel's state on SQLite: mailbox cursors, reply threads and bounces; synchronous
functions run by SqliteStore as ONE call on aiosqlite's thread (see sqlite_routing)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime

from inbox.core.errors import NotFound
from inbox.core.model import ConversationId, MailCursor, MailThread, MessageId
from storage.rows import BOUNCED_EVENT, BOUNCED_EVENT_DATA, format_text_time, provider_id_forms
from storage.sqlite.routing import write_event

MAIL_CURSOR = "SELECT uidvalidity, last_uid FROM mail_cursors WHERE mailbox = ?"
# Within one UIDVALIDITY the cursor only moves forward, so a slow writer that read an older
# batch cannot rewind a newer one; a different UIDVALIDITY invalidates every old UID.
SAVE_MAIL_CURSOR = """
INSERT INTO mail_cursors (mailbox, uidvalidity, last_uid, updated_at) VALUES (?1, ?2, ?3, ?4)
ON CONFLICT (mailbox) DO UPDATE SET
    last_uid = CASE WHEN mail_cursors.uidvalidity = excluded.uidvalidity
                    THEN max(mail_cursors.last_uid, excluded.last_uid)
                    ELSE excluded.last_uid END,
    uidvalidity = excluded.uidvalidity,
    updated_at = excluded.updated_at
"""
MAIL_THREAD = "SELECT subject, last_message_id, refs FROM mail_threads WHERE conversation_id = ?"
KNOWN_CONVERSATIONS = "SELECT id FROM conversations WHERE id IN (SELECT value FROM json_each(?))"
# A mail without a subject keeps the thread's subject, so replies stay recognizable.
SAVE_MAIL_THREAD = """
INSERT INTO mail_threads (conversation_id, subject, last_message_id, refs, updated_at)
VALUES (?1, ?2, ?3, ?4, ?5)
ON CONFLICT (conversation_id) DO UPDATE SET
    subject = CASE WHEN trim(excluded.subject) = '' THEN mail_threads.subject
                   ELSE excluded.subject END,
    last_message_id = excluded.last_message_id,
    refs = excluded.refs,
    updated_at = excluded.updated_at
"""
# Only a delivered reply can bounce; a failed one already told the counselor.
SENT_WITH_PROVIDER_ID = """
SELECT o.id, m.id, m.conversation_id FROM outbox o JOIN messages m ON m.id = o.message_id
WHERE o.status = 'sent' AND o.provider_id IN (SELECT value FROM json_each(?))
ORDER BY m.id
"""
OUTBOX_BOUNCED = """
UPDATE outbox SET status = 'failed', last_error = 'bounced', updated_at = ? WHERE id = ?
"""
MESSAGE_FAILED = "UPDATE messages SET delivery_status = 'failed' WHERE id = ?"


def mail_cursor(db: sqlite3.Connection, mailbox: str) -> MailCursor | None:
    row = db.execute(MAIL_CURSOR, (mailbox,)).fetchone()
    return None if row is None else MailCursor(uidvalidity=int(row[0]), last_uid=int(row[1]))


def save_mail_cursor(
    db: sqlite3.Connection, mailbox: str, cursor: MailCursor, now: datetime
) -> None:
    db.execute(
        SAVE_MAIL_CURSOR, (mailbox, cursor.uidvalidity, cursor.last_uid, format_text_time(now))
    )


def mail_thread(db: sqlite3.Connection, conversation_id: ConversationId) -> MailThread | None:
    row = db.execute(MAIL_THREAD, (conversation_id,)).fetchone()
    if row is None:
        return None
    return MailThread(subject=row[0], last_message_id=row[1], references=tuple(json.loads(row[2])))


def save_mail_threads(
    db: sqlite3.Connection,
    threads: Sequence[tuple[ConversationId, MailThread]],
    now: datetime,
) -> None:
    wanted = {conversation_id for conversation_id, _ in threads}
    known = {int(r[0]) for r in db.execute(KNOWN_CONVERSATIONS, (json.dumps(sorted(wanted)),))}
    if missing := sorted(wanted - known):
        raise NotFound(f"conversations {missing} do not exist")
    at = format_text_time(now)
    # One statement per thread, in order: a later thread of the same conversation wins.
    db.executemany(
        SAVE_MAIL_THREAD,
        [
            (cid, t.subject, t.last_message_id, json.dumps(list(t.references)), at)
            for cid, t in threads
        ],
    )


def mark_bounced(
    db: sqlite3.Connection, provider_ids: Sequence[str], now: datetime
) -> list[MessageId]:
    forms = json.dumps(provider_id_forms(provider_ids))
    found = db.execute(SENT_WITH_PROVIDER_ID, (forms,)).fetchall()
    at = format_text_time(now)
    for outbox_id, message_id, conversation_id in found:
        db.execute(OUTBOX_BOUNCED, (at, outbox_id))
        db.execute(MESSAGE_FAILED, (message_id,))
        write_event(
            db,
            BOUNCED_EVENT,
            now,
            conversation_id=conversation_id,
            message_id=message_id,
            data=dict(BOUNCED_EVENT_DATA),
        )
    return [MessageId(r[1]) for r in found]
