"""Counselors' shifts follow the desk's closed days, pure: a public holiday, the year-end closure
or a closed date turns her weekly windows off unless she works closed days; a dated exception
still wins. The desk's closed days come from the configured service hours
over the enabled channels (routing.hours.DeskClosedDays, as Config.closed_days builds it)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from inbox.config import Config, RoutingConfig, WebchatConfig
from inbox.core.decisions import AgentLoad, RoutingSnapshot, WaitingConversation
from inbox.core.errors import ConfigError
from inbox.core.model import ChannelKind, ClosedDays, ConversationId, Shift, UserId
from inbox.core.shifts import (
    anyone_free,
    counselors_on_duty,
    never_closed,
    on_shift,
    parse_shift,
    shift_data,
)
from inbox.line_config import LineConfig
from inbox.mail_config import MailConfig
from inbox.sms_config import SmsConfig, VoiceConfig
from routing.assign import NO_COUNSELOR, RoutingPolicy, decide
from routing.hours import ALWAYS_OPEN, DeskClosedDays, parse_service_hours

TOKYO = ZoneInfo("Asia/Tokyo")
DAYS = ((time(9), time(18)),)
EVERY_DAY = Shift(weekly=(DAYS,) * 7)
WORKS_HOLIDAYS = Shift(weekly=(DAYS,) * 7, closed_days=ClosedDays.WORK)
# Weekdays 9-18, closed on holidays and 12-29..01-03 (the defaults), and on 2026-08-14.
DESK = DeskClosedDays(
    (parse_service_hours({"weekdays": ["09:00-18:00"], "closed_dates": ["2026-08-14"]}, "h"),)
)


def tokyo(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TOKYO)


@pytest.mark.parametrize(
    ("when", "closed"),
    [
        ("2026-11-23 10:00", True),  # 勤労感謝の日, a Monday
        ("2026-05-06 10:00", True),  # 憲法記念日 振替休日: a substitute holiday
        ("2026-12-30 10:00", True),  # the year-end closure
        ("2027-01-03 23:59", True),
        ("2026-08-14 10:00", True),  # a closed date
        ("2026-11-24 10:00", False),  # an ordinary Tuesday
        ("2027-01-04 00:00", False),  # the closure is over at midnight
        ("2026-11-28 10:00", False),  # a Saturday: closed by the weekly hours, not a closed day
    ],
)
def test_the_desks_closed_days(when: str, closed: bool) -> None:
    assert DESK(tokyo(when)) is closed


def test_closed_days_are_read_on_the_desks_calendar() -> None:
    # 2026-11-22 15:30 UTC is already 11-23 00:30 in Tokyo: the holiday.
    assert DESK(datetime.fromisoformat("2026-11-22T15:30:00+00:00"))
    assert not DESK(datetime.fromisoformat("2026-11-22T14:30:00+00:00"))
    with pytest.raises(ValueError, match="aware"):
        DESK(datetime(2026, 11, 23, 10))  # naive on purpose


def test_a_day_is_closed_only_when_every_enabled_channel_is() -> None:
    closed = parse_service_hours({"weekdays": ["09:00-18:00"]}, "a")
    open_on_holidays = parse_service_hours({"everyday": ["18:00-22:00"], "holidays": "open"}, "b")
    routing = RoutingConfig(
        hours=((ChannelKind.MAIL, closed), (ChannelKind.WEBCHAT, open_on_holidays))
    )
    both = routing.closed_days_for((ChannelKind.MAIL, ChannelKind.WEBCHAT))
    holiday, year_end = tokyo("2026-11-23 10:00"), tokyo("2026-12-30 10:00")
    assert not both(holiday)  # the web chat is open that evening
    assert both(year_end)  # both keep the year-end closure
    assert routing.closed_days_for((ChannelKind.MAIL,))(holiday)  # the web chat is off
    # No service hours anywhere: every channel is always open, and no day is closed.
    assert not RoutingConfig().closed_days_for((ChannelKind.WEBCHAT,))(holiday)
    assert not DeskClosedDays((ALWAYS_OPEN,))(year_end)
    assert not DeskClosedDays(())(year_end)  # no channel at all


def test_an_enabled_channel_without_hours_keeps_every_day_open_for_shifts() -> None:
    """The web chat is enabled by default and, without [routing.hours.webchat], open around the
    clock: counselors' shifts must not go off on a holiday while it is open."""
    closed = parse_service_hours({"weekdays": ["09:00-18:00"]}, "a")
    holiday = tokyo("2026-11-23 10:00")
    mail_hours = RoutingConfig(hours=((ChannelKind.MAIL, closed),))
    mail = MailConfig(enabled=True)
    cfg = Config(routing=mail_hours, mail=mail)
    assert cfg.enabled_channels == (ChannelKind.WEBCHAT, ChannelKind.MAIL)
    assert not cfg.closed_days(holiday)  # the web chat has no hours: open all day
    # Give every enabled channel hours (or switch the web chat off) to close shifts on holidays.
    with_chat = RoutingConfig(hours=((ChannelKind.MAIL, closed), (ChannelKind.WEBCHAT, closed)))
    assert Config(routing=with_chat, mail=mail).closed_days(holiday)
    no_chat = Config(routing=mail_hours, mail=mail, webchat=WebchatConfig(enabled=False))
    assert no_chat.enabled_channels == (ChannelKind.MAIL,) and no_chat.closed_days(holiday)
    # Mail switched off: its hours do not count; LINE follows its switch, as SMS does.
    line = RoutingConfig(hours=((ChannelKind.MAIL, ALWAYS_OPEN), (ChannelKind.LINE, closed)))
    no_line = Config(routing=line, webchat=WebchatConfig(enabled=False))
    assert no_line.enabled_channels == ()
    only_line = dataclasses.replace(no_line, line=LineConfig(enabled=True))
    assert only_line.enabled_channels == (ChannelKind.LINE,) and only_line.closed_days(holiday)
    assert not Config().closed_days(holiday)  # the defaults: the web chat, always open
    # SMS follows its switch, hours or not; the phone desk counts with hours or Twilio Voice.
    sms = SmsConfig(enabled=True)
    with_sms = Config(routing=mail_hours, mail=mail, webchat=WebchatConfig(enabled=False), sms=sms)
    assert with_sms.enabled_channels == (ChannelKind.MAIL, ChannelKind.SMS)
    assert not with_sms.closed_days(holiday)  # SMS without hours: open all day
    phone = RoutingConfig(hours=((ChannelKind.MAIL, closed), (ChannelKind.PHONE, closed)))
    desk = Config(routing=phone, mail=mail, webchat=WebchatConfig(enabled=False))
    assert desk.enabled_channels == (ChannelKind.MAIL, ChannelKind.PHONE)
    assert desk.closed_days(holiday)
    voice = Config(routing=mail_hours, mail=mail, voice=VoiceConfig(enabled=True))
    assert ChannelKind.PHONE in voice.enabled_channels


@pytest.mark.parametrize(
    ("shift", "when", "expected"),
    [
        (EVERY_DAY, "2026-11-24 10:00", True),
        (EVERY_DAY, "2026-11-23 10:00", False),  # the holiday closes her shift by default
        (EVERY_DAY, "2026-12-30 10:00", False),  # so does the year-end closure
        (WORKS_HOLIDAYS, "2026-11-23 10:00", True),  # she works closed days
        (WORKS_HOLIDAYS, "2026-12-30 10:00", True),
        (WORKS_HOLIDAYS, "2026-12-30 19:00", False),  # ... in her own windows only
        (None, "2026-11-23 10:00", True),  # no schedule at all: always on shift
    ],
)
def test_a_shift_follows_the_desks_closed_days_unless_she_works_them(
    shift: Shift | None, when: str, expected: bool
) -> None:
    assert on_shift(shift, tokyo(when), closed=DESK) is expected
    assert on_shift(shift, tokyo(when), closed=never_closed) is (tokyo(when).hour < 18)


def test_a_dated_exception_wins_over_the_closed_day() -> None:
    holiday = date(2026, 11, 23)
    called_in = Shift(weekly=(DAYS,) * 7, exceptions=((holiday, ((time(13), time(17)),)),))
    assert on_shift(called_in, tokyo("2026-11-23 14:00"), closed=DESK)
    assert not on_shift(called_in, tokyo("2026-11-23 10:00"), closed=DESK)  # her windows that day
    day_off = Shift(weekly=(DAYS,) * 7, exceptions=((holiday, ()),), closed_days=ClosedDays.WORK)
    assert not on_shift(day_off, tokyo("2026-11-23 10:00"), closed=DESK)


def test_the_desks_predicate_is_asked_only_when_it_matters() -> None:
    asked: list[datetime] = []

    def closed(at: datetime) -> bool:
        asked.append(at)
        return True

    off_today = Shift(weekly=((),) * 7)
    assert not on_shift(off_today, tokyo("2026-11-23 10:00"), closed=closed)
    assert on_shift(WORKS_HOLIDAYS, tokyo("2026-11-23 10:00"), closed=closed)
    assert asked == []  # no windows that day, or she works closed days: no holiday look-up


def agent(uid: int, shift: Shift | None) -> AgentLoad:
    return AgentLoad(user_id=UserId(uid), capacity=3, load=0, shift=shift)


def test_every_counting_of_who_is_on_duty_follows_the_same_rule() -> None:
    agents = [agent(1, EVERY_DAY), agent(2, WORKS_HOLIDAYS)]
    holiday, tuesday = tokyo("2026-11-23 10:00"), tokyo("2026-11-24 10:00")
    assert counselors_on_duty(agents, holiday, closed=DESK) == 1
    assert counselors_on_duty(agents, tuesday, closed=DESK) == 2
    assert anyone_free(agents[:1], tuesday, closed=DESK)
    assert not anyone_free(agents[:1], holiday, closed=DESK)
    waiting = (
        WaitingConversation(
            id=ConversationId(1), channel=ChannelKind.MAIL, priority=0, waiting_since=holiday
        ),
    )
    snap = RoutingSnapshot(waiting=waiting, agents=(agents[0],))
    policy = RoutingPolicy(closed_days=DESK)
    (wait,) = decide(snap, now=holiday, policy=policy)
    assert getattr(wait, "reason", None) == NO_COUNSELOR
    (given,) = decide(snap, now=tuesday, policy=policy)
    assert getattr(given, "user_id", None) == 1
    # With the override she is offered it on the holiday.
    snap = RoutingSnapshot(waiting=waiting, agents=(agents[1],))
    (given,) = decide(snap, now=holiday, policy=policy)
    assert getattr(given, "user_id", None) == 2


def test_the_override_is_shift_data_and_reads_back_unchanged() -> None:
    data = {"weekly": {"monday": ["09:00-18:00"]}, "closed_days": "work"}
    shift = parse_shift(data, "shift")
    assert shift.closed_days is ClosedDays.WORK
    assert shift_data(shift)["closed_days"] == "work"
    assert parse_shift(shift_data(shift), "shift") == shift
    # Default: follow; older stored shifts without the key read as following.
    plain = parse_shift({"weekly": {"monday": ["09:00-18:00"]}}, "shift")
    assert plain.closed_days is ClosedDays.FOLLOW
    assert shift_data(plain)["closed_days"] == "follow"


@pytest.mark.parametrize("bad", ["always", True, 1, None])
def test_a_bad_override_names_the_field(bad: object) -> None:
    with pytest.raises(ConfigError, match=r'^shift\.closed_days: expected "follow" or "work"'):
        parse_shift({"closed_days": bad}, "shift")


def test_judging_many_shifts_at_one_instant_asks_the_desk_once() -> None:
    asked: list[datetime] = []

    def closed(at: datetime) -> bool:
        asked.append(at)
        return DESK(at)

    agents = [agent(i, EVERY_DAY) for i in range(1, 6)]
    holiday = tokyo("2026-11-23 10:00")
    assert counselors_on_duty(agents, holiday, closed=closed) == 0
    assert not anyone_free(agents, holiday, closed=closed)
    waiting = (
        WaitingConversation(
            id=ConversationId(1), channel=ChannelKind.MAIL, priority=0, waiting_since=holiday
        ),
    )
    snap = RoutingSnapshot(waiting=waiting, agents=tuple(agents))
    decide(snap, now=holiday, policy=RoutingPolicy(closed_days=closed))
    assert asked == [holiday] * 3  # once per count, once per round: not once per counselor


def test_an_overnight_shift_is_cut_at_midnight_going_into_a_closed_day() -> None:
    """As channel hours are: Sunday 18-24 and Monday 0-6, with Monday 2026-11-23 a holiday."""
    night = ((time(18), time(0)),)
    early = ((time(0), time(6)),)
    shift = Shift(weekly=(early, (), (), (), (), (), night))  # Monday early, Sunday night
    assert on_shift(shift, tokyo("2026-11-22 23:30"), closed=DESK)
    assert not on_shift(shift, tokyo("2026-11-23 00:30"), closed=DESK)  # the holiday
    assert on_shift(shift, tokyo("2026-11-30 00:30"), closed=DESK)  # an ordinary Monday
