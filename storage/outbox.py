"""The outbox: claiming due replies with a lease and recording how sending went, written once."""

from __future__ import annotations

from datetime import datetime, timedelta

from inbox.core.errors import NotFound
from inbox.core.model import ChannelKind, ConversationId, DeliveryStatus, OutboxId, OutboxItem
from storage import events, rows
from storage.sql import Database, Dialects, Tx

# Claims up to $2 rows due by $1 until $3. On PostgreSQL several instances claim at once: SKIP
# LOCKED lets each pass over the rows another is claiming instead of queueing behind them, and a
# row claimed and committed meanwhile is re-checked against due_at and drops out, so no row is
# sent twice. (A CTE with FOR UPDATE is never inlined: its LIMIT is applied once.) SQLite has
# one writer, whose BEGIN IMMEDIATE already keeps everyone else out, and no FOR UPDATE.
CLAIM_OUTBOX = Dialects(
    postgres="""
WITH due AS (
    SELECT id FROM outbox WHERE status = 'pending' AND due_at <= $1
    ORDER BY due_at, id LIMIT $2
    FOR UPDATE SKIP LOCKED
)
UPDATE outbox o SET due_at = $3, attempts = o.attempts + 1, updated_at = $1
FROM due WHERE o.id = due.id
RETURNING o.id
""",
    sqlite="""
UPDATE outbox SET due_at = $3, attempts = attempts + 1, updated_at = $1
WHERE id IN (
    SELECT id FROM outbox WHERE status = 'pending' AND due_at <= $1
    ORDER BY due_at, id LIMIT $2
)
RETURNING id
""",
)
# The contact's discretion as it is at sending time: the channel then hides who is writing;
# and her opt-out as it is then: a STOP that came after the reply was written still holds it.
_OUTBOX_ITEMS = """
SELECT o.id, o.attempts, m.id, m.conversation_id, m.channel, i.address, m.body, t.discretion,
       m.author_id IS NULL,  -- no author: an automatic reply
       m.created_at, i.opted_out_at IS NOT NULL,
       -- the survey's question (storage.surveys marks it): with her language
       (SELECT coalesce(l.language, 'ja') FROM auto_replies a
        LEFT JOIN consulter_languages l
          ON l.channel = i.channel AND l.identity_hash = i.identity_hash
        WHERE a.conversation_id = m.conversation_id AND a.kind = 'survey' AND a.message_id = m.id)
FROM outbox o
JOIN messages m ON m.id = o.message_id
JOIN conversations c ON c.id = m.conversation_id
JOIN channel_identities i ON i.id = c.identity_id
JOIN contacts t ON t.id = c.contact_id
WHERE o.id {} ORDER BY o.id
"""
OUTBOX_ITEMS = Dialects(
    postgres=_OUTBOX_ITEMS.format("= ANY($1::bigint[])"),
    sqlite=_OUTBOX_ITEMS.format("IN (SELECT value FROM json_each($1))"),
)
# A status callback may have come first (it finds the row by the outbox id in its URL): a
# failure it recorded stays, with its reason, and its provider_status is never lowered.
MARK_SENT = """
UPDATE outbox SET status = CASE WHEN status = 'failed' THEN status ELSE 'sent' END,
    provider_id = $2,
    last_error = CASE WHEN status = 'failed' THEN last_error END, updated_at = $3
WHERE id = $1
RETURNING message_id, status, provider_status
"""
MARK_RETRY = """
UPDATE outbox SET due_at = $2, last_error = $3, updated_at = $4 WHERE id = $1 RETURNING id
"""
MARK_FAILED = """
UPDATE outbox SET status = 'failed', last_error = $2, updated_at = $3 WHERE id = $1
RETURNING message_id
"""
# external_id (the provider's id) is kept unless a new one is given.
SET_DELIVERY = """
UPDATE messages SET delivery_status = $2, external_id = coalesce($3, external_id) WHERE id = $1
RETURNING conversation_id
"""
NEXT_DUE = "SELECT min(due_at) FROM outbox WHERE status = 'pending'"
OPTED_OUT_EVENT = "sms_opted_out"
# Her opt-out told by the provider (Twilio 21610: she sent STOP to the carrier), found by the
# conversation's own identity.
OPT_OUT_CONVERSATION = """
UPDATE channel_identities SET opted_out_at = $2
WHERE id = (SELECT identity_id FROM conversations WHERE id = $1)
  AND channel = 'sms' AND opted_out_at IS NULL
RETURNING id
"""


async def opt_out_recipient(tx: Tx, conversation_id: int, now: datetime) -> None:
    """Record that the conversation's SMS recipient refuses every message, as Twilio said."""
    if await tx.fetchval(OPT_OUT_CONVERSATION, conversation_id, now) is not None:
        await events.record(
            tx, OPTED_OUT_EVENT, now, conversation_id=conversation_id, data={"via": "provider"}
        )


OPTED_OUT = """
SELECT i.opted_out_at IS NOT NULL
FROM conversations c JOIN channel_identities i ON i.id = c.identity_id
WHERE c.id = $1
"""


async def claim_outbox(tx: Tx, now: datetime, limit: int, lease_s: float) -> list[OutboxItem]:
    until = now + timedelta(seconds=lease_s)
    claimed = [int(r[0]) for r in await tx.fetch(CLAIM_OUTBOX, now, limit, until)]
    if not claimed:
        return []
    return [rows.outbox_item(r, tx.parse_time) for r in await tx.fetch(OUTBOX_ITEMS, claimed)]


async def set_delivery(
    tx: Tx, message_id: int, status: DeliveryStatus, external_id: str | None = None
) -> int:
    """Set the message's delivery (and its provider id when given); its conversation."""
    return int(await tx.fetchval(SET_DELIVERY, message_id, status, external_id))


async def deliver(
    tx: Tx,
    outbox_id: OutboxId,
    update: str,
    args: tuple[object, ...],
    delivery: tuple[DeliveryStatus, str | None],
) -> tuple[int, int]:
    """Update the outbox row by `update` (which returns its message), then its message's
    delivery; the (message id, conversation id) for the event. NotFound for an unknown row."""
    message_id = await tx.fetchval(update, outbox_id, *args)
    if message_id is None:
        raise NotFound(f"outbox item {outbox_id} does not exist")
    return int(message_id), await set_delivery(tx, message_id, *delivery)


class Outbox:
    """The OutboxStore operations of both stores, over the store's Database."""

    _db: Database

    async def claim_outbox(self, *, now: datetime, limit: int, lease_s: float) -> list[OutboxItem]:
        return await self._db.write(lambda tx: claim_outbox(tx, now, limit, lease_s))

    async def mark_sent(
        self,
        outbox_id: OutboxId,
        *,
        provider_id: str,
        now: datetime,
        channel: ChannelKind | None = None,
        survey: bool = False,
    ) -> None:
        data: dict[str, object] = {} if channel is None else {"channel": channel.value}
        if survey:
            data["survey"] = True

        async def op(tx: Tx) -> None:
            found = await tx.fetchrow(MARK_SENT, outbox_id, provider_id, now)
            if found is None:
                raise NotFound(f"outbox item {outbox_id} does not exist")
            message_id, status, provider_status = int(found[0]), found[1], found[2]
            if status == "failed":  # its failure callback came first: FAILED stays
                await set_delivery(tx, message_id, DeliveryStatus.FAILED, provider_id)
                return
            delivery = (
                DeliveryStatus.DELIVERED if provider_status == "delivered" else DeliveryStatus.SENT
            )
            conversation_id = await set_delivery(tx, message_id, delivery, provider_id)
            await events.record(
                tx,
                "reply_sent",
                now,
                conversation_id=conversation_id,
                message_id=message_id,
                data=data or None,
            )

        await self._db.write(op)

    async def mark_retry(
        self, outbox_id: OutboxId, *, error: str, retry_at: datetime, now: datetime
    ) -> None:
        found = await self._db.write(
            lambda tx: tx.fetchval(MARK_RETRY, outbox_id, retry_at, error, now)
        )
        if found is None:
            raise NotFound(f"outbox item {outbox_id} does not exist")

    async def mark_failed(
        self, outbox_id: OutboxId, *, error: str, now: datetime, opted_out: bool = False
    ) -> None:
        async def op(tx: Tx) -> None:
            message_id, conversation_id = await deliver(
                tx, outbox_id, MARK_FAILED, (error, now), (DeliveryStatus.FAILED, None)
            )
            if opted_out:
                await opt_out_recipient(tx, conversation_id, now)
            await events.record(
                tx,
                "reply_failed",
                now,
                conversation_id=conversation_id,
                message_id=message_id,
                data={"error": error},
            )

        await self._db.write(op)

    async def next_outbox_due(self) -> datetime | None:
        found = await self._db.read(lambda tx: tx.fetchval(NEXT_DUE))
        return None if found is None else self._db.parse_time(found)

    async def recipient_opted_out(self, conversation_id: ConversationId) -> bool:
        found = None
        if rows.id_fits(conversation_id):
            found = await self._db.read(lambda tx: tx.fetchval(OPTED_OUT, conversation_id))
        if found is None:
            raise NotFound(f"conversation {conversation_id} does not exist")
        return bool(found)
