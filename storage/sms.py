"""The SMS channel's state, written once: numbers that opted out (STOP / START) and what Twilio's
status callbacks say of a sent reply."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from inbox.core.model import ChannelKind, ConversationId, DeliveryStatus, OutboxId
from inbox.core.sms import (
    FAILED_STATUSES,
    PROVIDER_STATUS_RANK,
    UNSUBSCRIBED_CODE,
    provider_error_text,
)
from storage import events, rows
from storage.outbox import OPTED_OUT_EVENT, opt_out_recipient, set_delivery
from storage.sql import Database, Tx

OPTED_IN_EVENT = "sms_opted_in"
# A LINE consulter who blocks the account (unfollow) can be sent nothing, as after STOP.
BLOCKED_EVENT, UNBLOCKED_EVENT = "line_blocked", "line_unblocked"
OPT_EVENTS = {
    ChannelKind.SMS: (OPTED_OUT_EVENT, OPTED_IN_EVENT),
    ChannelKind.LINE: (BLOCKED_EVENT, UNBLOCKED_EVENT),
}
DELIVERED_EVENT, FAILED_EVENT = "reply_delivered", "reply_failed"

# Each changes the row only when its state differs, so `RETURNING` says whether it changed.
OPT_OUT = """
UPDATE channel_identities SET opted_out_at = $2
WHERE channel = $3 AND identity_hash = $1 AND opted_out_at IS NULL
RETURNING id
"""
OPT_IN = """
UPDATE channel_identities SET opted_out_at = NULL
WHERE channel = $2 AND identity_hash = $1 AND opted_out_at IS NOT NULL
RETURNING id
"""
IS_OPTED_OUT = """
SELECT opted_out_at IS NOT NULL FROM channel_identities
WHERE channel = $2 AND identity_hash = $1
"""
_RANK = (
    "CASE coalesce(provider_status, '') "
    + " ".join(f"WHEN '{status}' THEN {rank}" for status, rank in PROVIDER_STATUS_RANK.items())
    + " ELSE 0 END"
)
# ONE conditional statement: the stored status is compared with the new one in the database, so
# two callbacks handled at once cannot both win (PostgreSQL re-checks the WHERE on the row it
# waited for; SQLite has one writer). A failure also fails the outbox row, as a bounce does.
_RECORD_STATUS = f"""
UPDATE outbox SET provider_status = $2, provider_error = $3, updated_at = $4,
    status = CASE WHEN $5 THEN 'failed' ELSE status END,
    last_error = CASE WHEN $5 THEN $3 ELSE last_error END{{}}
WHERE {{}} AND {_RANK} < $6
RETURNING message_id
"""
# By MessageSid: callbacks to the old URL, without ?outbox=.
RECORD_STATUS = _RECORD_STATUS.format("", "provider_id = $1")
# By our outbox id, from the callback URL: found even when the callback wins the race with
# mark_sent (Twilio may call back before create's answer is recorded); the SID is kept then.
RECORD_STATUS_BY_OUTBOX = _RECORD_STATUS.format(
    ",\n    provider_id = coalesce(provider_id, $7)", "id = $1"
)


async def set_opt_out(
    tx: Tx,
    identity_hash: str,
    opted_out: bool,
    now: datetime,
    conversation_id: ConversationId | None,
    channel: ChannelKind = ChannelKind.SMS,
) -> bool:
    """Set or clear her identity's opt-out; with its event on `conversation_id` (her latest,
    which her counselor sees) when it changed. False: it was so already, or she is unknown."""
    if opted_out:
        changed = await tx.fetchval(OPT_OUT, identity_hash, now, channel.value)
    else:
        changed = await tx.fetchval(OPT_IN, identity_hash, channel.value)
    if changed is None:
        return False
    out_kind, in_kind = OPT_EVENTS[channel]
    if conversation_id is not None:
        await events.record(
            tx, out_kind if opted_out else in_kind, now, conversation_id=conversation_id
        )
    return True


async def apply_keywords(tx: Tx, opts: Sequence[tuple[str, bool, datetime, int]]) -> None:
    """Inside the intake's transaction: each (identity hash, opted out, at, conversation) of
    the batch's STOP / START texts, in order (a STOP then a START in one batch ends opted in)."""
    for identity_hash, opted_out, now, conversation_id in opts:
        await set_opt_out(tx, identity_hash, opted_out, now, ConversationId(conversation_id))


async def record_provider_status(
    tx: Tx,
    provider_id: str,
    status: str,
    error_code: int | None,
    now: datetime,
    outbox_id: OutboxId | None = None,
) -> bool:
    failed = status in FAILED_STATUSES
    error = provider_error_text(status, error_code) if failed or error_code else None
    args = (status, error, now, failed, PROVIDER_STATUS_RANK[status])
    if outbox_id is None:
        message_id = await tx.fetchval(RECORD_STATUS, provider_id, *args)
    elif rows.id_fits(outbox_id):
        message_id = await tx.fetchval(RECORD_STATUS_BY_OUTBOX, outbox_id, *args, provider_id)
    else:
        message_id = None
    if message_id is None:
        return False  # unknown, or older than what is stored
    data: dict[str, object] | None = None
    if failed:
        delivery, kind, data = DeliveryStatus.FAILED, FAILED_EVENT, {"error": error}
    elif status == "delivered":
        delivery, kind = DeliveryStatus.DELIVERED, DELIVERED_EVENT
    else:
        return True  # on its way: the message stays SENT
    conversation_id = await set_delivery(tx, message_id, delivery)
    if failed and error_code == UNSUBSCRIBED_CODE:
        await opt_out_recipient(tx, int(conversation_id), now)
    await events.record(
        tx, kind, now, conversation_id=conversation_id, message_id=message_id, data=data
    )
    return True


class Sms:
    """The SmsStore operations of both stores, over the store's Database."""

    _db: Database

    async def set_opt_out(
        self,
        identity_hash: str,
        opted_out: bool,
        *,
        now: datetime,
        conversation_id: ConversationId | None,
        channel: ChannelKind = ChannelKind.SMS,
    ) -> bool:
        return await self._db.write(
            lambda tx: set_opt_out(tx, identity_hash, opted_out, now, conversation_id, channel)
        )

    async def is_opted_out(
        self, identity_hash: str, channel: ChannelKind = ChannelKind.SMS
    ) -> bool:
        found = await self._db.read(
            lambda tx: tx.fetchval(IS_OPTED_OUT, identity_hash, channel.value)
        )
        return bool(found)

    async def record_provider_status(
        self,
        provider_id: str,
        status: str,
        error_code: int | None,
        *,
        now: datetime,
        outbox_id: OutboxId | None = None,
    ) -> bool:
        if status not in PROVIDER_STATUS_RANK:
            raise ValueError(f"unknown provider status {status!r}")
        return await self._db.write(
            lambda tx: record_provider_status(tx, provider_id, status, error_code, now, outbox_id)
        )
