"""The Store contract for the grant report's facts (storage.report) and the retention rule for
bodies (storage.retention), on both stores: every count of a small desk whose report is known
(tests/report_data.py), by Tokyo month, in both units; and a purge of bodies that changes no
count."""

from __future__ import annotations

import dataclasses
from datetime import date

from inbox.core.report_facts import FactsQuery
from storage.base import Store
from tests.report_data import (
    EXPECTED_BY_CONVERSATION,
    EXPECTED_BY_DAY,
    MESSAGES,
    PERIOD,
    build_desk,
    insert,
    tokyo,
)


async def test_the_facts_of_a_period_by_tokyo_month(store: Store) -> None:
    await build_desk(store)
    assert dict(await store.report_facts(PERIOD)) == EXPECTED_BY_CONVERSATION


async def test_the_facts_counted_by_conversation_day(store: Store) -> None:
    await build_desk(store)
    by_day = dataclasses.replace(PERIOD, unit="conversation_day")
    assert dict(await store.report_facts(by_day)) == EXPECTED_BY_DAY


async def test_a_period_of_one_day_and_an_empty_store(store: Store) -> None:
    assert await store.report_facts(PERIOD) == {}
    await build_desk(store)
    # 1 April, Tokyo: the LINE conversation opened at 00:10 (31 March in UTC) and its follow
    one_day = FactsQuery(date(2025, 4, 1), date(2025, 4, 1))
    facts = await store.report_facts(one_day)
    assert facts[("consultations.line", "2025-04")] == 1
    assert facts[("line_friends_added", "2025-04")] == 1
    assert ("consultations.webchat", "2025-03") not in facts  # 23:30 on 31 March, Tokyo


async def test_purging_bodies_changes_no_figure(store: Store) -> None:
    await build_desk(store)
    await insert(
        store,
        "attachments",
        ("message_id", "position", "filename", "content_type", "size_bytes", "content"),
        [(2, 0, "写真.jpg", "image/jpeg", 3, b"abc"), (14, 0, "open.jpg", "image/jpeg", 3, b"x")],
    )
    threads = [(3, "夫のことで相談です", tokyo(4, 30)), (8, "まだ相談中", tokyo(5, 31))]
    await insert(store, "mail_threads", ("conversation_id", "subject", "updated_at"), threads)
    before_by_conv = await store.report_facts(PERIOD)
    by_day = dataclasses.replace(PERIOD, unit="conversation_day")
    before_by_day = await store.report_facts(by_day)
    told: list[int] = []
    now = tokyo(12, 1)
    # closed before 1 June, Tokyo: conversations 1 to 5 (and each message written before it)
    purged = await store.purge_bodies(
        before=tokyo(6, 1, 0, 0), now=now, batch=3, progress=told.append
    )
    closed_messages = [i for i, (conv, _, _) in MESSAGES.items() if conv <= 5]
    assert purged == len(closed_messages)
    assert told == [3, 6, 9, 11]  # a running total after each batch
    assert await store.report_facts(PERIOD) == before_by_conv
    assert await store.report_facts(by_day) == before_by_day
    rows = await store._db.read(  # type: ignore[attr-defined]
        lambda tx: tx.fetch("SELECT id, body, purged_at IS NOT NULL FROM messages ORDER BY id")
    )
    for message_id, body, was_purged in rows:
        if message_id in closed_messages:
            assert (body, bool(was_purged)) == ("", True)
        else:
            assert (body, bool(was_purged)) == (f"本文{message_id}", False)
    kept = await store._db.read(  # type: ignore[attr-defined]
        lambda tx: tx.fetch("SELECT message_id FROM attachments")
    )
    assert [r[0] for r in kept] == [14]  # an open conversation's attachment stays
    subjects = await store._db.read(  # type: ignore[attr-defined]
        lambda tx: tx.fetch("SELECT conversation_id, subject FROM mail_threads ORDER BY 1")
    )
    assert [tuple(r) for r in subjects] == [(3, ""), (8, "まだ相談中")]  # her words go too
    events = [e for e in await store.list_events() if e.kind == "bodies_purged"]
    assert [e.data["messages"] for e in events] == [3, 3, 3, 2]
    assert all(e.actor_id is None and e.conversation_id is None for e in events)
    # nothing is left to purge: a second run purges nothing and writes no event
    assert await store.purge_bodies(before=tokyo(6, 1, 0, 0), now=now) == 0
    assert len([e for e in await store.list_events() if e.kind == "bodies_purged"]) == 4
