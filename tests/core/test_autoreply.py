"""Automatic replies over a real store: once per conversation, also after a restart, discreet
when asked, and the waiting line only when everyone is busy. The recovery of rule templates
runs on both stores (no contract test reads those back); the rest on SQLite."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest

from inbox.autoreply import AutoReplier
from inbox.core.errors import StorageError
from inbox.core.model import ChannelKind, Direction, IntakeLabels, Message, StoredInbound
from inbox.router import Router
from routing.hours import ALWAYS_OPEN, TOKYO, ServiceHours, parse_service_hours
from routing.replies import ReplyTexts
from storage.base import KeyedInbound, Store
from tests.factories import at, inbound, new_user

LINE = parse_service_hours({"weekdays": ["09:00-17:30"]}, "routing.hours.line")
TEXTS = ReplyTexts(
    program="つなぐ相談",
    templates=(("dv_safety", ("{program}: 履歴は消せます", "履歴は消せます")),),
)
FRIDAY_NIGHT = datetime(2026, 11, 20, 22, 0, tzinfo=TOKYO)
TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=TOKYO)


def hours_for(channel: ChannelKind) -> ServiceHours:
    return LINE if channel is ChannelKind.LINE else ALWAYS_OPEN


def replier(store: Store, now: datetime) -> AutoReplier:
    return AutoReplier(store, texts=TEXTS, hours_for=hours_for, clock=lambda: now)


async def store_line(store: Store, sender: str, at_: datetime, **labels: object) -> StoredInbound:
    item = inbound(sender, channel=ChannelKind.LINE, received_at=at_)
    item = dataclasses.replace(item, labels=IntakeLabels(**labels))  # type: ignore[arg-type]
    (stored,) = await store.save_inbound_batch([item])
    return stored


async def outbound(store: Store, stored: StoredInbound) -> list[Message]:
    return [
        m
        for m in await store.list_messages(stored.conversation_id)
        if m.direction is Direction.OUTBOUND
    ]


def pair(
    item: StoredInbound, received_at: datetime, **labels: object
) -> tuple[KeyedInbound, StoredInbound]:
    keyed = inbound("x", channel=ChannelKind.LINE, received_at=received_at)
    return dataclasses.replace(keyed, labels=IntakeLabels(**labels)), item  # type: ignore[arg-type]


async def test_after_hours_reply_once_even_after_a_restart(store: Store) -> None:
    s = await store_line(store, "U1", FRIDAY_NIGHT)
    first = replier(store, FRIDAY_NIGHT)
    first.stored([pair(s, FRIDAY_NIGHT)])
    assert await first.send_pending() == 1
    (reply,) = await outbound(store, s)
    assert "11月24日(火) 09:00以降" in reply.body and "つなぐ相談" in reply.body
    # She writes again; and the server restarted in between: still one reply.
    first.stored([pair(s, FRIDAY_NIGHT)])
    assert await first.send_pending() == 0
    restarted = replier(store, FRIDAY_NIGHT)
    restarted.stored([pair(s, FRIDAY_NIGHT)])
    assert await restarted.send_pending() == 0
    assert len(await outbound(store, s)) == 1
    (item,) = await store.claim_outbox(now=at(10**6), limit=10, lease_s=30)
    assert item.message.message_id == reply.id  # through the outbox like any reply


async def test_inside_hours_no_after_hours_reply(store: Store) -> None:
    s = await store_line(store, "U1", TUESDAY_10)
    r = replier(store, TUESDAY_10)
    r.stored([pair(s, TUESDAY_10)])
    assert await r.send_pending() == 0


async def test_rule_template_and_discretion(store: Store) -> None:
    sato = await store.create_user(new_user("sato"), now=at(0))
    s = await store_line(store, "U1", TUESDAY_10)
    await store.set_discretion(s.conversation_id, True, actor_id=sato.id, now=at(1))
    r = replier(store, TUESDAY_10)
    r.stored([pair(s, TUESDAY_10, auto_replies=("dv_safety", "unknown"))])
    assert await r.send_pending() == 1
    (reply,) = await outbound(store, s)
    assert reply.body == "履歴は消せます"  # the neutral text: no program name


async def test_waiting_line_message_when_everyone_is_busy(store: Store) -> None:
    await store.create_user(new_user("sato", capacity=1), now=at(0))
    r = replier(store, TUESDAY_10)
    router = Router(store, clock=lambda: TUESDAY_10, on_round=r.routed, hours_for=hours_for)
    first = await store_line(store, "U1", TUESDAY_10)
    second = await store_line(store, "U2", TUESDAY_10)
    third = await store_line(store, "U3", TUESDAY_10)
    await router.route_once()  # sato takes the first; two wait
    assert await r.send_pending() == 2
    assert await outbound(store, first) == []
    (ack2,) = await outbound(store, second)
    (ack3,) = await outbound(store, third)
    assert "1番目" in ack2.body and "2番目" in ack3.body
    assert "未定" in ack2.body  # no closed conversations yet: no estimate pretended
    await router.route_once()  # still busy: not told again
    assert await r.send_pending() == 0


async def test_no_waiting_line_message_after_hours(store: Store) -> None:
    r = replier(store, FRIDAY_NIGHT)
    router = Router(store, clock=lambda: FRIDAY_NIGHT, on_round=r.routed, hours_for=hours_for)
    s = await store_line(store, "U1", FRIDAY_NIGHT)
    await router.route_once()
    r.stored([pair(s, FRIDAY_NIGHT)])
    assert await r.send_pending() == 1  # the after-hours reply only
    (reply,) = await outbound(store, s)
    assert "受付時間外" in reply.body


async def test_recover_queues_the_after_hours_reply_a_stopped_process_left(store: Store) -> None:
    # Stored, then the process died before its auto-replier's pass: nothing in memory now.
    s = await store_line(store, "U1", FRIDAY_NIGHT)
    inside = await store_line(store, "U2", FRIDAY_NIGHT - timedelta(hours=12))  # Friday 10:00
    saturday = FRIDAY_NIGHT + timedelta(hours=12)
    restarted = replier(store, saturday)
    assert await restarted.recover() == 1
    (reply,) = await outbound(store, s)
    assert "11月24日(火) 09:00以降" in reply.body
    assert await outbound(store, inside) == []
    # A second start finds nothing more to send.
    assert await replier(store, saturday).recover() == 0
    assert len(await outbound(store, s)) == 1


@pytest.mark.both_stores  # due_rule_replies (the auto_reply_due events) has no contract test
async def test_recover_queues_the_rule_template_a_stopped_process_left(store: Store) -> None:
    """The intake records the templates a message asked for; a restart queues those whose
    pass the stopped process never had, and only those."""
    left = await store_line(store, "U1", TUESDAY_10, auto_replies=("dv_safety",))
    sent = await store_line(store, "U2", TUESDAY_10, auto_replies=("dv_safety",))
    before = replier(store, TUESDAY_10)
    before.stored([pair(sent, TUESDAY_10, auto_replies=("dv_safety",))])
    assert await before.send_pending() == 1  # then the process died, before U1's pass

    restarted = replier(store, TUESDAY_10 + timedelta(minutes=1))
    assert await restarted.recover() == 1
    (reply,) = await outbound(store, left)
    assert "履歴は消せます" in reply.body
    assert len(await outbound(store, sent)) == 1  # not twice
    assert await replier(store, TUESDAY_10 + timedelta(minutes=2)).recover() == 0


async def test_recover_never_sends_an_after_hours_reply_late(store: Store) -> None:
    s = await store_line(store, "U1", FRIDAY_NIGHT)
    assert await replier(store, TUESDAY_10).recover() == 0  # the channel opened meanwhile
    assert await outbound(store, s) == []


async def test_a_failed_pass_keeps_what_was_due_for_the_next(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any StorageError (not only an unreachable database) is retried by the worker: the
    places in line it had must still be there for that retry."""
    await store.create_user(new_user("sato", capacity=1), now=at(0))
    r = replier(store, TUESDAY_10)
    router = Router(store, clock=lambda: TUESDAY_10, on_round=r.routed, hours_for=hours_for)
    await store_line(store, "U1", TUESDAY_10)
    second = await store_line(store, "U2", TUESDAY_10)
    await router.route_once()  # sato takes the first; the second waits

    async def failing(*, limit: int = 50) -> float | None:
        raise StorageError("PostgreSQL QueryCanceledError (SQLSTATE 57014)")

    monkeypatch.setattr(store, "recent_handling_s", failing)
    with pytest.raises(StorageError):
        await r.send_pending()
    monkeypatch.undo()
    assert await r.send_pending() == 1
    (ack,) = await outbound(store, second)
    assert "1番目" in ack.body


def urgent(
    item: StoredInbound, received_at: datetime, body: str, category: str = "suicide_risk"
) -> tuple[KeyedInbound, StoredInbound]:
    keyed = inbound("x", channel=ChannelKind.LINE, received_at=received_at, body=body)
    labels = IntakeLabels(priority=100, alert=category, tags=frozenset({"urgent", category}))
    return dataclasses.replace(keyed, labels=labels), item


async def test_safety_message_at_once_also_after_hours_and_before_the_after_hours_reply(
    store: Store,
) -> None:
    s = await store_line(store, "U1", FRIDAY_NIGHT)
    r = replier(store, FRIDAY_NIGHT)
    r.stored([urgent(s, FRIDAY_NIGHT, "もう死にたい")])
    assert await r.send_pending() == 2
    safety, after_hours = await outbound(store, s)
    assert safety.body.startswith("つなぐ相談です。") and "0120-279-338" in safety.body
    assert "受付時間外" in after_hours.body
    # Later urgent messages, another category, a restart: one safety message per conversation.
    r.stored([urgent(s, FRIDAY_NIGHT, "殴られた", "immediate_danger")])
    assert await r.send_pending() == 0
    restarted = replier(store, FRIDAY_NIGHT)
    restarted.stored([urgent(s, FRIDAY_NIGHT, "死にたい")])
    assert await restarted.send_pending() == 0
    assert len(await outbound(store, s)) == 2
    # through the outbox like any reply, the safety message first
    claimed = await store.claim_outbox(now=at(10**6), limit=10, lease_s=30)
    assert [c.message.message_id for c in claimed] == [safety.id, after_hours.id]


async def test_safety_message_is_neutral_under_discretion_and_english_for_english(
    store: Store,
) -> None:
    sato = await store.create_user(new_user("sato"), now=at(0))
    quiet = await store_line(store, "U1", TUESDAY_10)
    await store.set_discretion(quiet.conversation_id, True, actor_id=sato.id, now=at(1))
    english = await store_line(store, "U2", TUESDAY_10)
    plain = await store_line(store, "U3", TUESDAY_10)
    r = replier(store, TUESDAY_10)
    r.stored(
        [
            urgent(quiet, TUESDAY_10, "死にたい"),
            urgent(english, TUESDAY_10, "I want to die", "suicide_risk"),
            pair(plain, TUESDAY_10, alert="rules:night"),  # an alert with no safety message
        ]
    )
    assert await r.send_pending() == 2
    (neutral,) = await outbound(store, quiet)
    assert "困ったときの連絡先" in neutral.body and "0120-279-338" in neutral.body
    assert "いのち" not in neutral.body and "つなぐ" not in neutral.body
    (en,) = await outbound(store, english)
    assert en.body.startswith("This is the consultation service.") and "119" in en.body
    assert await outbound(store, plain) == []


async def test_recover_sends_the_safety_message_a_stopped_process_left(store: Store) -> None:
    # Stored with its alert, then the process died before its auto-replier's pass.
    item = inbound("U1", channel=ChannelKind.LINE, received_at=TUESDAY_10, body="I want to die")
    labels = IntakeLabels(priority=100, alert="suicide_risk", tags=frozenset({"urgent"}))
    (s,) = await store.save_inbound_batch([dataclasses.replace(item, labels=labels)])
    restarted = replier(store, TUESDAY_10 + timedelta(minutes=1))
    assert await restarted.recover() == 1
    (reply,) = await outbound(store, s)
    assert reply.body.startswith("This is the consultation service.")  # her language, again
    assert await replier(store, TUESDAY_10 + timedelta(minutes=2)).recover() == 0
