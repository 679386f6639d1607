"""The Store contract for the satisfaction survey (storage.surveys), on both stores: asked once
per closed conversation and never to a discreet or opted-out consulter, answered once (by
conversation, by token, by her open survey), refused when expired or on another channel, and
the answer only counted: nothing written when she answers leads back to her (survey_answers
holds counts by day, channel and answer; the answering transaction writes no row that names her
conversation, which on PostgreSQL its xmin would pair with her answer)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from inbox.core.model import ChannelKind, ConversationId, UserId
from inbox.core.survey import SurveyAnswer
from storage.base import Store
from storage.sql import Tx
from storage.surveys import answer_survey
from tests.factories import at, inbound, new_user

WEBCHAT, SMS, LINE, MAIL = (
    ChannelKind.WEBCHAT,
    ChannelKind.SMS,
    ChannelKind.LINE,
    ChannelKind.MAIL,
)
BODIES = {"ja": "今回の相談はいかがでしたか？", "en": "How was your consultation today?"}
DAY = date(2026, 11, 22)


async def _closed(
    store: Store, sender: str, channel: ChannelKind = WEBCHAT
) -> tuple[str, ConversationId, UserId]:
    item = inbound(sender, channel=channel)
    (stored,) = await store.save_inbound_batch([item])
    user = await store.create_user(new_user(f"u{abs(hash(sender)) % 10**6}"), now=at(0))
    await store.close(stored.conversation_id, actor_id=user.id, now=at(100))
    return item.identity_hash, stored.conversation_id, user.id


def _answer(channel: ChannelKind, answer: int, since: datetime, **key: Any) -> SurveyAnswer:
    return SurveyAnswer(channel=channel, answer=answer, on_day=DAY, asked_since=since, **key)


async def _raw(store: Store, query: str, *args: Any) -> list[Any]:
    return list(await store._db.read(lambda tx: tx.fetch(query, *args)))  # type: ignore[attr-defined]


async def test_asked_once_per_conversation_with_its_question_in_the_outbox(store: Store) -> None:
    _, conv, _ = await _closed(store, "s-once")
    first = await store.ask_survey(conv, bodies=BODIES, token_hash=None, now=at(101))
    assert first is not None and first.body == BODIES["ja"] and first.author_id is None
    assert await store.ask_survey(conv, bodies=BODIES, token_hash=None, now=at(102)) is None
    assert await store.survey_state(conv) is False
    (item,) = await store.claim_outbox(now=at(103), limit=10, lease_s=30)
    assert item.message.message_id == first.id and item.message.survey is not None
    assert item.message.survey.language == "ja" and item.message.survey.token == ""
    assert [e.kind for e in await store.list_events() if e.kind == "survey_sent"] == ["survey_sent"]


async def test_her_language_picks_the_body(store: Store) -> None:
    identity, conv, _ = await _closed(store, "s-en")
    await store.set_consulter_language(WEBCHAT, identity, "en", now=at(1))
    asked = await store.ask_survey(conv, bodies=BODIES, token_hash=None, now=at(101))
    assert asked is not None and asked.body == BODIES["en"]


async def test_not_asked_while_open_when_discreet_or_opted_out(store: Store) -> None:
    item = inbound("s-open")
    (stored,) = await store.save_inbound_batch([item])
    assert (
        await store.ask_survey(stored.conversation_id, bodies=BODIES, token_hash=None, now=at(101))
        is None
    )  # not closed
    _, conv, user = await _closed(store, "s-discreet")
    await store.set_discretion(conv, True, actor_id=user, now=at(100))
    assert await store.ask_survey(conv, bodies=BODIES, token_hash=None, now=at(101)) is None
    assert await store.survey_state(conv) is None  # nothing written
    allowed = await store.ask_survey(
        conv, bodies=BODIES, token_hash=None, now=at(101), when_discreet=True
    )
    assert allowed is not None
    identity, conv, _ = await _closed(store, "+819012345678", SMS)
    await store.set_opt_out(identity, True, now=at(100), conversation_id=conv)
    assert await store.ask_survey(conv, bodies=BODIES, token_hash=None, now=at(101)) is None
    assert await store.survey_state(conv) is None


async def test_answered_once_and_counted_apart(store: Store) -> None:
    _, conv, _ = await _closed(store, "s-answer")
    await store.ask_survey(conv, bodies=BODIES, token_hash=None, now=at(101))
    since = at(0)
    assert await store.answer_survey(_answer(WEBCHAT, 2, since, conversation_id=conv))
    assert not await store.answer_survey(_answer(WEBCHAT, 1, since, conversation_id=conv))
    assert await store.survey_state(conv) is True
    assert await store.survey_counts(DAY, DAY) == {1: 0, 2: 1, 3: 0, 4: 0}
    assert await store.survey_counts(DAY + timedelta(days=1), DAY + timedelta(days=9)) == {
        1: 0,
        2: 0,
        3: 0,
        4: 0,
    }


async def test_expired_unknown_or_another_channels_answer_is_refused(store: Store) -> None:
    _, conv, _ = await _closed(store, "s-expired")
    await store.ask_survey(conv, bodies=BODIES, token_hash=None, now=at(101))
    assert not await store.answer_survey(_answer(WEBCHAT, 1, at(102), conversation_id=conv))
    assert not await store.answer_survey(_answer(SMS, 1, at(0), conversation_id=conv))
    assert not await store.answer_survey(_answer(WEBCHAT, 1, at(0), conversation_id=999999))
    assert not await store.answer_survey(_answer(WEBCHAT, 5, at(0), conversation_id=conv))
    assert await store.survey_state(conv) is False
    assert sum((await store.survey_counts(DAY, DAY)).values()) == 0


async def test_a_token_answers_once_and_is_forgotten(store: Store) -> None:
    _, conv, _ = await _closed(store, "s-token@example.jp", MAIL)
    await store.ask_survey(conv, bodies=BODIES, token_hash="h" * 64, now=at(101))
    assert await store.survey_token_open("h" * 64, MAIL, asked_since=at(0))
    assert not await store.survey_token_open("h" * 64, MAIL, asked_since=at(102))  # expired
    assert not await store.survey_token_open("x" * 64, MAIL, asked_since=at(0))
    assert not await store.answer_survey(_answer(MAIL, 1, at(0), token_hash="x" * 64))
    assert await store.answer_survey(_answer(MAIL, 1, at(0), token_hash="h" * 64))
    assert not await store.answer_survey(_answer(MAIL, 1, at(0), token_hash="h" * 64))
    assert not await store.survey_token_open("h" * 64, MAIL, asked_since=at(0))
    assert await _raw(store, "SELECT token_hash FROM open_surveys") == []


async def test_her_open_survey_is_her_latest_and_with_latest_closed_only_untouched(
    store: Store,
) -> None:
    identity, conv, _ = await _closed(store, "+819011112222", SMS)
    asked = await store.ask_survey(conv, bodies=BODIES, token_hash=None, now=at(101))
    assert asked is not None
    found = await store.open_survey_message(SMS, identity, asked_since=at(0), latest_closed=True)
    assert found == asked.id
    # she wrote again: a new conversation; the digit is no answer to the old survey now
    (again,) = await store.save_inbound_batch([inbound("+819011112222", channel=SMS)])
    assert again.conversation_id != conv
    assert not await store.answer_open_survey(
        SMS, identity, 1, on_day=DAY, asked_since=at(0), latest_closed=True
    )
    # her chat's buttons still answer it
    assert await store.answer_open_survey(
        SMS, identity, 3, on_day=DAY, asked_since=at(0), latest_closed=False
    )
    assert await store.open_survey_message(SMS, identity, asked_since=at(0)) is None
    assert (await store.survey_counts(DAY, DAY))[3] == 1


def _postgres(store: Store) -> bool:
    return "Postgres" in type(store).__name__


async def _columns(store: Store, table: str) -> set[str]:
    if _postgres(store):
        query = "SELECT column_name FROM information_schema.columns WHERE table_name = $1"
        return {str(r[0]) for r in await _raw(store, query, table)}
    return {str(r[1]) for r in await _raw(store, f"PRAGMA table_info({table})")}


async def test_the_answers_are_counts_by_day_channel_and_answer(store: Store) -> None:
    """Anonymity: survey_answers has the day, the channel, the answer and how many gave it:
    no row per answer (its id or order could be paired with the surveys')."""
    for n in range(6):
        _, conv, _ = await _closed(store, f"s-anon-{n}")
        await store.ask_survey(conv, bodies=BODIES, token_hash=None, now=at(101))
        assert await store.answer_survey(_answer(WEBCHAT, 1 + n % 4, at(0), conversation_id=conv))
    assert await _columns(store, "survey_answers") == {"on_day", "channel", "answer", "n"}
    found = await _raw(store, "SELECT on_day, channel, answer, n FROM survey_answers")
    assert sorted(tuple(r) for r in found) == [
        (DAY.isoformat(), "webchat", 1, 2),
        (DAY.isoformat(), "webchat", 2, 2),
        (DAY.isoformat(), "webchat", 3, 1),
        (DAY.isoformat(), "webchat", 4, 1),
    ]
    assert await store.survey_counts(DAY, DAY) == {1: 2, 2: 2, 3: 1, 4: 1}


async def test_answering_writes_no_row_that_names_her_conversation(store: Store) -> None:
    """Her survey's record of asking is left as it was and her open survey is gone; on
    PostgreSQL no row of a table with a conversation_id carries the answering transaction's
    id (xmin), which the count's row does, shared with the others who answered the same."""
    identity, conv, _ = await _closed(store, "+819033334444", SMS)
    await store.ask_survey(conv, bodies=BODIES, token_hash=None, now=at(101))
    asked_query = "SELECT conversation_id, channel, asked_at{} FROM surveys".format(
        ", xmin::text" if _postgres(store) else ""
    )
    before = [tuple(r) for r in await _raw(store, asked_query)]
    assert len(before) == 1

    async def op(tx: Tx) -> int | None:
        xid = None
        if _postgres(store):
            xid = int(await tx.fetchval("SELECT txid_current() % 4294967296"))
        found = _answer(SMS, 2, at(0), conversation_id=conv)
        assert await answer_survey(tx, found)
        return xid

    xid = await store._db.write(op)  # type: ignore[attr-defined]
    assert [tuple(r) for r in await _raw(store, asked_query)] == before
    assert await _raw(store, "SELECT conversation_id FROM open_surveys") == []
    assert await store.survey_counts(DAY, DAY) == {1: 0, 2: 1, 3: 0, 4: 0}
    assert await store.open_survey_message(SMS, identity, asked_since=at(0)) is None
    if xid is None:
        return
    tables = await _raw(
        store,
        "SELECT table_name FROM information_schema.columns "
        "WHERE column_name = 'conversation_id' AND table_schema = current_schema()",
    )
    assert {"surveys", "open_surveys", "messages", "events"} <= {str(t[0]) for t in tables}
    for (table,) in tables:
        query = f"SELECT count(*) FROM {table} WHERE xmin::text::bigint = $1"
        assert (await _raw(store, query, xid))[0][0] == 0, table
    query = "SELECT count(*) FROM survey_answers WHERE xmin::text::bigint = $1"
    assert (await _raw(store, query, xid))[0][0] == 1  # the check sees what it looks for


async def test_a_redelivered_answer_is_recognised_by_its_event_id(store: Store) -> None:
    """An SMS's MessageSid that answered is kept without her identity or the answer; its
    redelivery is True (taken) and counts nothing; another id finds nothing open."""
    identity, conv, _ = await _closed(store, "+819055556666", SMS)
    await store.ask_survey(conv, bodies=BODIES, token_hash=None, now=at(101))

    async def digit(sid: str) -> bool:
        return await store.answer_open_survey(
            SMS, identity, 4, on_day=DAY, asked_since=at(0), latest_closed=True, event_id=sid
        )

    assert await digit("SM1")
    assert await digit("SM1")  # Twilio's retry
    assert not await digit("SM2")
    assert await store.survey_counts(DAY, DAY) == {1: 0, 2: 0, 3: 0, 4: 1}
    found = await _raw(
        store, "SELECT channel, event_id, kind, identity_hash, data FROM channel_events"
    )
    assert [tuple(r) for r in found] == [("sms", "SM1", "survey_answer", "", None)]


async def test_asking_deletes_the_open_surveys_expired_everywhere(store: Store) -> None:
    _, old, _ = await _closed(store, "s-old")
    await store.ask_survey(old, bodies=BODIES, token_hash=None, now=at(101))
    _, new, _ = await _closed(store, "s-new")
    await store.ask_survey(new, bodies=BODIES, token_hash=None, now=at(500), expired_before=at(200))
    assert [int(r[0]) for r in await _raw(store, "SELECT conversation_id FROM open_surveys")] == [
        new
    ]
    assert await store.survey_state(old) is True  # asked, no longer open
    assert await store.survey_state(new) is False
    assert not await store.answer_survey(_answer(WEBCHAT, 1, at(0), conversation_id=old))
