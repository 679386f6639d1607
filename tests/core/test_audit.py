"""Audited reads: one per person and conversation within the window, answered from this
process's memory when it recorded the read, from the database when another instance did."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from inbox.commands.signals import Signals
from inbox.commands.staff import StaffCommands
from inbox.core.audit import (
    ACCOUNT_KINDS,
    READ_COALESCE,
    AuditQuery,
    RecentReads,
    StandingRead,
    about_accounts,
    days_range,
)
from inbox.core.model import ConversationId, Event, EventId, UserId
from storage.base import Store
from tests.factories import T0, at, inbound, new_user

A, B = UserId(1), UserId(2)
C1, C2 = ConversationId(1), ConversationId(2)


def test_recent_reads_answer_within_the_window_only() -> None:
    reads = RecentReads(window=timedelta(minutes=10))
    assert not reads.lately(A, C1, T0)
    reads.recorded(A, C1, T0)
    assert reads.lately(A, C1, T0 + timedelta(minutes=9, seconds=59))
    assert not reads.lately(A, C1, T0 + timedelta(minutes=10))
    assert not reads.lately(B, C1, T0) and not reads.lately(A, C2, T0)


def test_recent_reads_forget_the_oldest_past_their_size() -> None:
    reads = RecentReads(max_entries=2)
    reads.recorded(A, C1, T0)
    reads.recorded(A, C2, T0)
    reads.recorded(A, C1, at(1))  # recorded again: now the newest
    reads.recorded(B, C1, at(2))
    assert reads.lately(A, C1, at(3)) and reads.lately(B, C1, at(3))
    assert not reads.lately(A, C2, at(3))


def test_a_day_range_is_the_programs_days() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    start, end = days_range(date(2026, 11, 1), date(2026, 11, 30), tokyo)
    assert start == datetime(2026, 10, 31, 15, 0, tzinfo=ZoneInfo("UTC"))
    assert end == datetime(2026, 11, 30, 15, 0, tzinfo=ZoneInfo("UTC"))
    assert days_range(None, None, tokyo) == (None, None)


async def test_a_read_another_instance_recorded_is_the_same_read(store: Store) -> None:
    now = [T0]
    sato = (await store.create_user(new_user("sato"), now=T0)).id
    (stored,) = await store.save_inbound_batch([inbound()])
    conv = stored.conversation_id
    one = StaffCommands.build(store, clock=lambda: now[0], signals=Signals()).conversations
    other = StaffCommands.build(store, clock=lambda: now[0], signals=Signals()).conversations
    assert await one.record_read(conv, actor=sato)
    now[0] = T0 + timedelta(minutes=1)
    assert not await one.record_read(conv, actor=sato)  # her refetch, from memory
    assert not await other.record_read(conv, actor=sato)  # the database says so
    now[0] = T0 + READ_COALESCE + timedelta(seconds=1)
    assert await other.record_read(conv, actor=sato)  # a new read: the window has passed
    now[0] += timedelta(minutes=1)
    assert not await one.record_read(conv, actor=sato)  # one's memory is old: the database
    reads = await store.audit_events(AuditQuery(kinds=("conversation_read",)))
    assert [e.at for e in reads] == [T0 + READ_COALESCE + timedelta(seconds=1), T0]


def test_an_admins_query_asks_for_account_kinds_alone() -> None:
    assert AuditQuery().kinds_asked() is None  # any kind
    assert AuditQuery(kinds=("note_added",)).kinds_asked() == ("note_added",)
    assert set(AuditQuery(accounts_only=True).kinds_asked() or ()) == ACCOUNT_KINDS
    mixed = AuditQuery(accounts_only=True, kinds=("signed_in", "address_revealed"))
    assert mixed.kinds_asked() == ("signed_in",)
    # only kinds that are not hers: none at all, never "any"
    assert AuditQuery(accounts_only=True, kinds=("supervisors_alerted",)).kinds_asked() == ()
    event = Event(
        id=EventId(1), at=T0, kind="signed_in", actor_id=A, conversation_id=None, message_id=None
    )
    assert about_accounts(event)
    assert not about_accounts(dataclasses.replace(event, conversation_id=C1))
    assert not about_accounts(dataclasses.replace(event, kind="supervisors_alerted"))


async def test_a_read_the_database_knew_of_is_kept_in_memory_with_its_time(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another instance recorded her read: this one asks the database once, then answers her
    refetches from memory, until the window from THAT read has passed."""
    now = [T0]
    sato = (await store.create_user(new_user("sato"), now=T0)).id
    (stored,) = await store.save_inbound_batch([inbound()])
    conv = stored.conversation_id
    one = StaffCommands.build(store, clock=lambda: now[0], signals=Signals()).conversations
    other = StaffCommands.build(store, clock=lambda: now[0], signals=Signals()).conversations
    assert await other.record_read(conv, actor=sato)
    asked = []
    record_read = store.record_read

    async def counted(*args: Any, **kwargs: Any) -> StandingRead:
        asked.append(kwargs["now"])
        return await record_read(*args, **kwargs)

    counted.__name__ = "record_read"  # the write it stands for (inbox.commands.writes)
    monkeypatch.setattr(store, "record_read", counted)
    for minutes in (1, 2, 9):
        now[0] = T0 + timedelta(minutes=minutes)
        assert not await one.record_read(conv, actor=sato)
    assert asked == [T0 + timedelta(minutes=1)]  # once: then her refetches from memory
    now[0] = T0 + READ_COALESCE + timedelta(seconds=1)  # ten minutes from the read: a new one
    assert await one.record_read(conv, actor=sato)
    assert len(asked) == 2
