"""Routing at intake keeps the queue's order: the batch's own changes to conversations that
existed before (a waiting one put back in the queue, a priority the rules raise), a lapsed offer
not taken back yet, or an older conversation the decision would assign, never let a newcomer
take the place a router round would give the older one.

Each test states the reference: the same batch stored without a router, then one router round."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from inbox.core.model import (
    Attachment,
    ChannelKind,
    ConversationId,
    ConversationStatus,
    CounselorUpdate,
    IntakeLabels,
    Presence,
    Role,
    User,
)
from inbox.router import Router
from storage.base import KeyedInbound, Store
from tests.factories import ROUTED_AT, at, counselor, inbound, new_user, router_for

NOW = ROUTED_AT


def hold(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def labeled(item: KeyedInbound, priority: int) -> KeyedInbound:
    return dataclasses.replace(item, labels=IntakeLabels(priority=priority))


async def _waiting_without_assignee(store: Store, sender: str) -> ConversationId:
    """A conversation in status 'waiting' with nobody assigned: a supervisor answered it while
    it was queued (a disabled counselor's waiting conversations end the same way)."""
    boss = await store.create_user(new_user("boss", roles=frozenset({Role.SUPERVISOR})), now=at(0))
    (first,) = await store.save_inbound_batch([inbound(sender, received_at=at(10))])
    await store.add_reply(first.conversation_id, author_id=boss.id, body="はい", now=at(20))
    conv = await store.get_conversation(first.conversation_id)
    assert (conv.status, conv.assignee_id) == (ConversationStatus.WAITING, None)
    return first.conversation_id


async def test_reference_a_round_gives_the_requeued_conversation_the_place(store: Store) -> None:
    """Without routing at intake: the consulter who writes again first is first in line."""
    older = await _waiting_without_assignee(store, "e@x.jp")
    sato = await counselor(store, "sato", capacity=1)
    await store.save_inbound_batch(
        [inbound("e@x.jp", received_at=at(30)), inbound("n@x.jp", received_at=at(40))]
    )
    done = await router_for(store).route_once()
    assert [(a.conversation_id, a.user_id) for a in done] == [(older, sato.id)]


async def test_a_conversation_the_batch_puts_back_in_the_queue_keeps_its_place(
    store: Store,
) -> None:
    """The batch turns the waiting conversation back to 'queued' (queued_at = its new message,
    at(30)) before the intake reads the queue, so the decision sees it first in line; as it
    would assign it, the intake assigns nothing and the round gives it sato's only place."""
    older = await _waiting_without_assignee(store, "e@x.jp")
    sato = await counselor(store, "sato", capacity=1)
    back, newer = await store.save_inbound_batch(
        [inbound("e@x.jp", received_at=at(30)), inbound("n@x.jp", received_at=at(40))],
        router=router_for(store),
    )
    assert back.conversation_id == older and back.queued
    assert newer.assigned_to is None, "the newcomer took the place of the older conversation"
    done = await router_for(store).route_once()
    assert [(a.conversation_id, a.user_id) for a in done] == [(older, sato.id)]


async def test_reference_a_round_sees_the_priority_the_batch_raised(store: Store) -> None:
    (older,) = await store.save_inbound_batch([inbound("e@x.jp", received_at=at(10))])
    sato = await counselor(store, "sato", capacity=1)
    await store.save_inbound_batch(
        [
            labeled(inbound("e@x.jp", received_at=at(30)), priority=100),  # now urgent
            labeled(inbound("n@x.jp", received_at=at(40)), priority=50),
        ]
    )
    done = await router_for(store).route_once()
    assert [(a.conversation_id, a.user_id) for a in done] == [(older.conversation_id, sato.id)]


async def test_a_priority_the_batch_raises_counts_before_a_newcomer(store: Store) -> None:
    """The batch raises the queued conversation's priority (urgent triage of its new message)
    before the intake decides, so the newcomer at priority 50 does not go ahead of it."""
    (older,) = await store.save_inbound_batch([inbound("e@x.jp", received_at=at(10))])
    sato = await counselor(store, "sato", capacity=1)
    urgent, newer = await store.save_inbound_batch(
        [
            labeled(inbound("e@x.jp", received_at=at(30)), priority=100),
            labeled(inbound("n@x.jp", received_at=at(40)), priority=50),
        ],
        router=router_for(store),
    )
    assert urgent.conversation_id == older.conversation_id and urgent.queued
    assert newer.assigned_to is None, "a newcomer went ahead of an urgent conversation"
    done = await router_for(store).route_once()
    assert [(a.conversation_id, a.user_id) for a in done] == [(older.conversation_id, sato.id)]


async def _held_for_an_away_counselor(store: Store) -> ConversationId:
    """A returning consulter's conversation, queued since 200 s before NOW, whose previous
    counselor is away: the 120 s continuity hold has run out, so a round now falls back."""
    prev = await counselor(store, "prev")
    (before,) = await store.save_inbound_batch([inbound("o@x.jp", received_at=at(10))])
    await store.assign(before.conversation_id, prev.id, actor_id=prev.id, now=at(20), capacity=None)
    await store.close(before.conversation_id, actor_id=prev.id, now=at(30))
    away = CounselorUpdate(presence=Presence.AWAY)
    await store.update_counselor(prev.id, away, actor_id=prev.id, now=at(40))
    (older,) = await store.save_inbound_batch([inbound("o@x.jp", received_at=NOW - hold(200))])
    return older.conversation_id


async def test_reference_a_round_now_gives_the_held_conversation_to_sato(store: Store) -> None:
    older = await _held_for_an_away_counselor(store)
    sato = await counselor(store, "sato", capacity=2)
    done = await router_for(store).route_once()
    assert [(a.conversation_id, a.user_id) for a in done] == [(older, sato.id)]


async def test_an_older_conversation_the_decision_assigns_is_not_left_unannounced(
    store: Store,
) -> None:
    """Nothing wakes the router when a continuity hold runs out (or a shift begins) but the
    sweep (up to 60 s). A newcomer arrives meanwhile: the decision at intake would assign the
    older conversation too, so the intake assigns nothing, the newcomer answers queued (which
    wakes the router), and the round gives the older one the place first."""
    older = await _held_for_an_away_counselor(store)
    sato = await counselor(store, "sato", capacity=2)
    (newer,) = await store.save_inbound_batch(
        [inbound("n@x.jp", received_at=NOW - hold(1))], router=router_for(store)
    )
    assert (newer.assigned_to, newer.queued) == (None, True)
    done = await router_for(store).route_once()
    assert [(a.conversation_id, a.user_id) for a in done] == [
        (older, sato.id),
        (newer.conversation_id, sato.id),
    ]


async def _offer_lapsed_but_not_taken_back(
    store: Store,
) -> tuple[ConversationId, User, User]:
    """u's offer of an early conversation (at(100)) lapsed long before NOW (timeout 60 s), but
    no round has taken it back yet (the router sweeps every timeout/4); v has one free place."""
    u = await counselor(store, "u", capacity=1)
    (lapsed,) = await store.save_inbound_batch([inbound("l@x.jp", received_at=at(50))])
    await Router(store, clock=lambda: at(100)).route_once()
    assert (await store.get_conversation(lapsed.conversation_id)).assignee_id == u.id
    v = await counselor(store, "v", capacity=1)
    return lapsed.conversation_id, u, v


def lapsing_router(store: Store) -> Router:
    return Router(store, clock=lambda: NOW, offer_timeout_s=60)


async def test_reference_a_round_takes_the_lapsed_offer_back_first(store: Store) -> None:
    lapsed, u, v = await _offer_lapsed_but_not_taken_back(store)
    (newer,) = await store.save_inbound_batch([inbound("n@x.jp", received_at=NOW - hold(1))])
    router = lapsing_router(store)
    await router.requeue_lapsed()
    done = await router.route_once()
    # The lapsed one (never again to u) goes to v, the newcomer to u, who is free again.
    assert {(a.conversation_id, a.user_id) for a in done} == {
        (lapsed, v.id),
        (newer.conversation_id, u.id),
    }


async def test_a_lapsed_offer_keeps_its_place_before_a_newcomer(store: Store) -> None:
    """A router round first takes lapsed offers back (requeue_lapsed), then decides. Deciding
    at intake over the loads as they are would give the newcomer v's only place, and the offer,
    once taken back, could go to no one (u let it lapse, v full) while u sits idle: so while a
    lapsed offer waits to be taken back, the intake leaves the batch to the round."""
    lapsed, u, v = await _offer_lapsed_but_not_taken_back(store)
    router = lapsing_router(store)
    (newer,) = await store.save_inbound_batch(
        [inbound("n@x.jp", received_at=NOW - hold(1))], router=router
    )
    await router.requeue_lapsed()
    await router.route_once()
    assert (await store.get_conversation(lapsed)).assignee_id == v.id, (
        "the lapsed conversation was left waiting behind a newcomer"
    )
    assert (await store.get_conversation(newer.conversation_id)).assignee_id == u.id


# ---- limits and redeliveries at intake ------------------------------------------------------


async def test_a_channel_limit_holds_at_intake(store: Store) -> None:
    sato = await counselor(store, "sato", capacity=3)
    limit = CounselorUpdate(channel_capacity=((ChannelKind.MAIL, 1),))
    await store.update_counselor(sato.id, limit, actor_id=sato.id, now=at(1))
    answers = await store.save_inbound_batch(
        [inbound(f"m{i}@x.jp", channel=ChannelKind.MAIL) for i in range(2)] + [inbound("w@x.jp")],
        router=router_for(store),
    )
    assert [a.assigned_to for a in answers] == [sato.id, None, sato.id]
    assert [a.queued for a in answers] == [False, True, False]


async def test_a_redelivery_in_a_routed_batch_is_undone_and_written_once(store: Store) -> None:
    """SQLite's optimistic attempt fails on the redelivered message after it opened, assigned
    and marked conversations; the retry must leave exactly one of each, attachments once."""
    sato = await counselor(store, "sato", capacity=5)
    att = Attachment(filename="a.txt", content_type="text/plain", size_bytes=3, content=b"abc")
    old = inbound("a@x.jp", external_id="old", attachments=(att,))
    (first,) = await store.save_inbound_batch([old], router=router_for(store))
    await store.close(first.conversation_id, actor_id=sato.id, now=at(200))
    new_b, again, new_a, again2 = await store.save_inbound_batch(
        [inbound("b@x.jp", attachments=(att,)), old, inbound("a@x.jp", attachments=(att,)), old],
        router=router_for(store),
    )
    assert again.duplicate and again2.duplicate and again.message_id == first.message_id
    assert (new_b.assigned_to, new_a.assigned_to) == (sato.id, sato.id)
    assert new_a.conversation_id not in (first.conversation_id, new_b.conversation_id)
    for answer in (new_b, new_a):
        (stored, content) = await store.attachment(answer.message_id, 0)
        assert stored.stored and content == b"abc"
    kinds = [(e.kind, e.conversation_id) for e in await store.list_events()]
    assert kinds.count(("conversation_assigned", new_a.conversation_id)) == 1
    assert kinds.count(("conversation_opened", new_b.conversation_id)) == 1
    assert sum(k == "message_received" for k, _ in kinds) == 3
    (agent,) = (await store.routing_snapshot()).agents
    assert agent.load == 2
