"""Response deadlines in service time: first and next responses, warnings, breaches, config."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from inbox.core.decisions import AwaitingAnswer
from inbox.core.errors import ConfigError
from inbox.core.model import ChannelKind, ConversationId
from routing.deadlines import (
    Alarm,
    ResponseTargets,
    Targets,
    alarm,
    deadline,
    due_columns,
    next_alarm_at,
    parse_targets,
)
from routing.hours import TOKYO, parse_service_hours

LINE = parse_service_hours({"weekdays": ["09:00-17:00"]}, "routing.hours.line")
TARGETS = ResponseTargets(
    normal=Targets(first=timedelta(hours=2), next=timedelta(hours=4)),
    by_channel=((ChannelKind.MAIL, Targets(first=timedelta(days=1), next=timedelta(days=1))),),
)


def jst(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=TOKYO)


def waiting(since: datetime, **kw: object) -> AwaitingAnswer:
    fields: dict[str, object] = {
        "channel": ChannelKind.LINE,
        "priority": 0,
        "awaiting_since": since,
        "first_reply_at": None,
    }
    fields.update(kw)
    return AwaitingAnswer(id=ConversationId(1), **fields)  # type: ignore[arg-type]


def test_first_response_counts_service_time_over_a_holiday_weekend() -> None:
    # Friday 16:30 + 2 h of service time: 30 min on Friday, Monday 11-23 is a holiday, so
    # Tuesday 10:30; warned at 80 % = 1 h 36 min: Tuesday 10:06.
    d = deadline(TARGETS, LINE, waiting(jst(20, 16, 30)))
    assert d is not None and d.first
    assert d.due == jst(24, 10, 30) and d.warn_at == jst(24, 10, 6)
    assert due_columns(d) == (jst(24, 10, 30), None)


def test_next_response_after_a_reply_and_per_channel_targets() -> None:
    d = deadline(TARGETS, LINE, waiting(jst(24, 9), first_reply_at=jst(20, 10)))
    assert d is not None and not d.first and d.due == jst(24, 13)
    assert due_columns(d) == (None, jst(24, 13))
    mail = deadline(TARGETS, LINE, waiting(jst(24, 9), channel=ChannelKind.MAIL))
    assert mail is not None and mail.due == jst(26, 17)  # 24 h of service: three 8-hour days


def test_urgent_counts_every_minute() -> None:
    d = deadline(TARGETS, LINE, waiting(jst(21, 2), priority=100))  # Saturday night
    assert d is not None and d.due == jst(21, 2, 10)


def test_no_deadline_when_she_is_not_waiting() -> None:
    assert deadline(TARGETS, LINE, waiting(jst(24, 9), awaiting_since=None)) is None


def test_alarms_fire_once_each() -> None:
    conv = waiting(jst(24, 9))
    d = deadline(TARGETS, LINE, conv)
    assert d is not None
    assert alarm(d, conv, jst(24, 10)) is None
    assert alarm(d, conv, jst(24, 10, 36)) is Alarm.WARN
    warned = waiting(jst(24, 9), warned_at=jst(24, 10, 36))
    assert alarm(d, warned, jst(24, 10, 40)) is None
    assert alarm(d, warned, jst(24, 11)) is Alarm.BREACH
    assert alarm(d, conv, jst(24, 11)) is Alarm.BREACH  # breached unwarned: straight to breach
    done = waiting(jst(24, 9), warned_at=jst(24, 10, 36), escalated_at=jst(24, 11))
    assert alarm(d, done, jst(24, 12)) is None


@pytest.mark.parametrize(
    ("warned", "escalated"), [(None, None), (jst(24, 10, 36), None), (None, jst(24, 11))]
)
def test_the_next_alarm_time_is_when_alarm_first_raises_one(
    warned: datetime | None, escalated: datetime | None
) -> None:
    # The watcher sleeps until this time instead of asking alarm() every second.
    conv = waiting(jst(24, 9), warned_at=warned, escalated_at=escalated)
    d = deadline(TARGETS, LINE, conv)
    assert d is not None
    at = next_alarm_at(d, conv)
    if escalated is not None:
        assert at is None and alarm(d, conv, jst(30, 0)) is None
        return
    assert at == (d.warn_at if warned is None else d.due)
    assert alarm(d, conv, at - timedelta(microseconds=1)) is None
    assert alarm(d, conv, at) is (Alarm.WARN if warned is None else Alarm.BREACH)


def test_parse_targets() -> None:
    t = parse_targets(
        {
            "warn_fraction": 0.5,
            "normal": {"first_response_min": 30},
            "mail": {"first_response_min": 1440, "next_response_min": 1440},
        }
    )
    assert t.warn_fraction == 0.5
    assert t.normal == Targets(first=timedelta(minutes=30), next=timedelta(hours=2))
    assert dict(t.by_channel)[ChannelKind.MAIL].first == timedelta(days=1)
    assert parse_targets({}) == ResponseTargets()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"fax": {}}, "routing.targets.fax: unknown key"),
        (
            {"warn_fraction": 1.5},
            "routing.targets.warn_fraction: expected a number between 0 and 1",
        ),
        ({"normal": {"first_response_min": 0}}, "routing.targets.normal.first_response_min"),
        ({"line": {"first": 5}}, "routing.targets.line.first: unknown key"),
        ({"urgent": 5}, "routing.targets.urgent: expected a table"),
    ],
)
def test_parse_targets_errors_name_the_key(raw: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_targets(raw)
