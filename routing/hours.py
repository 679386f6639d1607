"""Service hours of a counseling program: when it is open, and response deadlines in open time.

Pure: no I/O, no clock, no randomness; the instant to judge is always an argument. Every
function takes aware datetimes (naive ones raise ValueError) and answers in the caller's tzinfo,
so UTC in gives UTC out. The arithmetic runs in UTC because Python subtracts two datetimes that
share a tzinfo on the wall clock, which is wrong across a DST change.

Windows are wall-clock times in `ServiceHours.tz`, built per local day and then converted, so
any zoneinfo zone works. A wall time skipped by a DST jump is read with the offset before the
jump (zoneinfo's fold=0); windows are then clipped to their day and to each other so they never
overlap or run backwards.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import jpholiday

from inbox.core.errors import ConfigError
from inbox.core.windows import (
    DAY_END,
    DAY_NAMES,
    Window,
    expect_list,
    parse_date,
    parse_timezone,
    parse_windows,
    show_value,
    since_midnight,
    window_length,
    windows_problem,
)

TOKYO = ZoneInfo("Asia/Tokyo")
YEAR_END: tuple[tuple[tuple[int, int], tuple[int, int]], ...] = (((12, 29), (1, 3)),)
# Looking this many days ahead without one open minute means "never open": it covers a year of
# weekly schedules, the year-end closure and holidays, and bounds every walk.
HORIZON_DAYS = 400

MonthDay = tuple[int, int]
_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceHours:
    """Weekly windows (Monday first) in `tz`, minus holidays, yearly closures and closed dates."""

    weekly: tuple[tuple[Window, ...], ...]  # 7 days; each day's windows sorted, no overlap
    tz: ZoneInfo = TOKYO
    closed_on_holidays: bool = True  # Japanese public holidays, substitute holidays included
    closures: tuple[tuple[MonthDay, MonthDay], ...] = YEAR_END  # inclusive; may wrap the year
    closed_dates: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise ValueError(f"weekly needs 7 days, Monday first, got {len(self.weekly)}")
        for weekday, windows in enumerate(self.weekly):
            problem = windows_problem(windows)
            if problem is not None:
                raise ValueError(f"weekly[{weekday}] ({DAY_NAMES[weekday]}): {problem}")
        for first, last in self.closures:
            _month_day(*first)
            _month_day(*last)


def _month_day(month: int, day: int) -> MonthDay:
    date(2000, month, day)  # a leap year, so 02-29 is a valid closure day; raises ValueError
    return month, day


ALWAYS_OPEN = ServiceHours(
    weekly=(((time(0), DAY_END),),) * 7, closed_on_holidays=False, closures=()
)


def closure_reason(hours: ServiceHours, day: date) -> str | None:
    """Why `day` is closed all day regardless of its weekly windows, or None if it is not."""
    if day in hours.closed_dates:
        return "closed date"
    md = (day.month, day.day)
    for first, last in hours.closures:
        if first <= last and first <= md <= last:
            return f"closure {first[0]:02}-{first[1]:02}..{last[0]:02}-{last[1]:02}"
        if first > last and (md >= first or md <= last):
            return "year-end closure"
    if hours.closed_on_holidays:
        return jpholiday.is_holiday_name(day)  # e.g. "勤労感謝の日", "憲法記念日 振替休日"
    return None


def is_closed_day(hours: ServiceHours, day: date) -> bool:
    """True on a holiday (if closed then), a yearly closure day or a one-off closed date."""
    return closure_reason(hours, day) is not None


@dataclass(frozen=True, slots=True)
class DeskClosedDays:
    """The desk's closed days, which counselors' shifts follow (inbox.core.shifts.DeskClosed):
    a day on which every enabled channel (`hours`: one per channel) is closed all day by a
    holiday, a yearly closure or a closed date, each read on its own calendar (`hours.tz`).
    A channel without service hours (ALWAYS_OPEN) is never closed, so while one is enabled the
    desk has no closed days; nor has it with no channel. Weekly windows play no part: a
    weekday a channel never opens is her weekly shift's business. Callers that judge many
    shifts at one instant ask once (inbox.core.shifts.asked_once)."""

    hours: tuple[ServiceHours, ...] = ()

    def __call__(self, at: datetime) -> bool:
        u = _utc(at, "at")
        return bool(self.hours) and all(
            is_closed_day(h, u.astimezone(h.tz).date()) for h in self.hours
        )


def _to_utc(wall: datetime, tz: ZoneInfo) -> datetime:
    return wall.replace(tzinfo=tz).astimezone(UTC)


@functools.lru_cache(maxsize=4096)
def _day_intervals(hours: ServiceHours, day: date) -> tuple[tuple[datetime, datetime], ...]:
    """The open intervals of one local day in UTC, in order, disjoint, within that day.

    Kept per (hours, day): every deadline and every routing round asks for the same few days
    of the same few hours, once per waiting conversation (16 us each, 4% of the server's time
    at 500 msg/s with 7,500 waiting); the hours are frozen, so an answer never goes stale."""
    windows = hours.weekly[day.weekday()]
    if not windows or is_closed_day(hours, day):  # no holiday lookup on days that never open
        return ()
    midnight = datetime.combine(day, time(0))
    low, high = _to_utc(midnight, hours.tz), _to_utc(midnight + _DAY, hours.tz)
    out: list[tuple[datetime, datetime]] = []
    for window in windows:
        wall_start = midnight + since_midnight(window[0])
        start = max(_to_utc(wall_start, hours.tz), out[-1][1] if out else low)
        end = min(_to_utc(wall_start + window_length(window), hours.tz), high)
        if start < end:  # empty only when DST swallowed the window
            out.append((start, end))
    return tuple(out)


def opens_on(hours: ServiceHours, day: date) -> bool:
    """Whether the hours open at all on that local day."""
    return bool(_day_intervals(hours, day))


def _intervals_from(hours: ServiceHours, at: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Open intervals (UTC) that end after `at`, in order; stops after HORIZON_DAYS closed days."""
    day = at.astimezone(hours.tz).date()
    idle = 0
    while idle < HORIZON_DAYS and day < date.max:
        intervals = _day_intervals(hours, day)
        idle = 0 if intervals else idle + 1
        for start, end in intervals:
            if end > at:
                yield start, end
        day += _DAY


def _utc(at: datetime, name: str) -> datetime:
    if at.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {at.isoformat()}")
    return at.astimezone(UTC)


def is_open(hours: ServiceHours, at: datetime) -> bool:
    u = _utc(at, "at")
    day = u.astimezone(hours.tz).date()
    return any(start <= u < end for start, end in _day_intervals(hours, day))


def next_opening(hours: ServiceHours, at: datetime) -> datetime | None:
    """`at` itself if open, else the start of the next window; None if never open again."""
    u = _utc(at, "at")
    for start, _ in _intervals_from(hours, u):
        return at if start <= u else start.astimezone(at.tzinfo)
    return None


def current_window_end(hours: ServiceHours, at: datetime) -> datetime | None:
    """When the service next closes if open at `at` (None if closed now).

    Windows that meet at midnight count as one stretch; a stretch still open HORIZON_DAYS ahead
    (ALWAYS_OPEN) ends there.
    """
    u = _utc(at, "at")
    stretch_end: datetime | None = None
    for start, end in _intervals_from(hours, u):
        if stretch_end is None and start > u:
            return None
        if stretch_end is not None and (start != stretch_end or start - u > HORIZON_DAYS * _DAY):
            break
        stretch_end = end
    return None if stretch_end is None else stretch_end.astimezone(at.tzinfo)


def service_time_between(hours: ServiceHours, start: datetime, end: datetime) -> timedelta:
    """Open time in [start, end); zero if end <= start."""
    us, ue = _utc(start, "start"), _utc(end, "end")
    total = timedelta(0)
    if ue <= us:
        return total
    for low, high in _intervals_from(hours, us):
        if low >= ue:
            break
        total += min(high, ue) - max(low, us)
    return total


def add_service_time(hours: ServiceHours, start: datetime, duration: timedelta) -> datetime | None:
    """The earliest instant by which `duration` of open time has passed since `start`.

    A deadline counted in service time: 2 hours from Friday 16:30 with 9:00-17:00 weekdays is
    Monday 10:30. Landing on a window's end gives that end, not the next opening. A zero
    duration gives `start`; None if the service never opens again.
    """
    if duration < timedelta(0):
        raise ValueError(f"duration must not be negative, got {duration}")
    us = _utc(start, "start")
    if not duration:
        return start
    left = duration
    for low, high in _intervals_from(hours, us):
        low = max(low, us)
        if high - low >= left:
            return (low + left).astimezone(start.tzinfo)
        left -= high - low
    return None


# Parsing the [routing.hours.<name>] tables of config.toml.

_CLOSURE = re.compile(r"\s*(\d{1,2})-(\d{1,2})\s*(?:\.\.\s*(\d{1,2})-(\d{1,2}))?\s*")
_DAY_KEYS: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("everyday", tuple(range(7))),  # least specific first: later keys override earlier ones
    ("weekdays", tuple(range(5))),
    *((name, (i,)) for i, name in enumerate(DAY_NAMES)),
)
_KEYS = frozenset({"timezone", "holidays", "closures", "closed_dates", *(k for k, _ in _DAY_KEYS)})


def _parse_closure(text: object, path: str) -> tuple[MonthDay, MonthDay]:
    m = _CLOSURE.fullmatch(text) if isinstance(text, str) else None
    with suppress(ValueError):  # from _month_day: no such day, e.g. 13-01 or 02-30
        if m is not None:
            first = _month_day(int(m[1]), int(m[2]))
            return first, first if m[3] is None else _month_day(int(m[3]), int(m[4]))
    raise ConfigError(
        f'{path}: {show_value(text)} is not MM-DD..MM-DD (or one MM-DD), e.g. "12-29..01-03"'
    )


def _check_keys(raw: Mapping[str, object], where: str) -> None:
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        close = difflib.get_close_matches(unknown[0], sorted(_KEYS), n=1)
        hint = f'did you mean "{close[0]}"? ' if close else ""
        allowed = ", ".join(sorted(_KEYS))
        raise ConfigError(f"{where}.{unknown[0]}: unknown key; {hint}allowed: {allowed}")


def parse_service_hours(raw: Mapping[str, object], where: str) -> ServiceHours:
    """Build ServiceHours from one TOML table; ConfigError names the key path and the fix.

    Day keys layer from general to specific: `everyday`, then `weekdays` (Mon-Fri), then a
    named day; a day no key mentions is closed. Closures default to the year end, 12-29..01-03.
    """
    _check_keys(raw, where)
    weekly: list[tuple[Window, ...]] = [()] * 7
    for key, days in _DAY_KEYS:
        if key in raw:
            windows = parse_windows(raw[key], f"{where}.{key}")
            for day in days:
                weekly[day] = windows
    holidays = raw.get("holidays", "closed")
    if holidays not in ("closed", "open"):
        raise ConfigError(
            f'{where}.holidays: {show_value(holidays)} is neither "closed" nor "open"'
        )
    closures = YEAR_END
    if "closures" in raw:
        items = expect_list(raw["closures"], f"{where}.closures", '"12-29..01-03"')
        closures = tuple(_parse_closure(v, f"{where}.closures[{i}]") for i, v in enumerate(items))
    items = expect_list(raw.get("closed_dates", []), f"{where}.closed_dates", '"2026-08-14"')
    return ServiceHours(
        tz=parse_timezone(raw.get("timezone", "Asia/Tokyo"), f"{where}.timezone"),
        weekly=tuple(weekly),
        closed_on_holidays=holidays == "closed",
        closures=closures,
        closed_dates=frozenset(
            parse_date(v, f"{where}.closed_dates[{i}]") for i, v in enumerate(items)
        ),
    )
