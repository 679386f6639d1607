"""The LINE channel's state, written once for both stores: reply tokens, and the webhook events
that are not messages (follow, unfollow, postback), each kept once by its webhookEventId.

A reply token is single use and valid about a minute; it is kept per identity (her latest one)
and taken by deleting it, so that of two senders (two instances) only one can use it. An
unfollow is her block: her identity's opt-out (storage.sms.set_opt_out), as an SMS STOP is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from inbox.core.line import ChannelEvent, Follow, FriendsDay, friends_by_day
from inbox.core.model import ChannelKind, ConversationId
from storage import events
from storage.sms import set_opt_out
from storage.sql import Database, Dialects, Tx
from storage.surveys import answer_survey, day_only

POSTBACK_EVENT = "line_postback"
MAX_POSTBACK_DATA = 300  # LINE's own limit on a postback action's data

KEEP_REPLY_TOKEN = """
INSERT INTO reply_tokens (channel, identity_hash, token, expires_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (channel, identity_hash) DO UPDATE SET token = $3, expires_at = $4
WHERE reply_tokens.expires_at < $4
"""
# Taken by deleting it: of two senders asking at once, one gets it. An expired one is removed
# as well (it is of no use), and answers nothing.
TAKE_REPLY_TOKEN = """
DELETE FROM reply_tokens WHERE channel = $1 AND identity_hash = $2
RETURNING token, expires_at
"""
KEEP_EVENT = """
INSERT INTO channel_events (channel, event_id, kind, at, identity_hash, data)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (channel, event_id) DO NOTHING
RETURNING event_id
"""
LATEST_CONVERSATION = """
SELECT c.id FROM conversations c JOIN channel_identities i ON i.id = c.identity_id
WHERE i.channel = $1 AND i.identity_hash = $2
ORDER BY c.id DESC LIMIT 1
"""
# LINE may redeliver an event after later ones (its first delivery failed): a follow or unfollow
# older than one already kept for her is counted but not applied, so the later one stands.
_LOCK_IDENTITY = "SELECT id FROM channel_identities WHERE channel = $1 AND identity_hash = $2"
LOCK_IDENTITY = Dialects(postgres=f"{_LOCK_IDENTITY} FOR UPDATE", sqlite=_LOCK_IDENTITY)
NEWER_FOLLOW = """
SELECT 1 FROM channel_events
WHERE channel = $1 AND identity_hash = $2 AND kind IN ('follow', 'unfollow') AND at > $3
LIMIT 1
"""
HAS_DISPLAY_NAME = """
SELECT display_name IS NOT NULL FROM channel_identities WHERE channel = $1 AND identity_hash = $2
"""
SET_DISPLAY_NAME = """
UPDATE channel_identities SET display_name = $3 WHERE channel = $1 AND identity_hash = $2
"""
EVENTS_BETWEEN = """
SELECT kind, at FROM channel_events
WHERE channel = $1 AND kind IN ('follow', 'unfollow') AND at >= $2 AND at < $3
"""


async def keep_tokens(tx: Tx, tokens: Sequence[tuple[str, str, str, datetime]]) -> None:
    """Inside the intake's transaction: each (channel, identity hash, token, expiry) of the
    batch's new messages, so that an automatic reply queued on its commit finds the token."""
    await tx.executemany(KEEP_REPLY_TOKEN, tokens)


async def keep_event(tx: Tx, channel: ChannelKind, event: ChannelEvent) -> bool:
    """Store one event and apply it, unless it was stored before (a redelivery): True when new.
    An unfollow blocks her (nothing is sent until she follows again), a follow unblocks her;
    both, and a postback, are events on her latest conversation, which her counselor sees."""
    kept = await tx.fetchval(
        KEEP_EVENT,
        channel.value,
        event.event_id,
        event.kind.value,
        # a survey's answer: its day only, no minute to match with her question's
        event.at if event.survey is None else day_only(event.survey.on_day),
        event.identity_hash,
        event.data,
    )
    if kept is None:
        return False
    if event.survey is not None:  # her answer, once (a redelivery was refused above)
        await answer_survey(tx, event.survey)
        return True
    found = await tx.fetchval(LATEST_CONVERSATION, channel.value, event.identity_hash)
    conversation_id = None if found is None else ConversationId(int(found))
    if event.kind in (Follow.FOLLOW, Follow.UNFOLLOW):
        # Her identity's row is locked first (PostgreSQL; SQLite has one writer): of two
        # instances applying her follow and an older unfollow at once, the second waits, then
        # sees the first's event below and leaves her state as the later one set it.
        await tx.fetchval(LOCK_IDENTITY, channel.value, event.identity_hash)
        if await tx.fetchval(NEWER_FOLLOW, channel.value, event.identity_hash, event.at):
            return True  # a later follow or unfollow decided her state already
        blocked = event.kind is Follow.UNFOLLOW
        await set_opt_out(tx, event.identity_hash, blocked, event.at, conversation_id, channel)
    elif conversation_id is not None:  # a postback
        await events.record(
            tx,
            POSTBACK_EVENT,
            event.at,
            conversation_id=conversation_id,
            data={"data": (event.data or "")[:MAX_POSTBACK_DATA]},
        )
    return True


class Line:
    """The LineStore operations of both stores, over the store's Database."""

    _db: Database

    async def keep_reply_token(
        self, channel: ChannelKind, identity_hash: str, token: str, *, expires_at: datetime
    ) -> None:
        # A token that lives longer replaces the one kept; an older one (a redelivered event's,
        # long used or expired) does not.
        await self._db.write(
            lambda tx: tx.execute(KEEP_REPLY_TOKEN, channel.value, identity_hash, token, expires_at)
        )

    async def take_reply_token(
        self, channel: ChannelKind, identity_hash: str, *, now: datetime
    ) -> str | None:
        async def op(tx: Tx) -> str | None:
            row = await tx.fetchrow(TAKE_REPLY_TOKEN, channel.value, identity_hash)
            if row is None or tx.parse_time(row[1]) <= now:
                return None
            return str(row[0])

        return await self._db.write(op)

    async def keep_channel_events(
        self, channel: ChannelKind, events_: Sequence[ChannelEvent]
    ) -> list[bool]:
        async def op(tx: Tx) -> list[bool]:
            return [await keep_event(tx, channel, event) for event in events_]

        return await self._db.write(op)

    async def has_display_name(self, channel: ChannelKind, identity_hash: str) -> bool:
        found = await self._db.read(
            lambda tx: tx.fetchval(HAS_DISPLAY_NAME, channel.value, identity_hash)
        )
        return bool(found)

    async def set_display_name(self, channel: ChannelKind, identity_hash: str, name: str) -> None:
        await self._db.write(
            lambda tx: tx.execute(SET_DISPLAY_NAME, channel.value, identity_hash, name)
        )

    async def friends_by_day(
        self, channel: ChannelKind, start: datetime, end: datetime, tz: ZoneInfo
    ) -> list[FriendsDay]:
        async def op(tx: Tx) -> list[FriendsDay]:
            rows = await tx.fetch(EVENTS_BETWEEN, channel.value, start, end)
            return friends_by_day([(str(r[0]), tx.parse_time(r[1])) for r in rows], tz)

        return await self._db.read(op)
