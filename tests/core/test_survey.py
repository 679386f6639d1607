"""The satisfaction survey's rules: the pure words (a digit reply, a postback's data, LINE's
label limit), the tokens (keyed, per conversation, nothing of it in clear), who is asked, and
the close command that asks: on her channel, never to a discreet or opted-out consulter, never
after a skipped outcome, never on the phone."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from inbox.commands.signals import Signals
from inbox.commands.staff import StaffCommands
from inbox.core.follow_ups import NewFollowUp
from inbox.core.model import ChannelKind, ConversationId, MessageId, OutboundMessage, SurveyAsk
from inbox.core.survey import (
    MAX_QUICK_LABEL,
    body,
    digit_answer,
    parse_postback,
    postback_data,
    quick_labels,
)
from inbox.survey import SurveyDesk
from inbox.survey_config import SurveyConfig
from storage.base import Store
from tests.factories import T0, inbound, new_user

TOKYO = ZoneInfo("Asia/Tokyo")
KEY = b"k" * 32


@pytest.mark.parametrize(
    ("text", "answer"),
    [("1", 1), (" 4\n", 4), ("２", 2), ("0", None), ("5", None), ("12", None), ("1です", None)],
)
def test_only_a_lone_digit_one_to_four_is_an_answer(text: str, answer: int | None) -> None:
    assert digit_answer(text) == answer


def test_a_postback_carries_the_token_and_the_answer_and_nothing_else_parses() -> None:
    assert parse_postback(postback_data("tok_-=", 3)) == ("tok_-=", 3)
    for data in (None, "survey=5", "survey=t&a=5", "survey=&a=1", "other=t&a=1", "survey=t&a=12"):
        assert parse_postback(data) is None


def test_line_labels_fit_and_the_sms_says_how_to_answer() -> None:
    for lang in ("ja", "en"):
        labels = quick_labels(lang)
        assert [n for n, _, _ in labels] == [1, 2, 3, 4]
        assert all(len(label) <= MAX_QUICK_LABEL for _, label, _ in labels)
    assert "1〜4" in body(ChannelKind.SMS, "ja", "Q", link_days=7)
    assert "7日間" in body(ChannelKind.MAIL, "ja", "Q", link_days=7)
    assert body(ChannelKind.WEBCHAT, "en", "Q", link_days=7) == "Q"


def test_tokens_are_keyed_per_conversation_and_hashed() -> None:
    desk = SurveyDesk(SurveyConfig(), KEY, timezone=TOKYO, base_url="https://x.example/")
    other = SurveyDesk(SurveyConfig(), b"o" * 32, timezone=TOKYO)
    one, two = desk.token(ConversationId(1)), desk.token(ConversationId(2))
    assert one == desk.token(ConversationId(1)) and one != two != other.token(ConversationId(2))
    assert len(one) == 24 and desk.token_hash(one) != one
    assert desk.stored_hash(ChannelKind.WEBCHAT, ConversationId(1)) is None
    assert desk.stored_hash(ChannelKind.MAIL, ConversationId(1)) == desk.token_hash(one)
    assert desk.link(one, "en") == f"https://x.example/survey/{one}?lang=en"
    mail = OutboundMessage(
        message_id=MessageId(1),
        conversation_id=ConversationId(1),
        channel=ChannelKind.MAIL,
        recipient="a@example.jp",
        body="Q",
        survey=SurveyAsk("ja"),
    )
    ready = desk.ready(mail)
    assert ready.survey is not None and ready.survey.token == one
    assert ready.body.startswith("Q\n\nhttps://x.example/survey/")
    assert one not in repr(ready.survey)  # the token is left out of its repr
    plain = dataclasses.replace(mail, survey=None)
    assert desk.ready(plain) is plain
    assert desk.asked_since(ChannelKind.MAIL, T0) == T0 - timedelta(days=7)
    assert desk.asked_since(ChannelKind.SMS, T0) == T0 - timedelta(hours=72)
    assert desk.expired_before(T0) == T0 - timedelta(days=7)  # the longest window: mail's
    long_chat = SurveyDesk(SurveyConfig(answer_hours=24 * 10), KEY, timezone=TOKYO)
    assert long_chat.expired_before(T0) == T0 - timedelta(hours=240)


def test_who_is_asked() -> None:
    cfg = SurveyConfig(skip_outcomes=frozenset({"spam"}))
    desk = SurveyDesk(cfg, KEY, timezone=TOKYO)
    assert desk.asks(ChannelKind.LINE, "listened") and desk.asks(ChannelKind.MAIL, None)
    assert not desk.asks(ChannelKind.PHONE, "listened")
    assert not desk.asks(ChannelKind.SMS, "spam")
    only_chat = SurveyDesk(
        dataclasses.replace(cfg, channels=(ChannelKind.WEBCHAT,)), KEY, timezone=TOKYO
    )
    assert not only_chat.asks(ChannelKind.SMS, "listened")
    off = SurveyDesk(dataclasses.replace(cfg, enabled=False), KEY, timezone=TOKYO)
    assert not off.asks(ChannelKind.WEBCHAT, "listened")


async def test_closing_asks_on_her_channel_but_not_a_discreet_consulter(store: Store) -> None:
    desk = SurveyDesk(SurveyConfig(skip_outcomes=frozenset({"spam"})), KEY, timezone=TOKYO)
    commands = StaffCommands.build(store, clock=lambda: T0, signals=Signals(), surveys=desk)
    sato = await store.create_user(new_user("sato"), now=T0)
    open_, discreet, spam = await store.save_inbound_batch(
        [inbound("a"), inbound("b"), inbound("c")]
    )
    await commands.conversations.set_discretion(discreet.conversation_id, True, actor=sato.id)
    for stored, outcome in ((open_, "listened"), (discreet, "listened"), (spam, "spam")):
        await commands.conversations.close(stored.conversation_id, actor=sato.id, outcome=outcome)
    items = await store.claim_outbox(now=T0 + timedelta(seconds=1), limit=10, lease_s=30)
    assert [i.message.conversation_id for i in items] == [open_.conversation_id]
    assert await store.survey_state(discreet.conversation_id) is None
    assert await store.survey_state(spam.conversation_id) is None


async def test_a_conversation_she_never_wrote_in_is_closed_without_a_survey(store: Store) -> None:
    """A follow-up's task she did not answer: nothing to rate, and a message she did not
    expect (the report does not count it as a consultation either)."""
    desk = SurveyDesk(SurveyConfig(), KEY, timezone=TOKYO)
    commands = StaffCommands.build(store, clock=lambda: T0, signals=Signals(), surveys=desk)
    sato = await store.create_user(new_user("sato"), now=T0)
    (first,) = await store.save_inbound_batch([inbound("a")])
    await commands.conversations.close(first.conversation_id, actor=sato.id, outcome="listened")
    assert await store.survey_state(first.conversation_id) is not None  # she wrote: asked
    new = NewFollowUp(from_conversation_id=first.conversation_id, due_on=T0.date())
    follow_up = await store.set_follow_up(new, actor_id=sato.id, now=T0)
    due = await store.make_follow_up_due(follow_up.id, now=T0)
    assert due is not None and due.conversation_id not in (None, first.conversation_id)
    task = due.conversation_id
    assert task is not None
    await commands.conversations.close(task, actor=sato.id, outcome="listened")
    assert await store.survey_state(task) is None
