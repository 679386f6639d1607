"""When a follow-up enters the queue (routing.follow_ups, pure): on its day in Tokyo, from the
opening of the desk's hours for her channel; a closed day moves it to the next opening; on the
phone within her call window too."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from inbox.core.follow_ups import ScheduledFollowUp
from inbox.core.model import ChannelKind
from routing.follow_ups import due_at, due_now, next_day_start
from routing.hours import ALWAYS_OPEN, TOKYO, ServiceHours, parse_service_hours

DESK = parse_service_hours({"weekdays": ["10:00-17:00"]}, "routing.hours.sms")
PHONE = parse_service_hours({"weekdays": ["09:00-18:00"]}, "routing.hours.phone")
NEVER = ServiceHours(weekly=((),) * 7)


def hours_for(channel: ChannelKind) -> ServiceHours:
    return {ChannelKind.SMS: DESK, ChannelKind.PHONE: PHONE}.get(channel, ALWAYS_OPEN)


def tokyo(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=TOKYO)


@pytest.mark.parametrize(
    ("day", "channel", "window", "expected"),
    [
        # the web chat is always open: from midnight in Tokyo (15:00 UTC the day before)
        (date(2027, 2, 1), ChannelKind.WEBCHAT, None, tokyo(2027, 2, 1)),
        # SMS: from the desk's opening that day
        (date(2027, 2, 1), ChannelKind.SMS, None, tokyo(2027, 2, 1, 10)),
        # a Saturday, and a holiday (建国記念の日, a Thursday): the next opening
        (date(2027, 2, 6), ChannelKind.SMS, None, tokyo(2027, 2, 8, 10)),
        (date(2027, 2, 11), ChannelKind.SMS, None, tokyo(2027, 2, 12, 10)),
        # the phone: within her window and the desk's phone hours
        (
            date(2027, 2, 1),
            ChannelKind.PHONE,
            '{"weekdays": ["12:00-13:00"]}',
            tokyo(2027, 2, 1, 12),
        ),
        (
            date(2027, 2, 1),
            ChannelKind.PHONE,
            '{"saturday": ["19:00-20:00"]}',
            tokyo(2027, 2, 1, 9),
        ),
        # a window that no longer parses counts as none: the desk's phone hours
        (date(2027, 2, 1), ChannelKind.PHONE, "{not json", tokyo(2027, 2, 1, 9)),
    ],
)
def test_it_is_due_from_the_first_open_moment_of_its_day(
    day: date, channel: ChannelKind, window: str | None, expected: datetime
) -> None:
    f = ScheduledFollowUp(id=1, due_on=day, channel=channel, call_window=window)
    assert due_at(f, hours_for) == expected


def test_hours_that_never_open_queue_it_at_the_start_of_its_day() -> None:
    f = ScheduledFollowUp(id=1, due_on=date(2027, 2, 1), channel=ChannelKind.MAIL)
    assert due_at(f, lambda _: NEVER) == tokyo(2027, 2, 1)


def test_due_now_and_when_to_look_again() -> None:
    waiting = [
        # last week's on the web chat: now; Saturday's on SMS: at Monday's opening
        ScheduledFollowUp(id=4, due_on=date(2027, 1, 25), channel=ChannelKind.WEBCHAT),
        ScheduledFollowUp(id=1, due_on=date(2027, 1, 30), channel=ChannelKind.SMS),
        ScheduledFollowUp(id=2, due_on=date(2027, 2, 1), channel=ChannelKind.SMS),
        ScheduledFollowUp(id=3, due_on=date(2027, 2, 1), channel=ChannelKind.WEBCHAT),
    ]
    now = tokyo(2027, 2, 1, 8).astimezone(UTC)
    assert due_now(waiting, now, hours_for) == ([4, 3], tokyo(2027, 2, 1, 10))
    assert next_day_start(now) == tokyo(2027, 2, 2)
