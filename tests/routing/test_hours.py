"""Service hours on the Japanese calendar: tables of known days, and invariants with hypothesis."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inbox.core.errors import ConfigError
from inbox.core.windows import DAY_END, DAY_NAMES, Window
from routing.hours import (
    ALWAYS_OPEN,
    HORIZON_DAYS,
    TOKYO,
    ServiceHours,
    add_service_time,
    closure_reason,
    current_window_end,
    is_closed_day,
    is_open,
    next_opening,
    parse_service_hours,
    service_time_between,
)

WHERE = "routing.hours.line"
LINE = parse_service_hours({"weekdays": ["09:00-17:30"]}, WHERE)
NIGHT = parse_service_hours({"everyday": ["18:00-23:00"], "holidays": "open"}, "routing.hours.tel")
NEVER = ServiceHours(weekly=((),) * 7)


def jst(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=TOKYO)


# Known days of the calendar (jpholiday): plain, substitute and "national" holidays.
@pytest.mark.parametrize(
    ("day", "reason"),
    [
        (date(2026, 11, 23), "勤労感謝の日"),  # a Monday
        (date(2025, 11, 24), "勤労感謝の日 振替休日"),  # Sunday's holiday moves to Monday
        (date(2026, 5, 6), "憲法記念日 振替休日"),  # a Wednesday, after Golden Week's Sunday
        (date(2027, 3, 22), "春分の日 振替休日"),
        (date(2026, 9, 22), "国民の休日"),  # sandwiched between two holidays
        (date(2026, 12, 29), "year-end closure"),
        (date(2027, 1, 1), "year-end closure"),  # the configured closure wins over 元日
        (date(2027, 1, 3), "year-end closure"),
        (date(2026, 11, 24), None),
        (date(2026, 12, 28), None),
        (date(2027, 1, 4), None),
    ],
)
def test_closed_days(day: date, reason: str | None) -> None:
    assert closure_reason(LINE, day) == reason
    assert is_closed_day(LINE, day) is (reason is not None)
    assert is_open(LINE, jst(day.year, day.month, day.day, 10)) is (reason is None)


def test_line_weekdays_window_edges() -> None:
    assert not is_open(LINE, jst(2026, 11, 24, 8, 59))
    assert is_open(LINE, jst(2026, 11, 24, 9))
    assert is_open(LINE, jst(2026, 11, 24, 17, 29))
    assert not is_open(LINE, jst(2026, 11, 24, 17, 30))  # the end is exclusive
    assert not is_open(LINE, jst(2026, 11, 21, 10))  # Saturday
    assert is_open(LINE, datetime(2026, 11, 24, 1, 0, tzinfo=UTC))  # 10:00 JST


@pytest.mark.parametrize(
    ("at", "opens"),
    [
        (jst(2026, 11, 13, 18), jst(2026, 11, 16, 9)),  # Friday evening -> Monday
        (jst(2026, 11, 20, 18), jst(2026, 11, 24, 9)),  # Monday 11-23 is a holiday -> Tuesday
        (jst(2026, 12, 28, 17, 30), jst(2027, 1, 4, 9)),  # across the year-end closure
        (jst(2026, 11, 24, 7), jst(2026, 11, 24, 9)),
        (jst(2026, 11, 24, 12), jst(2026, 11, 24, 12)),  # open: `at` itself
    ],
)
def test_next_opening(at: datetime, opens: datetime) -> None:
    assert next_opening(LINE, at) == opens


def test_deadline_in_service_hours() -> None:
    two_hours = timedelta(hours=2)
    # 16:30-17:30 counts one hour on Friday, the second runs from 09:00 on the next open day.
    assert add_service_time(LINE, jst(2026, 11, 13, 16, 30), two_hours) == jst(2026, 11, 16, 10)
    assert add_service_time(LINE, jst(2026, 11, 20, 16, 30), two_hours) == jst(2026, 11, 24, 10)
    until_five = parse_service_hours({"weekdays": ["09:00-17:00"]}, WHERE)
    assert add_service_time(until_five, jst(2026, 11, 13, 16, 30), two_hours) == jst(
        2026, 11, 16, 10, 30
    )
    # The earliest instant: the window's end, not the next morning.
    assert add_service_time(LINE, jst(2026, 11, 24, 16, 30), timedelta(hours=1)) == jst(
        2026, 11, 24, 17, 30
    )
    due = add_service_time(LINE, datetime(2026, 11, 13, 7, 30, tzinfo=UTC), two_hours)
    assert due == jst(2026, 11, 16, 10)
    assert due.tzinfo is UTC  # answers in the caller's zone


def test_service_time_across_the_new_year() -> None:
    # 12-28 (Mon) and 01-04 (Mon) are open; 12-29..01-03 are closed.
    assert service_time_between(LINE, jst(2026, 12, 28, 9), jst(2027, 1, 4, 17, 30)) == timedelta(
        hours=17
    )
    assert service_time_between(LINE, jst(2027, 1, 4, 12), jst(2026, 12, 28, 9)) == timedelta(0)


def test_night_program_every_day_and_holidays() -> None:
    assert is_open(NIGHT, jst(2026, 11, 21, 22))  # Saturday
    assert is_open(NIGHT, jst(2026, 11, 23, 19))  # a holiday, but holidays = "open"
    assert not is_open(NIGHT, jst(2026, 11, 22, 23))
    assert not is_open(NIGHT, jst(2026, 12, 31, 19))  # the year-end closure still applies
    assert next_opening(NIGHT, jst(2026, 11, 22, 23, 30)) == jst(2026, 11, 23, 18)
    assert current_window_end(NIGHT, jst(2026, 11, 22, 20)) == jst(2026, 11, 22, 23)
    assert current_window_end(NIGHT, jst(2026, 11, 22, 17)) is None
    assert add_service_time(NIGHT, jst(2026, 12, 28, 22), timedelta(hours=3)) == jst(2027, 1, 4, 20)


def test_windows_meeting_at_midnight_are_one_stretch() -> None:
    late = parse_service_hours({"friday": ["22:00-24:00"], "saturday": ["00:00-02:00"]}, WHERE)
    assert current_window_end(late, jst(2026, 11, 20, 23)) == jst(2026, 11, 21, 2)
    assert add_service_time(late, jst(2026, 11, 20, 23), timedelta(hours=2)) == jst(2026, 11, 21, 1)
    end = current_window_end(ALWAYS_OPEN, jst(2026, 1, 1))
    assert end is not None and end >= jst(2026, 1, 1) + timedelta(days=HORIZON_DAYS)


def test_never_open() -> None:
    at = jst(2026, 11, 24, 10)
    assert next_opening(NEVER, at) is None
    assert add_service_time(NEVER, at, timedelta(minutes=1)) is None
    assert add_service_time(NEVER, at, timedelta(0)) == at
    assert current_window_end(NEVER, at) is None
    assert service_time_between(NEVER, at, at + timedelta(days=30)) == timedelta(0)


def test_naive_and_negative_inputs_raise() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        is_open(LINE, datetime(2026, 11, 24, 10))
    with pytest.raises(ValueError, match="end must be timezone-aware"):
        service_time_between(LINE, jst(2026, 11, 24), datetime(2026, 11, 25))
    with pytest.raises(ValueError, match="negative"):
        add_service_time(LINE, jst(2026, 11, 24), timedelta(seconds=-1))


def test_dataclass_rejects_bad_windows() -> None:
    with pytest.raises(ValueError, match="7 days"):
        ServiceHours(weekly=((),) * 6)
    with pytest.raises(ValueError, match=r"weekly\[0\] \(monday\): 12:00-13:00 and 12:30-14:00"):
        ServiceHours(weekly=(((time(12), time(13)), (time(12, 30), time(14))),) + ((),) * 6)


def test_parse_full_example() -> None:
    raw = tomllib.loads(
        """
        [routing.hours.line]
        timezone = "Asia/Tokyo"
        everyday = ["10:00-16:00"]
        weekdays = ["09:00-12:00", "13:00-17:30"]
        friday = ["09:00-12:00", "18:00-24:00"]
        sunday = []
        holidays = "closed"
        closures = ["12-29..01-03", "08-13..08-16"]
        closed_dates = ["2026-10-01", 2026-10-02]
        """
    )["routing"]["hours"]["line"]
    hours = parse_service_hours(raw, WHERE)
    assert hours.weekly[0] == ((time(9), time(12)), (time(13), time(17, 30)))
    assert hours.weekly[4] == ((time(9), time(12)), (time(18), DAY_END))
    assert hours.weekly[5] == ((time(10), time(16)),)
    assert hours.weekly[6] == ()
    assert hours.closed_dates == {date(2026, 10, 1), date(2026, 10, 2)}
    assert closure_reason(hours, date(2026, 8, 14)) == "closure 08-13..08-16"
    assert closure_reason(hours, date(2026, 10, 2)) == "closed date"
    assert service_time_between(hours, jst(2026, 11, 20), jst(2026, 11, 21)) == timedelta(hours=9)


def test_parse_defaults() -> None:
    assert LINE.tz == TOKYO and LINE.closed_on_holidays
    assert LINE.closures == (((12, 29), (1, 3)),)
    assert parse_service_hours({"closures": []}, WHERE).closures == ()
    utc = parse_service_hours({"timezone": "UTC", "holidays": "open"}, WHERE)
    assert utc.tz == ZoneInfo("UTC") and not utc.closed_on_holidays


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"weekdays": ["9:00-25:00"]},
            'routing.hours.line.weekdays[0]: "9:00-25:00" is not HH:MM-HH:MM within a day',
        ),
        ({"monday": ["09:00-12:00", "18:00-00:00"]}, 'monday[1]: "18:00-00:00" is not HH:MM'),
        ({"sunday": ["17:00-09:00"]}, 'sunday[0]: "17:00-09:00" is not'),
        ({"everyday": [900]}, "everyday[0]: 900 is not"),
        ({"saturday": "10:00-12:00"}, 'saturday: expected a list like ["09:00-17:30"]'),
        ({"friday": ["10:00-12:00", "11:00-13:00"]}, "friday: 10:00-12:00 and 11:00-13:00 overlap"),
        (
            {"wekdays": []},
            'line.wekdays: unknown key; did you mean "weekdays"? allowed: closed_dates',
        ),
        ({"timezone": "Asia/Tokio"}, 'line.timezone: unknown time zone "Asia/Tokio"'),
        ({"timezone": 9}, "line.timezone: unknown time zone 9"),
        ({"holidays": "yes"}, 'line.holidays: "yes" is neither "closed" nor "open"'),
        ({"closures": ["13-01..01-03"]}, 'line.closures[0]: "13-01..01-03" is not MM-DD..MM-DD'),
        ({"closures": "12-29..01-03"}, "line.closures: expected a list"),
        ({"closed_dates": ["2026-02-30"]}, 'line.closed_dates[0]: "2026-02-30" is not a date'),
        (
            {"closed_dates": [datetime(2026, 8, 14, 9)]},
            "line.closed_dates[0]: datetime.datetime(2026, 8, 14, 9, 0) is not a date",
        ),
    ],
)
def test_config_errors_name_the_key(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_service_hours(raw, WHERE)
    assert message in str(caught.value)


# Invariants. Schedules mix Tokyo with DST zones (Lord Howe shifts by 30 minutes) to check that
# the per-day construction holds up where wall clocks jump.

ZONES = [
    TOKYO,
    ZoneInfo("America/New_York"),
    ZoneInfo("Europe/London"),
    ZoneInfo("Australia/Lord_Howe"),
]


def _windows(marks: list[int]) -> tuple[Window, ...]:
    def at(mark: int) -> time:
        return DAY_END if mark == 48 else time(mark // 2, 30 * (mark % 2))

    return tuple((at(a), at(b)) for a, b in zip(marks[::2], marks[1::2], strict=False))


day_windows = st.lists(st.integers(0, 48), unique=True, max_size=6).map(sorted).map(_windows)
random_hours = st.builds(
    ServiceHours,
    weekly=st.tuples(*[day_windows] * 7),
    tz=st.sampled_from(ZONES),
    closed_on_holidays=st.booleans(),
)
hours_st = st.one_of(st.sampled_from([LINE, NIGHT, ALWAYS_OPEN]), random_hours)
instants = st.datetimes(
    min_value=datetime(2025, 1, 1),
    max_value=datetime(2028, 12, 31),
    timezones=st.sampled_from([TOKYO, UTC, ZoneInfo("America/New_York")]),
    allow_imaginary=False,
)
durations = st.integers(0, 80 * 3600).map(lambda s: timedelta(seconds=s))
fast = settings(max_examples=150, deadline=None)


@fast
@given(hours_st, instants, durations)
def test_add_then_measure_gives_the_duration(
    hours: ServiceHours, start: datetime, duration: timedelta
) -> None:
    due = add_service_time(hours, start, duration)
    if due is None:
        assert next_opening(hours, start) is None
    else:
        assert due >= start
        assert service_time_between(hours, start, due) == duration


@fast
@given(hours_st, instants, durations, durations)
def test_add_is_monotonic(
    hours: ServiceHours, start: datetime, d1: timedelta, d2: timedelta
) -> None:
    short, long = sorted((d1, d2))
    a, b = add_service_time(hours, start, short), add_service_time(hours, start, long)
    if a is not None and b is not None:
        assert a <= b
    else:
        assert b is None


@fast
@given(hours_st, instants)
def test_next_opening_is_open_and_nothing_opens_before(hours: ServiceHours, at: datetime) -> None:
    opens = next_opening(hours, at)
    if opens is not None:
        # compared in UTC: Python compares two times of one zone by their wall clocks, fold
        # ignored, so 01:00 after a DST fall-back is not "later" than the 01:00 before it
        assert opens.astimezone(UTC) >= at.astimezone(UTC) and is_open(hours, opens)
        assert service_time_between(hours, at, opens) == timedelta(0)
        end = current_window_end(hours, opens)
        assert end is not None and end.astimezone(UTC) > opens.astimezone(UTC)
        elapsed = end.astimezone(UTC) - opens.astimezone(UTC)
        assert service_time_between(hours, opens, end) == elapsed


@fast
@given(hours_st, instants, durations, durations)
def test_service_time_is_additive(
    hours: ServiceHours, start: datetime, to_mid: timedelta, to_end: timedelta
) -> None:
    start = start.astimezone(UTC)  # wall-clock arithmetic in a DST zone could go backwards
    mid, end = start + to_mid, start + to_mid + to_end
    whole = service_time_between(hours, start, end)
    assert whole == service_time_between(hours, start, mid) + service_time_between(hours, mid, end)
    assert timedelta(0) <= whole <= end - start


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(["everyday", "weekdays", *DAY_NAMES]),
    st.lists(st.sampled_from(["09:00-12:00", "13:00-17:30"]), max_size=1),
    st.sampled_from(["24:30-25:00", "9-17", "12:00-12:00", "10:60-11:00", "", "18:00-06:00"]),
)
def test_config_errors_name_the_index(key: str, good: list[str], bad: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_service_hours({key: [*good, bad]}, WHERE)
    assert str(caught.value).startswith(f'{WHERE}.{key}[{len(good)}]: "{bad}" is not HH:MM')
