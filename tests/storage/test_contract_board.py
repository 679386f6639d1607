"""The Store contract for the supervisor's board (storage.board), on both stores: the waiting
conversations urgent first then oldest, each counselor's open ones, who paused a channel and
since when, alerts newest first with their first acknowledgement, her connection lease, today's
waits, the newest event id."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from inbox.core.board import ALERT_ACKNOWLEDGED, ALERT_KINDS, BoardRows
from inbox.core.errors import NotFound
from inbox.core.model import ChannelKind, ConversationStatus, IntakeLabels, Role
from storage import board
from storage.base import Store
from storage.postgres.database import pg_text
from storage.rows import Row
from storage.sql import Database, Dialects, Query, Tx
from tests.factories import at, counselor, inbound, new_user
from tests.stores import POSTGRES


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
    rows = await store.board_rows(day_start=at(0), now=at(60), alerts=1, acknowledged=0)
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


async def test_pausing_a_paused_channel_changes_neither_since_when_nor_who(store: Store) -> None:
    boss, deputy = [
        (await store.create_user(new_user(n, roles=frozenset({Role.SUPERVISOR})), now=at(0))).id
        for n in ("boss", "deputy")
    ]
    await store.set_channel_paused(ChannelKind.MAIL, True, actor_id=boss, now=at(50))
    await store.set_channel_paused(ChannelKind.MAIL, True, actor_id=deputy, now=at(60))
    (pause,) = (await store.board_rows(day_start=at(0), now=at(70))).pauses
    assert (pause.since, pause.by) == (at(50), boss)
    await store.set_channel_paused(ChannelKind.MAIL, False, actor_id=boss, now=at(80))
    await store.set_channel_paused(ChannelKind.MAIL, True, actor_id=deputy, now=at(90))
    (pause,) = (await store.board_rows(day_start=at(0), now=at(100))).pauses
    assert (pause.since, pause.by) == (at(90), deputy)


async def test_an_open_alert_stays_however_many_newer_ones_were_acknowledged(
    store: Store,
) -> None:
    boss = (
        await store.create_user(new_user("boss", roles=frozenset({Role.SUPERVISOR})), now=at(0))
    ).id
    (stored,) = await store.save_inbound_batch([inbound("a@example.jp", received_at=at(1))])
    conv = stored.conversation_id
    await store.record_event("deadline_warning", now=at(2), conversation_id=conv)
    for n in range(5):
        await store.record_event("deadline_breached", now=at(3 + n), conversation_id=conv)
    first, *newer = [e for e in await store.list_events() if e.kind.startswith("deadline_")]
    for alert in newer:
        await store.acknowledge_alert(alert.id, actor_id=boss, now=at(20))
    rows = await store.board_rows(day_start=at(0), now=at(30), alerts=1, acknowledged=2)
    # the open one, and of the acknowledged ones the two acknowledged last, newest first
    assert [(a.event.id, a.ack is None) for a in rows.alerts] == [
        (newer[4].id, False),
        (newer[3].id, False),
        (first.id, True),
    ]
    assert rows.alerts[0].ack is not None and rows.alerts[0].ack.by == boss


async def _plan(store: Store, store_kind: str, query: Query, *args: object) -> str:
    """The plan of a board query, with sequential scans discouraged on PostgreSQL (a test's
    small tables would make one the cheapest): which index serves it, if any can."""

    async def op(tx: Tx) -> str:
        if store_kind == POSTGRES:
            await tx.execute("SET LOCAL enable_seqscan = off")
            found = await tx.fetch(f"EXPLAIN {pg_text(query)}", *args)
        else:
            text = query.sqlite if isinstance(query, Dialects) else query
            found = await tx.fetch(f"EXPLAIN QUERY PLAN {text}", *args)
        return "\n".join(str(tuple(r)) for r in found)

    database: Database = store._db  # type: ignore[attr-defined]
    return await database.write(op)


async def test_the_board_reads_its_alerts_and_acknowledgements_by_index(
    store: Store, store_kind: str
) -> None:
    """No walk over the event log: the open alerts come from open_alerts by its key, the
    acknowledgements by the alert's id (migration 13)."""
    open_alerts = await _plan(store, store_kind, board.OPEN_ALERTS, 50)
    if store_kind == POSTGRES:
        assert "open_alerts_pkey" in open_alerts and "Seq Scan" not in open_alerts, open_alerts
    else:
        assert "SCAN o" in open_alerts and "SEARCH events USING INTEGER PRIMARY KEY" in open_alerts
    assert "events_acks" in await _plan(store, store_kind, board.ACKNOWLEDGED, 20)
    assert "events_alert_acks" in await _plan(store, store_kind, board.ACK_OF, 7)


async def test_every_alert_kind_is_open_until_acknowledged(store: Store) -> None:
    """The database's triggers keep open_alerts, whichever statement writes the event."""
    boss = (
        await store.create_user(new_user("boss", roles=frozenset({Role.SUPERVISOR})), now=at(0))
    ).id
    (stored,) = await store.save_inbound_batch([inbound("a@example.jp", received_at=at(1))])
    for n, kind in enumerate(ALERT_KINDS):
        await store.record_event(kind, now=at(2 + n), conversation_id=stored.conversation_id)
    await store.record_event("conversation_assigned", now=at(9), data={"via": "routing"})
    await store.record_event("conversation_assigned", now=at(9), data={"via": "on_call"})
    rows = await store.board_rows(day_start=at(0), now=at(10), acknowledged=0)
    kinds = [a.event.kind for a in rows.alerts]
    assert kinds == ["conversation_assigned", *reversed(ALERT_KINDS)]
    for alert in rows.alerts:
        await store.acknowledge_alert(alert.event.id, actor_id=boss, now=at(11))
    assert (await store.board_rows(day_start=at(0), now=at(12), acknowledged=0)).alerts == ()


async def test_a_counselors_load_counts_all_her_conversations_beyond_those_listed(
    store: Store,
) -> None:
    sato = (await counselor(store, "sato")).id
    stored = await store.save_inbound_batch(
        [inbound(f"c{n}@example.jp", received_at=at(n)) for n in range(3)]
    )
    for s in stored:
        await store.assign(s.conversation_id, sato, actor_id=sato, now=at(10), capacity=None)
    rows = await store.board_rows(day_start=at(0), now=at(20), assigned=1)
    assert len(rows.assigned) == 1
    (agent,) = rows.agents
    assert (agent.load, agent.channel_load) == (3, ((ChannelKind.WEBCHAT, 3),))


async def test_a_conversation_closed_without_a_reply_waited_until_it_was_closed(
    store: Store,
) -> None:
    sato = (await counselor(store, "sato")).id
    replied, closed, waiting = (
        s.conversation_id
        for s in await store.save_inbound_batch(
            [inbound(f"{n}@example.jp", received_at=at(0)) for n in ("r", "c", "w")]
        )
    )
    for conv in (replied, closed):
        await store.assign(conv, sato, actor_id=sato, now=at(5), capacity=None)
    await store.add_reply(replied, author_id=sato, body="x", now=at(30))
    await store.close(closed, actor_id=sato, now=at(60))
    rows = await store.board_rows(day_start=at(0), now=at(1000))
    assert sorted(rows.waits_today_s) == [30.0, 60.0, 1000.0]  # not 1000 for the closed one
    assert waiting not in {c.id for c in rows.assigned}


@pytest.mark.postgres
async def test_the_board_is_one_consistent_read(
    store: Store, store_kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A conversation assigned while the board is being read (here, between its two lists)
    shows in exactly one list, with her load and the queue's depth to match."""
    if store_kind != POSTGRES:
        pytest.skip("SQLite's reads are one transaction on its reader connection")
    sato = (await counselor(store, "sato")).id
    (stored,) = await store.save_inbound_batch([inbound("a@example.jp", received_at=at(1))])
    conv = stored.conversation_id
    read = board.board_rows
    done: list[str] = []

    class Meanwhile:
        """A Tx that lets the assignment commit, on another connection, after a list."""

        def __init__(self, tx: Tx) -> None:
            self.tx = tx
            self.parse_time = tx.parse_time

        def __getattr__(self, name: str) -> object:
            return getattr(self.tx, name)

        async def fetch(self, query: Query, *args: object) -> list[Row]:
            found = await self.tx.fetch(query, *args)
            if query in (board.WAITING, board.ASSIGNED) and not done:
                done.append(query)  # between the two lists, whichever is read first
                await store.assign(conv, sato, actor_id=sato, now=at(5), capacity=None)
            return found

    async def meanwhile(tx: Tx, **kwargs: object) -> BoardRows:
        return await read(Meanwhile(tx), **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(board, "board_rows", meanwhile)
    rows = await store.board_rows(day_start=at(0), now=at(10))
    assert [c.id for c in rows.waiting] + [c.id for c in rows.assigned] == [conv]
    (agent,) = rows.agents
    assert agent.load == len(rows.assigned)
    assert sum(d.count for d in rows.depth) == len(rows.waiting)
    monkeypatch.undo()
    after = await store.board_rows(day_start=at(0), now=at(10))
    assert [c.id for c in after.assigned] == [conv] and after.waiting == ()
