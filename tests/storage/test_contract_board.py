"""The Store contract for the supervisor's board (storage.board), on both stores: the waiting
conversations urgent first then oldest, each counselor's open ones, who paused a channel and
since when, alerts newest first with their first acknowledgement, her connection lease, today's
waits, the newest event id."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from inbox.core.board import ALERT_ACKNOWLEDGED
from inbox.core.errors import NotFound
from inbox.core.model import ChannelKind, ConversationStatus, IntakeLabels, Role
from storage.base import Store
from tests.factories import at, counselor, inbound, new_user


async def test_the_waiting_come_urgent_first_then_oldest_and_hers_by_counselor(
    store: Store,
) -> None:
    sato = (await counselor(store, "sato")).id
    old, new = (
        inbound("old@example.jp", received_at=at(10)),
        inbound("new@example.jp", received_at=at(20)),
    )
    urgent = dataclasses.replace(
        inbound("urgent@example.jp", received_at=at(30)),
        labels=IntakeLabels(priority=100, tags=frozenset({"suicide_risk"}), alert="suicide_risk"),
    )
    mine = inbound("mine@example.jp", received_at=at(5))
    stored = await store.save_inbound_batch([old, new, urgent, mine])
    o, n, u, m = (s.conversation_id for s in stored)
    await store.assign(m, sato, actor_id=sato, now=at(40), capacity=None)

    rows = await store.board_rows(day_start=at(0), now=at(100))
    assert [c.id for c in rows.waiting] == [u, o, n]
    assert rows.waiting[0].priority == 100 and "suicide_risk" in rows.waiting[0].tags
    assert rows.waiting[1].waiting_since == at(10)
    assert rows.waiting[1].status is ConversationStatus.QUEUED
    assert [(c.id, c.assignee_id) for c in rows.assigned] == [(m, sato)]
    (agent,) = rows.agents
    assert (agent.user_id, agent.load, agent.channel_load) == (sato, 1, ((ChannelKind.WEBCHAT, 1),))
    assert rows.names[sato] == "Sato"
    assert [(d.priority, d.count, d.oldest) for d in rows.depth] == [
        (100, 1, at(30)),
        (0, 2, at(10)),
    ]
    assert rows.event_id == await store.last_event_id()
    assert sorted(rows.waits_today_s) == [70.0, 80.0, 90.0, 95.0]  # none answered yet

    capped = await store.board_rows(day_start=at(0), now=at(100), waiting=1)
    assert [c.id for c in capped.waiting] == [u]
    later = await store.board_rows(day_start=at(25), now=at(100))
    assert later.waits_today_s == (70.0,)  # only what arrived since the day began


async def test_a_paused_channel_says_who_paused_it_and_since_when(store: Store) -> None:
    boss = (
        await store.create_user(new_user("boss", roles=frozenset({Role.SUPERVISOR})), now=at(0))
    ).id
    assert (await store.board_rows(day_start=at(0), now=at(1))).pauses == ()
    await store.set_channel_paused(ChannelKind.MAIL, True, actor_id=boss, now=at(50))
    (pause,) = (await store.board_rows(day_start=at(0), now=at(60))).pauses
    assert (pause.channel, pause.since, pause.by) == (ChannelKind.MAIL, at(50), boss)
    await store.set_channel_paused(ChannelKind.MAIL, False, actor_id=boss, now=at(70))
    assert (await store.board_rows(day_start=at(0), now=at(80))).pauses == ()


async def test_alerts_come_newest_first_and_an_acknowledgement_is_written_once(
    store: Store,
) -> None:
    boss = (
        await store.create_user(new_user("boss", roles=frozenset({Role.SUPERVISOR})), now=at(0))
    ).id
    (stored,) = await store.save_inbound_batch([inbound("a@example.jp", received_at=at(1))])
    conv = stored.conversation_id
    await store.record_event("deadline_warning", now=at(10), conversation_id=conv)
    await store.record_event("reply_failed", now=at(20), conversation_id=conv, data={"error": "x"})
    rows = await store.board_rows(day_start=at(0), now=at(30))
    assert [a.event.kind for a in rows.alerts] == ["reply_failed", "deadline_warning"]
    assert all(a.ack is None for a in rows.alerts)
    warning = rows.alerts[1].event.id

    ack = await store.acknowledge_alert(warning, actor_id=boss, now=at(40))
    assert (ack.event_id, ack.by, ack.at) == (warning, boss, at(40))
    again = await store.acknowledge_alert(warning, actor_id=boss, now=at(50))
    assert again == ack  # the first one stands; nothing more is written
    written = [e for e in await store.list_events() if e.kind == ALERT_ACKNOWLEDGED]
    assert [(e.actor_id, e.conversation_id, e.data) for e in written] == [
        (boss, conv, {"event_id": warning, "kind": "deadline_warning"})
    ]
    rows = await store.board_rows(day_start=at(0), now=at(60), alerts=1)
    assert [(a.event.kind, a.ack) for a in rows.alerts] == [("reply_failed", None)]
    rows = await store.board_rows(day_start=at(0), now=at(60))
    assert rows.alerts[1].ack == ack

    with pytest.raises(NotFound):  # an event that is no alert
        await store.acknowledge_alert(written[0].id, actor_id=boss, now=at(70))
    with pytest.raises(NotFound):
        await store.acknowledge_alert(10**9, actor_id=boss, now=at(70))


async def test_her_connection_lease_is_read(store: Store) -> None:
    sato = (await counselor(store, "sato")).id
    suzuki = (await counselor(store, "suzuki")).id
    await store.staff_connected(sato, now=at(0), until=at(0) + timedelta(seconds=120))
    links = {
        link.user_id: link.connected_until
        for link in (await store.board_rows(day_start=at(0), now=at(1))).links
    }
    assert links == {sato: at(120), suzuki: None}
