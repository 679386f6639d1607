"""The Store contract for routing at intake (save_inbound_batch with a router), on both stores:
a conversation the batch opens is written already assigned, exactly as a router round would
have left it, and never beyond a capacity or ahead of what waited before."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

import pytest

from inbox.core.decisions import Decision, RoutingSnapshot
from inbox.core.model import ChannelKind, ConversationStatus, CounselorUpdate, Presence
from storage.base import IntakeRouter, Store
from tests.factories import ROUTED_AT, at, counselor, inbound, router_for

NOW = ROUTED_AT


async def test_a_new_conversation_is_stored_assigned_as_a_round_would_leave_it(
    store: Store,
) -> None:
    sato = await counselor(store, "sato")
    (answer,) = await store.save_inbound_batch([inbound("a@x.jp")], router=router_for(store))
    assert (answer.assigned_to, answer.queued, answer.duplicate) == (sato.id, False, False)
    conv = await store.get_conversation(answer.conversation_id)
    assert (conv.status, conv.assignee_id) == (ConversationStatus.ASSIGNED, sato.id)
    assert (conv.offered_at, conv.opened_at) == (NOW, None)  # an offer, as the router makes it
    kinds = [(e.kind, e.conversation_id) for e in await store.list_events()]
    assert kinds[-3:] == [
        ("conversation_opened", answer.conversation_id),
        ("message_received", answer.conversation_id),
        ("conversation_assigned", answer.conversation_id),
    ]
    assigned = (await store.list_events())[-1]
    assert (assigned.at, assigned.data) == (NOW, {"user_id": sato.id, "by": "router"})
    (agent,) = (await store.routing_snapshot()).agents
    assert (agent.load, agent.idle_since) == (1, NOW)  # last_assigned_at, for fairness
    assert (await store.routing_snapshot()).waiting == ()


async def test_never_beyond_capacity_and_the_rest_answer_queued(store: Store) -> None:
    sato = await counselor(store, "sato", capacity=2)
    answers = await store.save_inbound_batch(
        [inbound(f"s{i}@x.jp") for i in range(5)], router=router_for(store)
    )
    # Queue order is arrival order: the first two get her, the others wait for the router.
    assert [a.assigned_to for a in answers] == [sato.id, sato.id, None, None, None]
    assert [a.queued for a in answers] == [False, False, True, True, True]
    snapshot = await store.routing_snapshot()
    assert snapshot.agents[0].load == 2
    assert [w.id for w in snapshot.waiting] == [a.conversation_id for a in answers[2:]]


async def test_what_waited_before_keeps_its_place(store: Store) -> None:
    """A conversation queued before (here stored without a router) is decided first: it takes
    the only free place, which routing at intake leaves to the router, and the newcomer waits."""
    sato = await counselor(store, "sato", capacity=1)
    (older,) = await store.save_inbound_batch([inbound("older@x.jp")])
    assert (older.assigned_to, older.queued) == (None, True)  # without a router it waits
    (newer,) = await store.save_inbound_batch([inbound("newer@x.jp")], router=router_for(store))
    assert (newer.assigned_to, newer.queued) == (None, True)
    assert (await store.get_conversation(older.conversation_id)).assignee_id is None
    done = await router_for(store).route_once()
    assert [(a.conversation_id, a.user_id) for a in done] == [(older.conversation_id, sato.id)]


async def test_a_later_message_answers_whether_its_conversation_waits(store: Store) -> None:
    sato = await counselor(store, "sato", capacity=1)
    router = router_for(store)
    first, second = await store.save_inbound_batch(
        [inbound("a@x.jp"), inbound("b@x.jp")], router=router
    )
    assert (first.assigned_to, second.assigned_to, second.queued) == (sato.id, None, True)
    again_a, again_b = await store.save_inbound_batch(
        [inbound("a@x.jp"), inbound("b@x.jp")], router=router
    )
    # Neither was opened by this batch: no assignment claimed; b's conversation still waits.
    assert (again_a.assigned_to, again_a.queued) == (None, False)
    assert (again_b.assigned_to, again_b.queued) == (None, True)
    assert again_b.conversation_id == second.conversation_id


async def test_a_paused_channel_and_an_away_counselor_leave_it_queued(store: Store) -> None:
    sato = await counselor(store, "sato")
    router = router_for(store)
    await store.set_channel_paused(ChannelKind.WEBCHAT, True, actor_id=sato.id, now=at(1))
    (paused,) = await store.save_inbound_batch([inbound("a@x.jp")], router=router)
    assert (paused.assigned_to, paused.queued) == (None, True)
    (mail,) = await store.save_inbound_batch(
        [inbound("b@x.jp", channel=ChannelKind.MAIL)], router=router
    )
    assert mail.assigned_to == sato.id  # only the paused channel waits
    away = CounselorUpdate(presence=Presence.AWAY)
    await store.update_counselor(sato.id, away, actor_id=sato.id, now=at(2))
    (later,) = await store.save_inbound_batch(
        [inbound("c@x.jp", channel=ChannelKind.MAIL)], router=router
    )
    assert (later.assigned_to, later.queued) == (None, True)


async def test_a_returning_consulter_goes_back_to_her_counselor(store: Store) -> None:
    sato = await counselor(store, "sato")
    await counselor(store, "suzuki")
    (first,) = await store.save_inbound_batch([inbound("a@x.jp")], router=router_for(store))
    # Sato was never assigned before, so she is "idle longest" and takes the first one; take
    # the tie away: suzuki gets one, then sato's consulter closes and returns.
    assert first.assigned_to == sato.id
    (other,) = await store.save_inbound_batch([inbound("b@x.jp")], router=router_for(store))
    assert other.assigned_to != sato.id
    await store.close(first.conversation_id, actor_id=sato.id, now=at(100))
    (back,) = await store.save_inbound_batch([inbound("a@x.jp")], router=router_for(store))
    assert back.conversation_id != first.conversation_id
    assert back.assigned_to == sato.id  # continuity, though suzuki is as loaded and idler


class Broken:
    """An IntakeRouter whose decision fails: the batch must still be stored."""

    def clock(self) -> datetime:
        return NOW

    def decide(self, snapshot: RoutingSnapshot, now: datetime) -> Sequence[Decision]:
        raise RuntimeError("bug in a routing rule")

    def closed_day(self, at: datetime) -> bool:
        return False

    def lapsed_before(self, now: datetime) -> datetime | None:
        return None


async def test_a_failing_router_leaves_the_batch_stored_and_queued(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    await counselor(store, "sato")
    broken: IntakeRouter = Broken()
    with caplog.at_level(logging.ERROR):
        (answer,) = await store.save_inbound_batch([inbound("a@x.jp")], router=broken)
    assert (answer.assigned_to, answer.queued, answer.duplicate) == (None, True, False)
    conv = await store.get_conversation(answer.conversation_id)
    assert (conv.status, conv.assignee_id) == (ConversationStatus.QUEUED, None)
    assert any(getattr(r, "action", "") == "intake_routing_failed" for r in caplog.records)


async def test_a_redelivery_claims_nothing(store: Store) -> None:
    await counselor(store, "sato")
    item = inbound("a@x.jp")
    (first,) = await store.save_inbound_batch([item], router=router_for(store))
    (again,) = await store.save_inbound_batch([item], router=router_for(store))
    assert again.duplicate and again.conversation_id == first.conversation_id
    assert (again.assigned_to, again.queued) == (None, False)
    kinds = [e.kind for e in await store.list_events()]
    assert kinds.count("conversation_assigned") == 1
