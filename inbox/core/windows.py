"""Daily time windows as config and shift data write them ("09:00-17:30"): parsing and checks.

The ground floor of service hours (routing.hours) and counselors' shifts (inbox.core.shifts).
Pure; ConfigError names the key path and the fix.
"""

from __future__ import annotations

import re
from contextlib import suppress
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from inbox.core.errors import ConfigError
from inbox.core.model import TimeWindow

# As a window's end, 00:00 means 24:00 (the end of its day): exact, unlike time.max, which
# would leave a microsecond gap before midnight in every day's total.
DAY_END = time(0)
DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Window = TimeWindow  # (start, end) local; an end of DAY_END is midnight at the day's end
_DAY = timedelta(days=1)
_WINDOW = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")


def window_length(window: Window) -> timedelta:
    start, end = window
    end_td = _DAY if end == DAY_END else since_midnight(end)
    return end_td - since_midnight(start)


def since_midnight(t: time) -> timedelta:
    return timedelta(hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond)


def windows_problem(windows: tuple[Window, ...]) -> str | None:
    previous: Window | None = None
    for window in windows:
        if window_length(window) <= timedelta(0):
            return f"window {show_window(window)} must end after it starts, at 24:00 at the latest"
        if previous is not None and (previous[1] == DAY_END or previous[1] > window[0]):
            return f"{show_window(previous)} and {show_window(window)} overlap or are unsorted"
        previous = window
    return None


def show_window(window: Window) -> str:
    start, end = window
    return f"{start:%H:%M}-{'24:00' if end == DAY_END else f'{end:%H:%M}'}"


def show_value(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


def expect_list(value: object, path: str, example: str) -> list[object]:
    if not isinstance(value, list):
        raise ConfigError(f"{path}: expected a list like [{example}], got {show_value(value)}")
    return value


def parse_window(text: object, path: str) -> Window:
    m = _WINDOW.fullmatch(text) if isinstance(text, str) else None
    if m is not None:
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        # "18:00-00:00" is refused rather than read as 24:00: the config says what it means.
        if m1 < 60 and m2 < 60 and h1 * 60 + m1 < h2 * 60 + m2 <= 24 * 60:
            return time(h1, m1), DAY_END if h2 == 24 else time(h2, m2)
    raise ConfigError(
        f"{path}: {show_value(text)} is not HH:MM-HH:MM within a day; write 24:00 for midnight and"
        ' split a night past midnight in two, e.g. "22:00-24:00" and "00:00-02:00" next day'
    )


def parse_windows(value: object, path: str) -> tuple[Window, ...]:
    items = expect_list(value, path, '"09:00-17:30"')
    windows = tuple(sorted(parse_window(item, f"{path}[{i}]") for i, item in enumerate(items)))
    problem = windows_problem(windows)
    if problem is not None:
        raise ConfigError(f"{path}: {problem}")
    return windows


def parse_date(value: object, path: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value  # TOML's own date literal: closed_dates = [2026-08-14]
    with suppress(ValueError):
        if isinstance(value, str):
            return date.fromisoformat(value.strip())
    raise ConfigError(f'{path}: {show_value(value)} is not a date like "2026-08-14"')


def parse_timezone(value: object, path: str) -> ZoneInfo:
    with suppress(ZoneInfoNotFoundError, ValueError):  # ValueError: a path, not a zone name
        if isinstance(value, str):
            return ZoneInfo(value)
    raise ConfigError(
        f'{path}: unknown time zone {show_value(value)}; use an IANA name like "Asia/Tokyo"'
    )


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """The first moment (midnight in `tz`) of a day of the program's calendar, as an aware time:
    of `day`, or, given an aware datetime, of the day in `tz` that holds it."""
    if isinstance(day, datetime):
        day = day.astimezone(tz).date()
    return datetime.combine(day, time(0), tzinfo=tz)
