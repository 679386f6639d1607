"""What a restart derives from the database instead of memory: the conversations that never
had an automatic reply of a kind (AutoReplier.recover). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from inbox.core.decisions import HandedToOnCall, LastArrival
from inbox.core.model import ChannelKind, Direction, IntakeLabels
from storage.base import Store
from tests.factories import at, counselor, inbound

AFTER_HOURS = "after_hours"


async def test_unreplied_arrivals_lists_open_conversations_without_that_reply(store: Store) -> None:
    (replied,) = await store.save_inbound_batch([inbound("a", received_at=at(10))])
    (closed,) = await store.save_inbound_batch([inbound("b", received_at=at(20))])
    (old,) = await store.save_inbound_batch([inbound("c", received_at=at(-7200))])
    (waiting,) = await store.save_inbound_batch(
        [inbound("d", channel=ChannelKind.LINE, received_at=at(30))]
    )
    # her latest message counts, not her first
    await store.save_inbound_batch([inbound("d", channel=ChannelKind.LINE, received_at=at(40))])
    await store.claim_auto_reply(
        replied.conversation_id, AFTER_HOURS, body="x", discreet_body="x", now=at(11)
    )
    staff = await counselor(store, "sato")
    await store.close(closed.conversation_id, actor_id=staff.id, now=at(21))

    found = await store.unreplied_arrivals(AFTER_HOURS, since=at(0))

    assert found == [
        LastArrival(
            conversation_id=waiting.conversation_id, channel=ChannelKind.LINE, received_at=at(40)
        )
    ]
    # another kind was never sent to the first one
    other = await store.unreplied_arrivals("queue_ack", since=at(0))
    assert [a.conversation_id for a in other] == [
        replied.conversation_id,
        waiting.conversation_id,
    ]
    assert await store.unreplied_arrivals(AFTER_HOURS, since=at(40) + timedelta(seconds=1)) == []
    assert old.conversation_id not in {a.conversation_id for a in other}


async def test_a_reply_that_supersedes_others_claims_them_spent(store: Store) -> None:
    """The on-call message stands in for the after-hours and waiting-line replies: once it is
    queued, neither is queued for that conversation, nor derived again after a restart."""
    (s,) = await store.save_inbound_batch([inbound("a", received_at=at(10))])
    conv_id = s.conversation_id
    on_call = await store.claim_auto_reply(
        conv_id,
        "on_call",
        body="いま読んでいます",
        discreet_body="読んでいます",
        now=at(11),
        supersedes=(AFTER_HOURS, "queue_ack"),
    )
    assert on_call is not None and on_call.body == "いま読んでいます"
    for kind in (AFTER_HOURS, "queue_ack"):
        late = await store.claim_auto_reply(conv_id, kind, body="x", discreet_body="x", now=at(12))
        assert late is None, kind
        assert await store.unreplied_arrivals(kind, since=at(0)) == []
    outbound = [m for m in await store.list_messages(conv_id) if m.direction is Direction.OUTBOUND]
    assert [m.body for m in outbound] == ["いま読んでいます"]  # one message, one event
    queued = [e for e in await store.list_events() if e.kind == "auto_reply_queued"]
    assert [e.data["kind"] for e in queued] == ["on_call"]
    # A repeat of the on-call message is refused like any kind, and spends nothing else.
    (t,) = await store.save_inbound_batch([inbound("b", received_at=at(20))])
    assert (
        await store.claim_auto_reply(
            conv_id, "on_call", body="y", discreet_body="y", now=at(21), supersedes=("other",)
        )
        is None
    )
    assert (
        await store.claim_auto_reply(conv_id, "other", body="z", discreet_body="z", now=at(22))
        is not None
    )
    assert [
        a.conversation_id for a in await store.unreplied_arrivals(AFTER_HOURS, since=at(0))
    ] == [t.conversation_id]


async def test_unsent_on_call_lists_hand_offs_to_the_person_on_call_until_the_message_is_claimed(
    store: Store,
) -> None:
    """The on-call message a stopped process (or another instance) left unqueued is derived from
    the router's hand-off event (Store.assign on_call), with what tells her language."""
    boss = await counselor(store, "tanaka")
    urgent = IntakeLabels(priority=100, alert="suicide_risk")
    handed, english, normal, closed = await store.save_inbound_batch(
        [
            replace(inbound("a", body="もう死にたい", received_at=at(10)), labels=urgent),
            replace(inbound("b", body="I want to die", received_at=at(11)), labels=urgent),
            inbound("c", body="こんにちは", received_at=at(12)),
            replace(inbound("d", body="死にたい", received_at=at(13)), labels=urgent),
        ]
    )
    # she writes again after her alerted message: the alerted one tells her language
    await store.save_inbound_batch([inbound("b", body="はい", received_at=at(14))])
    for s in (handed, english, closed):
        await store.assign(
            s.conversation_id, boss.id, actor_id=boss.id, now=at(20), capacity=None, on_call=True
        )
    await store.assign(normal.conversation_id, boss.id, actor_id=boss.id, now=at(20), capacity=9)
    await store.close(closed.conversation_id, actor_id=boss.id, now=at(21))
    assigned = [e for e in await store.list_events() if e.kind == "conversation_assigned"]
    assert [e.data.get("via") for e in assigned] == ["on_call", "on_call", "on_call", None]

    found = await store.unsent_on_call("on_call", since=at(20))
    assert found == [
        HandedToOnCall(conversation_id=handed.conversation_id, language=None, body="もう死にたい"),
        HandedToOnCall(
            conversation_id=english.conversation_id, language=None, body="I want to die"
        ),
    ]
    assert await store.unsent_on_call("on_call", since=at(21)) == []  # handed before that
    await store.claim_auto_reply(
        handed.conversation_id, "on_call", body="x", discreet_body="x", now=at(22)
    )
    assert [h.conversation_id for h in await store.unsent_on_call("on_call", since=at(0))] == [
        english.conversation_id
    ]
    # Neither gets the after-hours reply at a restart: someone has them.
    arrivals = {
        a.conversation_id: a for a in await store.unreplied_arrivals(AFTER_HOURS, since=at(0))
    }
    assert arrivals[english.conversation_id].taken and arrivals[normal.conversation_id].taken
    assert arrivals[english.conversation_id].priority == 100


async def test_unreplied_arrivals_say_the_priority_and_whether_someone_has_it(
    store: Store,
) -> None:
    boss = await counselor(store, "tanaka")
    urgent = IntakeLabels(priority=100, alert="suicide_risk")
    (waiting,) = await store.save_inbound_batch(
        [replace(inbound("a", body="もう死にたい", received_at=at(10)), labels=urgent)]
    )
    (back,) = await store.save_inbound_batch([inbound("b", received_at=at(11))])
    (found, other) = await store.unreplied_arrivals(AFTER_HOURS, since=at(0))
    assert (found.conversation_id, found.priority, found.taken) == (
        waiting.conversation_id,
        100,
        False,
    )
    assert (other.priority, other.taken) == (0, False)
    # Handed to the person on call and back in the queue: still hers to answer, not "closed".
    await store.assign(
        back.conversation_id, boss.id, actor_id=boss.id, now=at(20), capacity=None, on_call=True
    )
    await store.requeue(back.conversation_id, actor_id=boss.id, now=at(21))
    (_, other) = await store.unreplied_arrivals(AFTER_HOURS, since=at(0))
    assert other.taken and other.conversation_id == back.conversation_id
