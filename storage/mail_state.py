"""The mail channel's state: mailbox cursors, reply threads and bounces, written once."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from inbox.core.errors import NotFound
from inbox.core.model import ConversationId, MailCursor, MailThread, MessageId
from storage import events, rows
from storage.events import EventRow
from storage.sql import Database, Dialects, Tx

MAIL_CURSOR = "SELECT uidvalidity, last_uid FROM mail_cursors WHERE mailbox = $1"
# Within one UIDVALIDITY the cursor only moves forward, so a slow writer that read an older
# batch cannot rewind a newer one; a different UIDVALIDITY invalidates every old UID. (CASE, not
# greatest(), which SQLite spells max().)
SAVE_MAIL_CURSOR = """
INSERT INTO mail_cursors (mailbox, uidvalidity, last_uid, updated_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (mailbox) DO UPDATE SET
    last_uid = CASE WHEN mail_cursors.uidvalidity = excluded.uidvalidity
                     AND mail_cursors.last_uid > excluded.last_uid
                    THEN mail_cursors.last_uid
                    ELSE excluded.last_uid END,
    uidvalidity = excluded.uidvalidity,
    updated_at = excluded.updated_at
"""
MAIL_THREAD = "SELECT subject, last_message_id, refs FROM mail_threads WHERE conversation_id = $1"
KNOWN_CONVERSATIONS = Dialects(
    postgres="SELECT id FROM conversations WHERE id = ANY($1::bigint[])",
    sqlite="SELECT id FROM conversations WHERE id IN (SELECT value FROM json_each($1))",
)
# A mail without a subject keeps the thread's subject, so replies stay recognizable.
SAVE_MAIL_THREAD = """
INSERT INTO mail_threads (conversation_id, subject, last_message_id, refs, updated_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (conversation_id) DO UPDATE SET
    subject = CASE WHEN trim(excluded.subject) = '' THEN mail_threads.subject
                   ELSE excluded.subject END,
    last_message_id = excluded.last_message_id,
    refs = excluded.refs,
    updated_at = excluded.updated_at
"""
# A bounce is a failed delivery found out late: the same event kind as mark_failed's, so whoever
# tells the counselor about failed replies needs no second case. "error" as mark_failed writes it.
BOUNCED_EVENT = "reply_failed"
BOUNCED_DATA = events.data_json({"error": "bounced", "reason": "bounced"})
# Only a delivered reply can bounce; a failed one already told the counselor. On PostgreSQL a
# concurrent caller waits for the row lock, re-checks status = 'sent' and marks nothing twice.
_BOUNCE_SENT = """
UPDATE outbox SET status = 'failed', last_error = 'bounced', updated_at = $2
WHERE status = 'sent' AND provider_id {}
RETURNING message_id
"""
BOUNCE_SENT = Dialects(
    postgres=_BOUNCE_SENT.format("= ANY($1::text[])"),
    sqlite=_BOUNCE_SENT.format("IN (SELECT value FROM json_each($1))"),
)
_MESSAGES_FAILED = """
UPDATE messages SET delivery_status = 'failed' WHERE id {}
RETURNING id, conversation_id
"""
MESSAGES_FAILED = Dialects(
    postgres=_MESSAGES_FAILED.format("= ANY($1::bigint[])"),
    sqlite=_MESSAGES_FAILED.format("IN (SELECT value FROM json_each($1))"),
)


async def save_mail_threads(
    tx: Tx, threads: Sequence[tuple[ConversationId, MailThread]], now: datetime
) -> None:
    wanted = {conversation_id for conversation_id, _ in threads}
    known = {int(r[0]) for r in await tx.fetch(KNOWN_CONVERSATIONS, sorted(wanted))}
    if missing := sorted(wanted - known):
        raise NotFound(f"conversations {missing} do not exist")
    # One statement per thread, in order: a later thread of the same conversation wins (one
    # multi-row upsert could not touch the same row twice).
    await tx.executemany(
        SAVE_MAIL_THREAD,
        [(cid, t.subject, t.last_message_id, list(t.references), now) for cid, t in threads],
    )


async def mark_bounced(tx: Tx, provider_ids: Sequence[str], now: datetime) -> list[MessageId]:
    bounced = await tx.fetch(BOUNCE_SENT, provider_id_forms(provider_ids), now)
    if not bounced:
        return []
    found = await tx.fetch(MESSAGES_FAILED, [int(r[0]) for r in bounced])
    failed = sorted((int(r[0]), int(r[1])) for r in found)
    await events.record_many(
        tx,
        [
            EventRow(now, BOUNCED_EVENT, conversation_id=cid, message_id=mid, data=BOUNCED_DATA)
            for mid, cid in failed
        ],
    )
    return [MessageId(mid) for mid, _ in failed]


def provider_id_forms(provider_ids: Iterable[str]) -> list[str]:
    """Each id bare and in angle brackets: outbox.provider_id keeps what the channel returned,
    and a Message-ID may come back from a bounce with or without its brackets. Matching stored
    values against both forms compares them brackets stripped, and still uses the unique index."""
    forms: set[str] = set()
    for raw in provider_ids:
        bare = raw.strip()
        if bare.startswith("<") and bare.endswith(">"):
            bare = bare[1:-1].strip()
        if bare:
            forms.update((bare, f"<{bare}>"))
    return sorted(forms)


class Mail:
    """The mail channel's state operations of both stores, over the store's Database."""

    _db: Database

    async def mail_cursor(self, mailbox: str) -> MailCursor | None:
        row = await self._db.read(lambda tx: tx.fetchrow(MAIL_CURSOR, mailbox))
        return None if row is None else MailCursor(uidvalidity=int(row[0]), last_uid=int(row[1]))

    async def save_mail_cursor(self, mailbox: str, cursor: MailCursor, *, now: datetime) -> None:
        await self._db.write(
            lambda tx: tx.execute(
                SAVE_MAIL_CURSOR, mailbox, cursor.uidvalidity, cursor.last_uid, now
            )
        )

    async def mail_thread(self, conversation_id: ConversationId) -> MailThread | None:
        row = await self._db.read(lambda tx: tx.fetchrow(MAIL_THREAD, conversation_id))
        if row is None:
            return None
        return MailThread(
            subject=row[0], last_message_id=row[1], references=tuple(rows.json_value(row[2]))
        )

    async def save_mail_threads(
        self, threads: Sequence[tuple[ConversationId, MailThread]], *, now: datetime
    ) -> None:
        if threads:
            await self._db.write(lambda tx: save_mail_threads(tx, threads, now))

    async def mark_bounced(self, provider_ids: Sequence[str], *, now: datetime) -> list[MessageId]:
        if not provider_ids:
            return []
        return await self._db.write(lambda tx: mark_bounced(tx, provider_ids, now))
