"""The router's pure core: tables for each rule, properties for the invariants."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from inbox.core.decisions import AgentLoad, Assign, RoutingSnapshot, Wait, WaitingConversation
from inbox.core.model import ChannelKind, ConversationId, Presence, Shift, UserId
from inbox.core.shifts import never_closed, on_shift
from routing.assign import (
    ALL_BUSY,
    NO_COUNSELOR,
    NO_ELIGIBLE,
    OUTSIDE_HOURS,
    WAITING_FOR_PREVIOUS,
    RoutingPolicy,
    decide,
)
from tests.factories import at

WEBCHAT, PHONE = ChannelKind.WEBCHAT, ChannelKind.PHONE
NINE_TO_FIVE = ((time(9), time(17)),)
WEEKDAYS = Shift(weekly=(NINE_TO_FIVE,) * 5 + ((), ()))
# 2026-11-24 is a Tuesday; 10:00 in Tokyo is 01:00 UTC.
TUESDAY_10 = datetime.fromisoformat("2026-11-24T10:00:00+09:00")


def conv(i: int, **kw: object) -> WaitingConversation:
    fields: dict[str, object] = {"channel": WEBCHAT, "priority": 0, "waiting_since": at(i)}
    fields.update(kw)
    return WaitingConversation(id=ConversationId(i), **fields)  # type: ignore[arg-type]


def agent(uid: int, capacity: int = 3, load: int = 0, **kw: object) -> AgentLoad:
    # Both roles, so that phone conversations test load and capacity here; who takes which
    # channel is tests/routing/test_phone_routing.py's.
    fields: dict[str, object] = {"phone_staff": True, **kw}
    return AgentLoad(user_id=UserId(uid), capacity=capacity, load=load, **fields)  # type: ignore[arg-type]


def pairs(decisions: list[Assign | Wait]) -> list[tuple[int, int | str]]:
    return [
        (d.conversation_id, d.user_id if isinstance(d, Assign) else d.reason) for d in decisions
    ]


def run(waiting: list[WaitingConversation], agents: list[AgentLoad], **kw: object) -> list:  # type: ignore[type-arg]
    snap = RoutingSnapshot(waiting=tuple(waiting), agents=tuple(agents))
    now = kw.pop("now", at(1000))
    return pairs(decide(snap, now=now, policy=RoutingPolicy(**kw)))  # type: ignore[arg-type]


# ---- order and load -----------------------------------------------------------------------------
def test_urgent_first_then_longest_waiting() -> None:
    waiting = [conv(1), conv(2, priority=100), conv(3, waiting_since=at(-5))]
    assert run(waiting, [agent(1, capacity=1)]) == [(2, 1), (3, ALL_BUSY), (1, ALL_BUSY)]


def test_least_loaded_then_longest_idle_then_lowest_id() -> None:
    agents = [
        agent(1, load=1, idle_since=at(50)),
        agent(2, load=1, idle_since=at(10)),  # idle longer than 1
        agent(3, load=0, idle_since=at(999)),
        agent(4, load=1),  # never assigned: idle longest of all
    ]
    assert run([conv(1), conv(2), conv(3), conv(4)], agents) == [(1, 3), (2, 4), (3, 2), (4, 1)]


def test_capacity_per_channel_below_the_total() -> None:
    waiting = [conv(1, channel=PHONE), conv(2, channel=PHONE), conv(3)]
    phone_one = agent(1, capacity=3, channel_capacity=((PHONE, 1),), channel_load=((PHONE, 0),))
    assert run(waiting, [phone_one]) == [(1, 1), (2, ALL_BUSY), (3, 1)]


# ---- eligibility --------------------------------------------------------------------------------
def test_only_counselors_on_shift_and_available() -> None:
    agents = [
        agent(1, shift=WEEKDAYS, presence=Presence.AWAY),
        agent(2, shift=WEEKDAYS, presence=Presence.OFFLINE),
        agent(3, shift=Shift(weekly=((),) * 7)),  # never on shift
        agent(4, shift=WEEKDAYS),
    ]
    assert run([conv(1), conv(2)], agents, now=TUESDAY_10) == [(1, 4), (2, 4)]
    saturday = TUESDAY_10 + timedelta(days=4)
    assert run([conv(1)], agents, now=saturday) == [(1, NO_COUNSELOR)]


def test_dated_exception_overrides_the_weekly_schedule() -> None:
    off = Shift(weekly=WEEKDAYS.weekly, exceptions=((date(2026, 11, 24), ()),))
    swapped = Shift(weekly=((),) * 7, exceptions=((date(2026, 11, 24), ((time(9), time(0)),)),))
    open_ = never_closed
    assert not on_shift(off, TUESDAY_10, closed=open_)
    assert on_shift(swapped, TUESDAY_10.replace(hour=23, minute=59), closed=open_)  # 00:00 = 24:00
    assert not on_shift(WEEKDAYS, TUESDAY_10.replace(hour=17), closed=open_)  # end is exclusive
    assert on_shift(WEEKDAYS, TUESDAY_10.replace(hour=9), closed=open_)


def test_skill_language_and_team() -> None:
    agents = [
        agent(1),
        agent(2, skills=frozenset({"dv"}), languages=frozenset({"ja", "en"})),
        agent(3, teams=frozenset({"night"})),
    ]
    waiting = [
        conv(1, skill="dv"),
        conv(2, language="en"),
        conv(3, team="night"),
        conv(4, skill="lgbtq"),
        conv(5, language="vi"),
    ]
    assert run(waiting, agents) == [(1, 2), (2, 2), (3, 3), (4, NO_ELIGIBLE), (5, NO_ELIGIBLE)]


def test_a_lapsed_offer_goes_to_someone_else() -> None:
    waiting = [conv(1, declined_by=frozenset({UserId(1)}))]
    assert run(waiting, [agent(1), agent(2, load=2)]) == [(1, 2)]
    assert run(waiting, [agent(1)]) == [(1, NO_ELIGIBLE)]


# ---- continuity ---------------------------------------------------------------------------------
def test_returning_consulter_goes_back_to_her_counselor() -> None:
    back = conv(1, previous_assignee=UserId(2), previous_at=at(900))
    assert run([back], [agent(1), agent(2, load=2)]) == [(1, 2)]


def test_waits_a_little_for_a_busy_previous_counselor_then_falls_back() -> None:
    back = conv(1, previous_assignee=UserId(2), previous_at=at(900), waiting_since=at(990))
    agents = [agent(1), agent(2, capacity=1, load=1)]
    assert run([back], agents, continuity_wait_s=60) == [(1, WAITING_FOR_PREVIOUS)]
    assert run([back], agents, continuity_wait_s=5) == [(1, 1)]


def test_no_waiting_for_a_counselor_who_is_off_shift_or_long_ago() -> None:
    off = conv(1, previous_assignee=UserId(2), previous_at=at(900), waiting_since=at(999))
    agents = [agent(1), agent(2, shift=Shift(weekly=((),) * 7))]
    assert run([off], agents, continuity_wait_s=600) == [(1, 1)]
    old = conv(1, previous_assignee=UserId(2), previous_at=at(0) - timedelta(days=31))
    assert run([old], [agent(1), agent(2, load=2)], continuity_days=30) == [(1, 1)]


def test_continuity_respects_skill_and_channel_capacity() -> None:
    back = conv(1, previous_assignee=UserId(2), previous_at=at(900), skill="dv")
    assert run([back], [agent(1, skills=frozenset({"dv"})), agent(2)], continuity_wait_s=0) == [
        (1, 1)
    ]


# ---- properties ---------------------------------------------------------------------------------
channels = st.sampled_from([WEBCHAT, PHONE, ChannelKind.MAIL])
agents_st = st.lists(
    st.builds(
        lambda cap, load, phone_cap, skills, present, idle: (
            cap,
            load,
            phone_cap,
            skills,
            present,
            idle,
        ),
        st.integers(0, 4),
        st.integers(0, 4),
        st.none() | st.integers(0, 2),
        st.frozensets(st.sampled_from(["dv", "youth"]), max_size=2),
        st.booleans(),
        st.none() | st.integers(0, 100),
    ),
    max_size=6,
).map(
    lambda rows: tuple(
        agent(
            i + 1,
            capacity=cap,
            load=min(load, cap),
            channel_capacity=() if phone is None else ((PHONE, phone),),
            channel_load=((PHONE, 0),),
            skills=skills,
            presence=Presence.AVAILABLE if present else Presence.AWAY,
            idle_since=None if idle is None else at(idle),
        )
        for i, (cap, load, phone, skills, present, idle) in enumerate(rows)
    )
)
waiting_st = st.lists(
    st.tuples(
        st.integers(0, 2),
        channels,
        st.none() | st.sampled_from(["dv", "youth"]),
        st.none() | st.integers(1, 6),
        st.integers(0, 200),
    ),
    max_size=30,
).map(
    lambda rows: tuple(
        conv(
            i + 1,
            priority=prio * 50,
            channel=ch,
            skill=skill,
            previous_assignee=None if prev is None else UserId(prev),
            previous_at=at(900),
            waiting_since=at(since),
        )
        for i, (prio, ch, skill, prev, since) in enumerate(rows)
    )
)


@settings(max_examples=300, deadline=None)
@given(waiting=waiting_st, team=agents_st, hold=st.sampled_from([0.0, 60.0, 10_000.0]))
def test_invariants(
    waiting: tuple[WaitingConversation, ...], team: tuple[AgentLoad, ...], hold: float
) -> None:
    snap = RoutingSnapshot(waiting=waiting, agents=team)
    policy = RoutingPolicy(continuity_wait_s=hold)
    got = decide(snap, now=at(1000), policy=policy)
    # every conversation decided exactly once, urgent first
    assert sorted(d.conversation_id for d in got) == sorted(w.id for w in waiting)
    by_id = {w.id: w for w in waiting}
    prios = [by_id[d.conversation_id].priority for d in got]
    assert prios == sorted(prios, reverse=True)
    # never over the total or the per-channel capacity, only to qualified available counselors
    taken = Counter(d.user_id for d in got if isinstance(d, Assign))
    phone = Counter(
        d.user_id
        for d in got
        if isinstance(d, Assign) and by_id[d.conversation_id].channel == PHONE
    )
    for a in team:
        assert a.load + taken[a.user_id] <= a.capacity
        cap = dict(a.channel_capacity).get(PHONE)
        assert cap is None or phone[a.user_id] <= cap
    agents = {a.user_id: a for a in team}
    for d in got:
        if isinstance(d, Assign):
            a, w = agents[d.user_id], by_id[d.conversation_id]
            assert a.presence is Presence.AVAILABLE
            assert w.skill is None or w.skill in a.skills
    # work-conserving: a conversation that waits for lack of room leaves no qualified room behind
    left = {a.user_id: a.capacity - a.load - taken[a.user_id] for a in team}
    for d in got:
        if isinstance(d, Wait) and d.reason == ALL_BUSY:
            w = by_id[d.conversation_id]
            for a in team:
                if a.presence is Presence.AVAILABLE and (w.skill is None or w.skill in a.skills):
                    cap = dict(a.channel_capacity).get(w.channel)
                    used = phone[a.user_id] if w.channel == PHONE else 0
                    assert left[a.user_id] <= 0 or (cap is not None and used >= cap)
    assert decide(snap, now=at(1000), policy=policy) == got  # deterministic


def test_closed_channel_waits_unless_urgent() -> None:
    waiting = [conv(1, channel=PHONE), conv(2, channel=PHONE, priority=100), conv(3)]
    closed = frozenset({PHONE})
    assert run(waiting, [agent(7)], closed_channels=closed) == [
        (2, 7),  # urgent: routed although the phone line is closed
        (1, OUTSIDE_HOURS),
        (3, 7),
    ]
    assert run(waiting, [agent(7)], closed_channels=closed, urgent_priority=101)[0] == (
        2,
        OUTSIDE_HOURS,
    )


many_agents_st = st.lists(
    st.tuples(
        st.integers(1, 3),
        st.none() | st.integers(0, 1),
        st.frozensets(st.sampled_from(["dv", "youth"]), max_size=1),
        st.none() | st.integers(0, 100),
    ),
    min_size=10,
    max_size=24,
).map(
    lambda rows: tuple(
        agent(
            i + 1,
            capacity=cap,
            channel_capacity=() if phone is None else ((PHONE, phone),),
            skills=skills,
            idle_since=None if idle is None else at(idle),
        )
        for i, (cap, phone, skills, idle) in enumerate(rows)
    )
)


@settings(max_examples=200, deadline=None)
@given(waiting=waiting_st, team=many_agents_st)
def test_each_assignment_goes_to_the_least_loaded_qualified_counselor(
    waiting: tuple[WaitingConversation, ...], team: tuple[AgentLoad, ...]
) -> None:
    """Replays the decisions against a plain scan of everyone: with many counselors who lack
    the skill, the router's heap falls back to its scan path, and both must agree."""
    waiting = tuple(dataclasses.replace(w, previous_assignee=None) for w in waiting)
    now = at(1000)
    got = decide(RoutingSnapshot(waiting=waiting, agents=team), now=now)
    by_id = {w.id: w for w in waiting}
    load = {a.user_id: a.load for a in team}
    phone = {a.user_id: 0 for a in team}
    idle = {a.user_id: a.idle_since or datetime.min.replace(tzinfo=UTC) for a in team}

    def fits(a: AgentLoad, w: WaitingConversation) -> bool:
        cap = dict(a.channel_capacity).get(w.channel)
        return (
            load[a.user_id] < a.capacity
            and (
                cap is None
                or (w.channel is PHONE and phone[a.user_id] < cap)
                or w.channel is not PHONE
            )
            and (w.skill is None or w.skill in a.skills)
        )

    for d in got:
        w = by_id[d.conversation_id]
        fitting = [a for a in team if fits(a, w)]
        if isinstance(d, Wait):
            assert not fitting, (d, fitting)
            continue
        best = min(fitting, key=lambda a: (load[a.user_id], idle[a.user_id], a.user_id))
        assert d.user_id == best.user_id
        load[d.user_id] += 1
        phone[d.user_id] += w.channel is PHONE
        idle[d.user_id] = now
