"""Contract: the audit log's store operations (audit_events, record_read), on both stores."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from inbox.core.audit import ACCOUNT_KINDS, CONVERSATION_READ, Actors, AuditQuery, days_range
from inbox.core.model import ConversationId, Role, UserId
from storage.base import Store
from tests.factories import T0, at, inbound, new_user

TOKYO = ZoneInfo("Asia/Tokyo")
COALESCE = timedelta(minutes=10)


async def _desk(store: Store) -> tuple[UserId, UserId, ConversationId, ConversationId]:
    sato = (await store.create_user(new_user("sato"), now=T0)).id
    boss = (
        await store.create_user(new_user("boss", roles=frozenset({Role.SUPERVISOR})), now=T0)
    ).id
    a, b = await store.save_inbound_batch([inbound("a@example.jp"), inbound("b@example.jp")])
    return sato, boss, ConversationId(a.conversation_id), ConversationId(b.conversation_id)


async def test_a_read_is_written_once_per_person_and_conversation_within_the_window(
    store: Store,
) -> None:
    sato, boss, a, b = await _desk(store)
    assert await store.record_read(a, sato, now=at(0), coalesce=COALESCE)
    # her screen fetching it again, and again: the same read
    assert not await store.record_read(a, sato, now=at(5), coalesce=COALESCE)
    same = await store.record_read(a, sato, now=at(599), coalesce=COALESCE)
    assert (same.written, same.at) == (False, at(0))  # the read that stands, and its time
    # someone else, another conversation: reads of their own
    assert await store.record_read(a, boss, now=at(6), coalesce=COALESCE)
    assert await store.record_read(b, sato, now=at(7), coalesce=COALESCE)
    # the window counts from her last recorded read: ten minutes on, it is a new read
    assert await store.record_read(a, sato, now=at(601), coalesce=COALESCE)

    reads = await store.audit_events(AuditQuery(kinds=(CONVERSATION_READ,)))
    assert [(e.actor_id, e.conversation_id, e.at) for e in reads] == [
        (sato, a, at(601)),
        (sato, b, at(7)),
        (boss, a, at(6)),
        (sato, a, at(0)),
    ]
    assert all(e.data == {} and e.message_id is None for e in reads)


async def test_the_audit_log_filters_by_person_kind_conversation_and_time(store: Store) -> None:
    sato, boss, a, b = await _desk(store)
    await store.record_read(a, sato, now=at(10), coalesce=COALESCE)
    await store.assign(a, sato, actor_id=boss, now=at(20), capacity=None)
    await store.record_read(b, boss, now=at(30), coalesce=COALESCE)
    await store.record_event("signed_in", now=at(40), actor_id=boss)

    async def kinds(**filters: object) -> list[tuple[str, int | None]]:
        found = await store.audit_events(AuditQuery(**filters))  # type: ignore[arg-type]
        return [(e.kind, e.conversation_id) for e in found]

    everything = await store.audit_events(AuditQuery(limit=100))
    assert [e.id for e in everything] == sorted((e.id for e in everything), reverse=True)
    assert {"message_received", "conversation_opened"} <= {e.kind for e in everything}

    assert await kinds(actor_id=sato) == [("conversation_read", a)]
    assert await kinds(actor_id=boss) == [
        ("signed_in", None),
        ("conversation_read", b),
        ("conversation_assigned", a),
    ]
    assert await kinds(actors=Actors.STAFF) == [
        ("signed_in", None),
        ("conversation_read", b),
        ("conversation_assigned", a),
        ("conversation_read", a),
    ]
    assert {k for k, _ in await kinds(actors=Actors.SYSTEM)} == {
        "user_created",
        "message_received",
        "conversation_opened",
    }
    assert await kinds(kinds=("conversation_read", "signed_in")) == [
        ("signed_in", None),
        ("conversation_read", b),
        ("conversation_read", a),
    ]
    assert await kinds(kinds=("no_such_kind",)) == []
    assert await kinds(conversation_id=a, actors=Actors.STAFF) == [
        ("conversation_assigned", a),
        ("conversation_read", a),
    ]
    assert await kinds(actor_id=boss, kinds=("conversation_read",), conversation_id=b) == [
        ("conversation_read", b)
    ]
    assert await kinds(actors=Actors.STAFF, at_from=at(20), at_before=at(40)) == [
        ("conversation_read", b),
        ("conversation_assigned", a),
    ]


async def test_the_audit_log_pages_newest_first_with_a_cursor(store: Store) -> None:
    sato, _, a, _ = await _desk(store)
    for minute in range(7):
        await store.record_read(a, sato, now=at(minute * 700), coalesce=COALESCE)
    query = AuditQuery(actor_id=sato, limit=3)
    pages: list[list[int]] = []
    before: int | None = None
    while True:
        page = await store.audit_events(AuditQuery(actor_id=sato, limit=3, before_id=before))
        if not page:
            break
        pages.append([e.id for e in page])
        before = page[-1].id
    ids = [i for page in pages for i in page]
    assert [len(p) for p in pages] == [3, 3, 1]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 7
    assert [e.id for e in await store.audit_events(query)] == pages[0]


async def test_a_day_is_the_programs_day(store: Store) -> None:
    """A day of Asia/Tokyo runs from 15:00 UTC the day before."""
    sato, _, a, b = await _desk(store)
    day = T0.astimezone(TOKYO).date()  # 2026-11-22 10:00 in Tokyo
    start, end = days_range(day, day, TOKYO)
    assert start is not None and end is not None
    await store.record_read(a, sato, now=start - timedelta(seconds=1), coalesce=COALESCE)
    await store.record_read(b, sato, now=start, coalesce=COALESCE)
    await store.record_read(a, sato, now=end - timedelta(seconds=1), coalesce=COALESCE)
    await store.record_read(b, sato, now=end, coalesce=COALESCE)
    found = await store.audit_events(AuditQuery(actor_id=sato, at_from=start, at_before=end))
    assert [e.at for e in found] == [end - timedelta(seconds=1), start]


async def test_an_admins_log_has_the_events_about_accounts_alone(store: Store) -> None:
    """accounts_only (an admin who is not also a supervisor): no conversation's event at all,
    not even one of an account kind; her kind filter narrows within them, never past them."""
    sato, boss, a, _ = await _desk(store)
    await store.record_read(a, sato, now=at(10), coalesce=COALESCE)
    await store.assign(a, sato, actor_id=boss, now=at(20), capacity=None)
    await store.record_event("signed_in", now=at(30), actor_id=boss)
    await store.record_event("user_updated", now=at(40), actor_id=boss, conversation_id=a)
    await store.update_account("sato", display_name="Sato H", roles=None, actor_id=boss, now=at(50))

    async def kinds(**filters: object) -> list[str]:
        query = AuditQuery(accounts_only=True, limit=100, **filters)  # type: ignore[arg-type]
        return [e.kind for e in await store.audit_events(query)]

    everything = [e for e in await store.list_events() if e.conversation_id is None]
    assert await kinds() == [e.kind for e in reversed(everything) if e.kind in ACCOUNT_KINDS]
    assert await kinds() == ["user_updated", "signed_in", "user_created", "user_created"]
    assert await kinds(kinds=("signed_in", "conversation_read")) == ["signed_in"]
    assert await kinds(kinds=("conversation_read", "conversation_assigned")) == []
    assert await kinds(conversation_id=a) == []
    assert await kinds(actor_id=boss) == ["user_updated", "signed_in"]
