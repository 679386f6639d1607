"""The satisfaction survey, written once for both stores: asked at most once per conversation
(surveys' primary key), answered at most once, and the answer only counted.

Three tables (migration 16). `surveys` records that a conversation was asked; it is written
when the question is queued and never changed after. `open_surveys` holds what may still be
answered (with the token's hash where she answers by token): answering DELETEs its row, once (a
conditional DELETE ... RETURNING: a second answer finds nothing), and asking deletes the rows
expired on every channel. `survey_answers` holds counts only: (day, channel, answer) -> n, raised
by one per answer by an upsert. So the answering transaction writes no row that names her
conversation: on PostgreSQL its transaction id (xmin) is carried only by the count's row, which
everyone who gave the same answer on that channel that day shares, and by a channel_events row
with no identity where a provider's redelivery must be recognised (an SMS's MessageSid, a LINE
postback's event id; `at` is the day only).

What still leaks, and cannot be helped while counts are kept by day: a day and channel on which
one person answered at all shows her answer to anyone who can tell she was asked and answered
then (her open survey's row gone, her question's time); and on PostgreSQL the deleted
open_surveys row stays in its page, marked by the answering transaction, until VACUUM removes it
(read only with superuser tools such as pageinspect). Nor can a count's row hide when it was
last raised: its xmin falls among the ids of other transactions, which can time it, and matched
with when each question went out, that can point at whose answer was the last of its kind that
day.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime

from inbox.core.model import ChannelKind, ConversationId, Message, MessageId
from inbox.core.survey import SurveyAnswer
from storage import events, rows
from storage.desk import INSERT_OUTBOX, INSERT_REPLY
from storage.sql import Database, Tx

SURVEY_KIND = "survey"  # its message is marked in auto_replies by this kind (storage.outbox)
SURVEY_SENT = "survey_sent"
# What asking needs to know of her: closed, her discretion, her opt-out (an SMS STOP, a LINE
# block), her language where her chat told it.
ASKING = """
SELECT c.channel, c.status, t.discretion, i.opted_out_at IS NOT NULL, l.language
FROM conversations c
JOIN contacts t ON t.id = c.contact_id
JOIN channel_identities i ON i.id = c.identity_id
LEFT JOIN consulter_languages l ON l.channel = i.channel AND l.identity_hash = i.identity_hash
WHERE c.id = $1
"""
INSERT_SURVEY = """
INSERT INTO surveys (conversation_id, channel, asked_at) VALUES ($1, $2, $3)
ON CONFLICT (conversation_id) DO NOTHING
RETURNING conversation_id
"""
INSERT_OPEN = """
INSERT INTO open_surveys (conversation_id, channel, asked_at, token_hash) VALUES ($1, $2, $3, $4)
"""
EXPIRE_OPEN = "DELETE FROM open_surveys WHERE asked_at < $1"
MARK_SURVEY_MESSAGE = """
INSERT INTO auto_replies (conversation_id, kind, message_id, sent_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (conversation_id, kind) DO NOTHING
"""
# The one conditional delete that makes an answer count once: still open, not expired. The
# link's token goes with it (single use).
_ANSWER = """
DELETE FROM open_surveys WHERE {} AND channel = $2 AND asked_at >= $3
RETURNING conversation_id
"""
ANSWER_BY_CONVERSATION = _ANSWER.format("conversation_id = $1")
ANSWER_BY_TOKEN = _ANSWER.format("token_hash = $1")
# Her answer counted: one more of this answer on this day and channel (see the docstring).
COUNT_ANSWER = """
INSERT INTO survey_answers (on_day, channel, answer, n) VALUES ($1, $2, $3, 1)
ON CONFLICT (on_day, channel, answer) DO UPDATE SET n = survey_answers.n + 1
"""
# A provider's message that was taken as an answer (an SMS's MessageSid), kept without her
# identity or the answer, so that its redelivery is recognised and stores nothing.
SURVEY_EVENT = "survey_answer"
KEEP_ANSWER_EVENT = """
INSERT INTO channel_events (channel, event_id, kind, at, identity_hash) VALUES ($1, $2, $3, $4, '')
ON CONFLICT (channel, event_id) DO NOTHING
"""
ANSWER_EVENT = "SELECT 1 FROM channel_events WHERE channel = $1 AND event_id = $2 AND kind = $3"
# Her latest open survey on an identity (her chat session, her number), with its message. With
# $4 true only while its conversation is still her latest and still closed: an SMS digit is an
# answer only when nothing else came from her since the question (she wrote again: a message).
OPEN_SURVEY = """
SELECT s.conversation_id, a.message_id FROM open_surveys s
JOIN conversations c ON c.id = s.conversation_id
JOIN channel_identities i ON i.id = c.identity_id
LEFT JOIN auto_replies a ON a.conversation_id = s.conversation_id AND a.kind = 'survey'
WHERE i.channel = $1 AND i.identity_hash = $2 AND s.asked_at >= $3
  AND (NOT $4 OR (c.status = 'closed' AND NOT EXISTS (
      SELECT 1 FROM conversations later
      WHERE later.identity_id = c.identity_id AND later.id > c.id)))
ORDER BY s.conversation_id DESC LIMIT 1
"""
TOKEN_OPEN = """
SELECT 1 FROM open_surveys WHERE token_hash = $1 AND channel = $2 AND asked_at >= $3
"""
# Asked (a row), and whether it is no longer open (answered, or expired and deleted).
SURVEY_STATE = """
SELECT o.conversation_id IS NULL FROM surveys s
LEFT JOIN open_surveys o ON o.conversation_id = s.conversation_id
WHERE s.conversation_id = $1
"""
COUNTS = """
SELECT answer, sum(n) FROM survey_answers WHERE on_day >= $1 AND on_day <= $2
GROUP BY answer ORDER BY answer
"""


async def answer_survey(tx: Tx, found: SurveyAnswer) -> bool:
    """Count her answer once: her open survey deleted, then (only if that found it) one more of
    her answer counted, with nothing of her. False when there was nothing open to answer
    (unknown, answered, expired)."""
    if not 1 <= found.answer <= 4:
        return False
    key: object
    if found.conversation_id is not None:
        query, key = ANSWER_BY_CONVERSATION, found.conversation_id
    elif found.token_hash is not None:
        query, key = ANSWER_BY_TOKEN, found.token_hash
    else:
        return False
    if await tx.fetchval(query, key, found.channel.value, found.asked_since) is None:
        return False
    await tx.execute(COUNT_ANSWER, found.on_day.isoformat(), found.channel.value, found.answer)
    return True


def day_only(day: date) -> datetime:
    """An answer event's time: its day, never the minute (see the module's docstring)."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


class Surveys:
    """The SurveyStore operations of both stores, over the store's Database."""

    _db: Database

    async def ask_survey(
        self,
        conversation_id: ConversationId,
        *,
        bodies: Mapping[str, str],
        token_hash: str | None,
        now: datetime,
        when_discreet: bool = False,
        expired_before: datetime | None = None,
    ) -> Message | None:
        async def op(tx: Tx) -> Message | None:
            if expired_before is not None:
                await tx.execute(EXPIRE_OPEN, expired_before)
            row = await tx.fetchrow(ASKING, conversation_id)
            if row is None or row[1] != "closed":
                return None
            channel, _, discretion, opted_out, language = row
            if (discretion and not when_discreet) or opted_out:
                return None
            if await tx.fetchval(INSERT_SURVEY, conversation_id, channel, now) is None:
                return None  # asked before: once per conversation
            await tx.execute(INSERT_OPEN, conversation_id, channel, now, token_hash)
            body = bodies.get(language or "ja") or bodies["ja"]
            found = await tx.fetchrow(INSERT_REPLY, conversation_id, channel, body, None, now)
            assert found is not None
            message = rows.message(found, tx.parse_time)
            await tx.execute(INSERT_OUTBOX, message.id, now)
            await tx.execute(MARK_SURVEY_MESSAGE, conversation_id, SURVEY_KIND, message.id, now)
            await events.record(
                tx,
                SURVEY_SENT,
                now,
                conversation_id=conversation_id,
                message_id=message.id,
                data={"language": language or "ja"},
            )
            return message

        return await self._db.write(op)

    async def answer_survey(self, answer: SurveyAnswer) -> bool:
        return await self._db.write(lambda tx: answer_survey(tx, answer))

    async def answer_open_survey(
        self,
        channel: ChannelKind,
        identity_hash: str,
        answer: int,
        *,
        on_day: date,
        asked_since: datetime,
        latest_closed: bool,
        event_id: str | None = None,
    ) -> bool:
        async def taken(tx: Tx) -> bool:
            return event_id is not None and (
                await tx.fetchval(ANSWER_EVENT, channel.value, event_id, SURVEY_EVENT) is not None
            )

        async def op(tx: Tx) -> bool:
            if await taken(tx):
                return True  # a redelivery of the message that answered: nothing changes
            found = await tx.fetchrow(
                OPEN_SURVEY, channel.value, identity_hash, asked_since, latest_closed
            )
            answered = found is not None and await answer_survey(
                tx,
                SurveyAnswer(
                    channel=channel,
                    answer=answer,
                    on_day=on_day,
                    asked_since=asked_since,
                    conversation_id=ConversationId(int(found[0])),
                ),
            )
            if not answered:
                # Another instance may have just taken the same delivery (PostgreSQL: the
                # DELETE waited for it, then found nothing): its event is committed now.
                return await taken(tx)
            if event_id is not None:
                await tx.execute(
                    KEEP_ANSWER_EVENT, channel.value, event_id, SURVEY_EVENT, day_only(on_day)
                )
            return True

        return await self._db.write(op)

    async def open_survey_message(
        self,
        channel: ChannelKind,
        identity_hash: str,
        *,
        asked_since: datetime,
        latest_closed: bool = False,
    ) -> MessageId | None:
        async def op(tx: Tx) -> MessageId | None:
            found = await tx.fetchrow(
                OPEN_SURVEY, channel.value, identity_hash, asked_since, latest_closed
            )
            return None if found is None or found[1] is None else MessageId(int(found[1]))

        return await self._db.read(op)

    async def survey_token_open(
        self, token_hash: str, channel: ChannelKind, *, asked_since: datetime
    ) -> bool:
        found = await self._db.read(
            lambda tx: tx.fetchval(TOKEN_OPEN, token_hash, channel.value, asked_since)
        )
        return found is not None

    async def survey_state(self, conversation_id: ConversationId) -> bool | None:
        found = await self._db.read(lambda tx: tx.fetchval(SURVEY_STATE, conversation_id))
        return None if found is None else bool(found)

    async def survey_counts(self, first_day: date, last_day: date) -> dict[int, int]:
        found = await self._db.read(
            lambda tx: tx.fetch(COUNTS, first_day.isoformat(), last_day.isoformat())
        )
        counts = dict.fromkeys(range(1, 5), 0)
        counts.update({int(r[0]): int(r[1]) for r in found})
        return counts
