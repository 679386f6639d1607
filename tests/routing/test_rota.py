"""The on-call rota and the escalation decision, pure: who is on call at an instant (weekly
windows, dated exceptions, the program's time zone, the old single-username form), and which
waiting conversations go to her."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from inbox.core.decisions import AgentLoad, RoutingSnapshot, WaitingConversation
from inbox.core.errors import ConfigError
from inbox.core.model import ChannelKind, ConversationId, Presence, Shift, UserId
from routing.assign import RoutingPolicy, decide
from routing.rota import NO_ROTA, always, for_on_call, on_call_at, parse_rota
from tests.factories import at

TOKYO = ZoneInfo("Asia/Tokyo")
NIGHTS = {
    "weekly": [
        {"who": "tanaka", "days": ["weekdays"], "windows": ["00:00-09:00", "18:00-24:00"]},
        {"who": "suzuki", "days": ["weekends"]},
    ],
    "dates": [
        {"date": "2026-12-31", "who": "sato"},  # New Year's Eve: sato all day
        {"date": "2027-01-01", "who": ""},  # nobody on call that day
        {"date": date(2026, 12, 25), "who": "sato", "windows": ["20:00-24:00"]},
    ],
}


def tokyo(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TOKYO)


@pytest.mark.parametrize(
    ("when", "who"),
    [
        ("2026-11-24 08:59", "tanaka"),  # a Tuesday, before the office opens
        ("2026-11-24 09:00", None),  # office hours: no one on call
        ("2026-11-24 17:59", None),
        ("2026-11-24 18:00", "tanaka"),
        ("2026-11-24 23:59", "tanaka"),
        ("2026-11-28 12:00", "suzuki"),  # a Saturday, all day
        ("2026-12-31 12:00", "sato"),  # the dated exception replaces Thursday's rota
        ("2026-12-31 20:00", "sato"),
        ("2027-01-01 03:00", None),  # "" on a date: nobody, though a Friday night
        ("2026-12-25 19:00", None),  # an exception replaces the whole day, not only its windows
        ("2026-12-25 21:00", "sato"),
    ],
)
def test_weekly_windows_and_dated_exceptions(when: str, who: str | None) -> None:
    rota = parse_rota(NIGHTS)
    assert on_call_at(rota, tokyo(when), TOKYO) == who


def test_read_on_the_program_clock() -> None:
    rota = parse_rota(NIGHTS)
    # 2026-11-24 10:00 UTC is 19:00 in Tokyo (tanaka) but 10:00 in London (no one).
    utc = datetime.fromisoformat("2026-11-24T10:00:00+00:00")
    assert on_call_at(rota, utc, TOKYO) == "tanaka"
    assert on_call_at(rota, utc, ZoneInfo("Europe/London")) is None
    with pytest.raises(ValueError, match="aware"):
        on_call_at(rota, datetime(2026, 11, 24, 10), TOKYO)


def test_the_old_single_username_is_always_on_call() -> None:
    rota = parse_rota("boss")
    assert rota == always("boss") and rota.people == {"boss"}
    for hour in (0, 9, 13, 23):
        assert on_call_at(rota, tokyo(f"2026-11-24 {hour:02}:30"), TOKYO) == "boss"
    assert parse_rota("") == NO_ROTA
    assert on_call_at(NO_ROTA, tokyo("2026-11-24 03:00"), TOKYO) is None
    assert parse_rota(NIGHTS).people == {"tanaka", "suzuki", "sato"}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (3, "routing.on_call: expected a username"),
        ({"weekdays": []}, "routing.on_call.weekdays: unknown key; allowed: weekly, dates"),
        ({"weekly": [{"days": ["monday"]}]}, "routing.on_call.weekly[0].who: expected a username"),
        (
            {"weekly": [{"who": "a", "days": ["mondays"]}]},
            'routing.on_call.weekly[0].days[0]: "mondays" is not a day',
        ),
        (
            {"weekly": [{"who": "a", "windows": ["18:00-09:00"]}]},
            "routing.on_call.weekly[0].windows[0]",
        ),
        (
            {"weekly": [{"who": "a", "wndows": []}]},
            "routing.on_call.weekly[0].wndows: unknown key",
        ),
        (
            {
                "weekly": [
                    {"who": "a"},
                    {"who": "b", "days": ["sunday"], "windows": ["20-22"]},
                ]
            },
            'routing.on_call.weekly[1].windows[0]: "20-22" is not HH:MM-HH:MM',
        ),
        (
            {
                "weekly": [
                    {"who": "a"},
                    {"who": "b", "days": ["sunday"], "windows": ["20:00-22:00"]},
                ]
            },
            "routing.on_call.weekly (sunday): 00:00-24:00 and 20:00-22:00 overlap",
        ),
        ({"dates": [{"who": "a"}]}, "routing.on_call.dates[0].date: missing"),
        ({"dates": [{"date": "12/31", "who": "a"}]}, "routing.on_call.dates[0].date:"),
        (
            {"dates": [{"date": "2026-12-31", "who": "a"}, {"date": "2026-12-31", "who": "b"}]},
            "routing.on_call.dates (2026-12-31): 00:00-24:00 and 00:00-24:00 overlap",
        ),
    ],
)
def test_a_wrong_rota_names_its_key(raw: object, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_rota(raw)
    assert message in str(caught.value)


# --- the escalation decision --------------------------------------------------------------

WEBCHAT = ChannelKind.WEBCHAT
DAY_SHIFT = Shift(weekly=(((time(9), time(18)),),) * 7)
NOON = tokyo("2026-11-24 12:00")  # a counselor's day shift
NIGHT = tokyo("2026-11-24 23:00")


def waiting(i: int, priority: int) -> WaitingConversation:
    return WaitingConversation(
        id=ConversationId(i), channel=WEBCHAT, priority=priority, waiting_since=at(i)
    )


def counselor(uid: int, *, load: int = 0, **kw: object) -> AgentLoad:
    return AgentLoad(user_id=UserId(uid), capacity=2, load=load, shift=DAY_SHIFT, **kw)  # type: ignore[arg-type]


def handed(
    agents: list[AgentLoad], now: datetime, *, someone_on_call: bool = True
) -> list[ConversationId]:
    """What goes to the on-call person: breached/urgent 1 (priority 100) and normal 2."""
    snapshot = RoutingSnapshot(waiting=(waiting(1, 100), waiting(2, 0)), agents=tuple(agents))
    decisions = decide(snapshot, now=now, policy=RoutingPolicy(urgent_priority=100))
    return for_on_call(snapshot, decisions, someone_on_call=someone_on_call, urgent_priority=100)


def test_a_counselor_on_duty_with_room_takes_it_not_the_on_call_person() -> None:
    assert handed([counselor(7)], NOON) == []


def test_nobody_on_duty_at_night_hands_the_urgent_one_only() -> None:
    assert handed([counselor(7)], NIGHT) == [1]  # her shift is over
    assert handed([], NOON) == [1]


@pytest.mark.parametrize(
    "who",
    [
        counselor(7, load=2),  # on duty but full
        counselor(7, presence=Presence.AWAY),  # on shift but not present
        counselor(7, presence=Presence.OFFLINE),
        counselor(7, languages=frozenset({"en"})),  # present with room, but not eligible
    ],
)
def test_can_take_means_eligible_on_shift_present_and_under_capacity(who: AgentLoad) -> None:
    snapshot = RoutingSnapshot(
        waiting=(dataclasses.replace(waiting(1, 100), language="ja"),), agents=(who,)
    )
    decisions = decide(snapshot, now=NOON, policy=RoutingPolicy(urgent_priority=100))
    assert for_on_call(snapshot, decisions, someone_on_call=True, urgent_priority=100) == [1]
    able = dataclasses.replace(
        who, load=0, presence=Presence.AVAILABLE, languages=frozenset({"ja"})
    )
    snapshot = dataclasses.replace(snapshot, agents=(able,))
    decisions = decide(snapshot, now=NOON, policy=RoutingPolicy(urgent_priority=100))
    assert for_on_call(snapshot, decisions, someone_on_call=True, urgent_priority=100) == []


def test_no_one_on_call_hands_nothing() -> None:
    assert handed([], NIGHT, someone_on_call=False) == []
