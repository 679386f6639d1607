"""The satisfaction survey, written once for both stores: asked at most once per conversation
(surveys' primary key), answered at most once, and the answer kept apart.

Her answer goes to survey_answers with its channel and day only: no column leads back to her or
her conversation, and its id is drawn at random (a sequence would order the answers, and the
order of the surveys answered could then tell whose is whose). surveys.answered says only that
she answered; the answer's value is never read by anything that knows the conversation.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import date, datetime

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
INSERT INTO surveys (conversation_id, channel, asked_at, token_hash) VALUES ($1, $2, $3, $4)
ON CONFLICT (conversation_id) DO NOTHING
RETURNING conversation_id
"""
MARK_SURVEY_MESSAGE = """
INSERT INTO auto_replies (conversation_id, kind, message_id, sent_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (conversation_id, kind) DO NOTHING
"""
# The one conditional update that makes an answer count once: not answered yet, not expired.
# The link's token is forgotten with it (single use).
_ANSWER = """
UPDATE surveys SET answered = true, token_hash = NULL
WHERE {} AND channel = $2 AND answered = false AND asked_at >= $3
RETURNING conversation_id
"""
ANSWER_BY_CONVERSATION = _ANSWER.format("conversation_id = $1")
ANSWER_BY_TOKEN = _ANSWER.format("token_hash = $1")
# The random id: see the module's docstring.
INSERT_ANSWER = "INSERT INTO survey_answers (id, channel, answer, on_day) VALUES ($1, $2, $3, $4)"
# Her latest open survey on an identity (her chat session, her number), with its message. With
# $4 true only while its conversation is still her latest and still closed: an SMS digit is an
# answer only when nothing else came from her since the question (she wrote again: a message).
OPEN_SURVEY = """
SELECT s.conversation_id, a.message_id FROM surveys s
JOIN conversations c ON c.id = s.conversation_id
JOIN channel_identities i ON i.id = c.identity_id
LEFT JOIN auto_replies a ON a.conversation_id = s.conversation_id AND a.kind = 'survey'
WHERE i.channel = $1 AND i.identity_hash = $2 AND s.answered = false AND s.asked_at >= $3
  AND (NOT $4 OR (c.status = 'closed' AND NOT EXISTS (
      SELECT 1 FROM conversations later
      WHERE later.identity_id = c.identity_id AND later.id > c.id)))
ORDER BY s.conversation_id DESC LIMIT 1
"""
TOKEN_OPEN = """
SELECT 1 FROM surveys WHERE token_hash = $1 AND channel = $2 AND answered = false
  AND asked_at >= $3
"""
SURVEY_STATE = "SELECT answered FROM surveys WHERE conversation_id = $1"
COUNTS = """
SELECT answer, count(*) FROM survey_answers WHERE on_day >= $1 AND on_day <= $2
GROUP BY answer ORDER BY answer
"""


def _random_id() -> int:
    return secrets.randbelow(2**62) + 1


async def answer_survey(tx: Tx, found: SurveyAnswer) -> bool:
    """Record her answer once: the survey marked answered, then (only if that changed it) the
    answer, apart. False when there was nothing open to answer (unknown, answered, expired)."""
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
    await tx.execute(
        INSERT_ANSWER, _random_id(), found.channel.value, found.answer, found.on_day.isoformat()
    )
    return True


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
    ) -> Message | None:
        async def op(tx: Tx) -> Message | None:
            row = await tx.fetchrow(ASKING, conversation_id)
            if row is None or row[1] != "closed":
                return None
            channel, _, discretion, opted_out, language = row
            if (discretion and not when_discreet) or opted_out:
                return None
            if await tx.fetchval(INSERT_SURVEY, conversation_id, channel, now, token_hash) is None:
                return None  # asked before: once per conversation
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
    ) -> bool:
        async def op(tx: Tx) -> bool:
            found = await tx.fetchrow(
                OPEN_SURVEY, channel.value, identity_hash, asked_since, latest_closed
            )
            if found is None:
                return False
            return await answer_survey(
                tx,
                SurveyAnswer(
                    channel=channel,
                    answer=answer,
                    on_day=on_day,
                    asked_since=asked_since,
                    conversation_id=ConversationId(int(found[0])),
                ),
            )

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
