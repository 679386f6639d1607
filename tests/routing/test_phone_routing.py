"""Routing callbacks in the pure core: phone conversations to phone staff only, every other
channel to counselors only; a callback offered only when due and inside the window she allowed,
urgent or not; and when the router must look again."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from inbox.core.decisions import (
    AgentLoad,
    Assign,
    RoutingSnapshot,
    Wait,
    WaitingConversation,
    takes_channel,
)
from inbox.core.model import ChannelKind, ConversationId, UserId
from routing.assign import (
    CALLBACK_NOT_DUE,
    NO_ELIGIBLE,
    OUTSIDE_CALL_WINDOW,
    OUTSIDE_HOURS,
    WAITING_FOR_PREVIOUS,
    RoutingPolicy,
    decide,
)
from routing.callbacks import (
    callable_from,
    may_call,
    next_callable,
    parse_call_window,
    stored_window,
)
from routing.rota import for_on_call

PHONE, CHAT, MAIL = ChannelKind.PHONE, ChannelKind.WEBCHAT, ChannelKind.MAIL
TOKYO = ZoneInfo("Asia/Tokyo")
# 2026-11-24 is a Tuesday.
TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=TOKYO)
TUESDAY_1230 = datetime(2026, 11, 24, 12, 30, tzinfo=TOKYO)
LUNCH = json.dumps({"weekdays": ["12:00-13:00"]})  # contacts.call_window as stored


def conv(i: int, channel: ChannelKind = PHONE, **kw: object) -> WaitingConversation:
    fields: dict[str, object] = {"priority": 0, "waiting_since": TUESDAY_10 - timedelta(hours=1)}
    fields.update(kw)
    return WaitingConversation(id=ConversationId(i), channel=channel, **fields)  # type: ignore[arg-type]


def counselor(uid: int, **kw: object) -> AgentLoad:
    fields: dict[str, object] = {"capacity": 3, "load": 0, **kw}
    return AgentLoad(user_id=UserId(uid), **fields)  # type: ignore[arg-type]


def phone_staff(uid: int, **kw: object) -> AgentLoad:
    return counselor(uid, counselor=False, phone_staff=True, **kw)


def run(
    waiting: list[WaitingConversation], agents: list[AgentLoad], now: datetime, **policy: object
) -> list[tuple[int, int | str]]:
    snap = RoutingSnapshot(waiting=tuple(waiting), agents=tuple(agents))
    got = decide(snap, now=now, policy=RoutingPolicy(**policy))  # type: ignore[arg-type]
    return [
        (d.conversation_id, d.user_id if isinstance(d, Assign) else d.reason)
        for d in sorted(got, key=lambda d: d.conversation_id)
    ]


# ---- who takes what ---------------------------------------------------------------------------
def test_phone_goes_to_phone_staff_and_chats_to_counselors() -> None:
    waiting = [conv(1, PHONE), conv(2, CHAT), conv(3, MAIL)]
    assert run(waiting, [counselor(1), phone_staff(2)], TUESDAY_10) == [(1, 2), (2, 1), (3, 1)]


def test_counselors_never_take_a_call_and_phone_staff_never_a_chat() -> None:
    assert run([conv(1, PHONE)], [counselor(1)], TUESDAY_10) == [(1, NO_ELIGIBLE)]
    assert run([conv(1, CHAT)], [phone_staff(2)], TUESDAY_10) == [(1, NO_ELIGIBLE)]


def test_someone_with_both_roles_takes_both() -> None:
    both = counselor(1, phone_staff=True)
    assert run([conv(1, PHONE), conv(2, CHAT)], [both], TUESDAY_10) == [(1, 1), (2, 1)]


def test_her_chat_counselor_is_no_one_to_wait_for_on_a_call() -> None:
    """Continuity points at her chat's counselor, who can never take the call: it goes to
    phone staff at once instead of waiting for her."""
    back = conv(1, PHONE, previous_assignee=UserId(1), previous_at=TUESDAY_10)
    agents = [counselor(1), phone_staff(2)]
    assert run([back], agents, TUESDAY_10, continuity_wait_s=3600) == [(1, 2)]
    # ... whereas phone staff who called her before are waited for while busy
    busy = phone_staff(2, load=3)
    again = conv(1, PHONE, previous_assignee=UserId(2), previous_at=TUESDAY_10)
    assert run([again], [busy, phone_staff(3)], TUESDAY_10, continuity_wait_s=7200) == [
        (1, WAITING_FOR_PREVIOUS)
    ]


def test_an_urgent_call_nobody_may_take_goes_to_the_rota_like_any_other() -> None:
    waiting = (conv(1, PHONE, priority=100),)
    snap = RoutingSnapshot(waiting=waiting, agents=(counselor(1),))
    decisions = decide(snap, now=TUESDAY_10)
    assert for_on_call(snap, decisions, someone_on_call=True, urgent_priority=100) == [1]


# ---- when ---------------------------------------------------------------------------------------
def test_a_callback_waits_until_it_is_due() -> None:
    due = TUESDAY_10 + timedelta(minutes=30)
    staff = [phone_staff(2)]
    assert run([conv(1, not_before=due)], staff, TUESDAY_10) == [(1, CALLBACK_NOT_DUE)]
    assert run([conv(1, not_before=due)], staff, due) == [(1, 2)]  # due at that moment
    assert run([conv(1, not_before=None)], staff, TUESDAY_10) == [(1, 2)]  # NULL: now


def test_outside_her_window_it_waits_even_when_urgent() -> None:
    """Her safety: unlike the channel's service hours, urgency does not override her window."""
    staff = [phone_staff(2)]
    urgent = conv(1, priority=100, call_window=LUNCH)
    assert run([urgent], staff, TUESDAY_10) == [(1, OUTSIDE_CALL_WINDOW)]
    assert run([urgent], staff, TUESDAY_1230) == [(1, 2)]
    # the phone line closed: urgent passes the hours, never her window
    closed = frozenset({PHONE})
    assert run([urgent], staff, TUESDAY_1230, closed_channels=closed) == [(1, 2)]
    assert run([urgent], staff, TUESDAY_10, closed_channels=closed) == [(1, OUTSIDE_CALL_WINDOW)]
    assert run([conv(3, call_window=LUNCH)], staff, TUESDAY_1230, closed_channels=closed) == [
        (3, OUTSIDE_HOURS)
    ]


def test_due_inside_her_window_is_offered_and_a_waiting_one_never_to_the_rota() -> None:
    due = conv(1, call_window=LUNCH, not_before=TUESDAY_1230 - timedelta(minutes=1))
    assert run([due], [phone_staff(2)], TUESDAY_1230) == [(1, 2)]
    held = (conv(1, priority=100, call_window=LUNCH),)
    snap = RoutingSnapshot(waiting=held, agents=())
    decisions = decide(snap, now=TUESDAY_10)
    assert for_on_call(snap, decisions, someone_on_call=True, urgent_priority=100) == []


def test_her_window_is_read_in_the_programs_zone() -> None:
    # 12:30 in Tokyo is 04:30 in London and 03:30 UTC: outside lunch anywhere but Tokyo.
    staff = [phone_staff(2)]
    window = conv(1, call_window=LUNCH)
    london = RoutingPolicy(call_window_tz=ZoneInfo("Europe/London"))
    snap = RoutingSnapshot(waiting=(window,), agents=tuple(staff))
    (decision,) = decide(snap, now=TUESDAY_1230, policy=london)
    assert decision == Wait(conversation_id=ConversationId(1), reason=OUTSIDE_CALL_WINDOW)


def test_a_stored_window_that_does_not_parse_reads_as_none() -> None:
    for bad in ("not json", json.dumps({"weekdays": ["13:00-12:00"]}), "[]", json.dumps({})):
        assert stored_window(bad) is None
        assert run([conv(1, call_window=bad)], [phone_staff(2)], TUESDAY_10) == [(1, 2)]
    assert stored_window(LUNCH) == parse_call_window({"weekdays": ["12:00-13:00"]}, "w")


# ---- when to look again -------------------------------------------------------------------------
def test_next_callable_is_the_due_time_moved_into_her_window() -> None:
    noon = datetime(2026, 11, 24, 12, 0, tzinfo=TOKYO)
    # not due until 14:00, lunch only: the next day's lunch
    late = conv(1, call_window=LUNCH, not_before=datetime(2026, 11, 24, 14, tzinfo=TOKYO))
    assert callable_from(late, TUESDAY_10) == noon + timedelta(days=1)
    waiting = [conv(2, call_window=LUNCH), late, conv(3, CHAT)]
    assert next_callable(waiting, TUESDAY_10) == noon
    # callable now: nothing to wake for (the router already decided it)
    assert next_callable(waiting[:1], TUESDAY_1230) is None
    assert next_callable([conv(4, not_before=TUESDAY_10 + timedelta(minutes=5))], TUESDAY_10) == (
        TUESDAY_10 + timedelta(minutes=5)
    )
    assert next_callable([conv(5, CHAT)], TUESDAY_10) is None


# ---- the invariant ------------------------------------------------------------------------------
WINDOWS = [None, LUNCH, json.dumps({"everyday": ["09:00-11:00"]}), "{broken"]
agents_st = st.lists(
    st.tuples(st.booleans(), st.booleans(), st.integers(0, 3), st.integers(0, 2)),
    max_size=6,
).map(
    lambda rows: tuple(
        AgentLoad(
            user_id=UserId(i + 1),
            capacity=cap,
            load=min(load, cap),
            counselor=is_counselor,
            phone_staff=is_phone,
        )
        for i, (is_counselor, is_phone, cap, load) in enumerate(rows)
    )
)
waiting_st = st.lists(
    st.tuples(
        st.sampled_from([PHONE, CHAT, MAIL]),
        st.sampled_from([0, 50, 100]),
        st.none() | st.integers(-120, 120),
        st.sampled_from(WINDOWS),
        st.none() | st.integers(1, 6),
    ),
    max_size=25,
).map(
    lambda rows: tuple(
        conv(
            i + 1,
            channel,
            priority=prio,
            not_before=None if due is None else TUESDAY_10 + timedelta(minutes=due),
            call_window=window,
            previous_assignee=None if prev is None else UserId(prev),
            previous_at=TUESDAY_10,
        )
        for i, (channel, prio, due, window, prev) in enumerate(rows)
    )
)


@settings(max_examples=300, deadline=None)
@given(
    waiting=waiting_st,
    team=agents_st,
    minutes=st.integers(0, 300),
    closed=st.sampled_from([frozenset(), frozenset({PHONE})]),
)
def test_no_assignment_ever_breaks_the_phone_rules(
    waiting: tuple[WaitingConversation, ...],
    team: tuple[AgentLoad, ...],
    minutes: int,
    closed: frozenset[ChannelKind],
) -> None:
    now = TUESDAY_10 + timedelta(minutes=minutes)
    snap = RoutingSnapshot(waiting=waiting, agents=team)
    got = decide(snap, now=now, policy=RoutingPolicy(closed_channels=closed))
    assert sorted(d.conversation_id for d in got) == sorted(w.id for w in waiting)
    by_id = {w.id: w for w in waiting}
    agents = {a.user_id: a for a in team}
    for d in got:
        w = by_id[d.conversation_id]
        window = None if w.call_window is None else stored_window(w.call_window)
        held = (w.not_before is not None and w.not_before > now) or (
            window is not None and not may_call(window, now)
        )
        if isinstance(d, Assign):
            a = agents[d.user_id]
            assert takes_channel(w.channel, counselor=a.counselor, phone_staff=a.phone_staff)
            assert not held
        else:
            # a held callback always says so, and is never called "nobody can take it"
            assert held == (d.reason in (CALLBACK_NOT_DUE, OUTSIDE_CALL_WINDOW))
        # when it is held, the router knows when to look again (unless her window never opens)
        if held:
            at = callable_from(w, now)
            assert at is not None and at > now
    soonest = next_callable(waiting, now)
    assert soonest is None or soonest > now
