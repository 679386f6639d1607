"""Who is on shift: a counselor's weekly schedule and dated exceptions, read against the clock.

Pure. Shift data lives in inbox.core.model; windows follow inbox.core.windows
(an end of 00:00 is 24:00).

A shift follows the desk's closed days (public holidays, the year-end closure, closed dates)
unless the counselor works them (`closed_days = "work"`): on such a day her weekly windows are
off, while a dated exception for that day still gives her its windows. Which days the desk is
closed is the service hours' business (routing.hours.DeskClosedDays builds it from config);
the caller hands it in as a predicate, so this ground floor stays free of routing and of the
holiday calendar. Every caller must pass the desk's one predicate: the router, routing at
intake, the waiting-line estimate and the supervisor's screens then agree on who is on shift.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

from inbox.core.decisions import AgentLoad
from inbox.core.errors import ConfigError
from inbox.core.model import ClosedDays, Presence, Shift, TimeWindow
from inbox.core.windows import (
    DAY_END,
    DAY_NAMES,
    parse_date,
    parse_timezone,
    parse_windows,
    show_window,
)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def in_window(window: TimeWindow, local: time) -> bool:
    """Start inclusive, end exclusive; an end of 00:00 means the end of the day."""
    start, end = window
    return start <= local and (end == DAY_END or local < end)


# Whether the desk is closed all day on the day of an aware instant (a holiday, a yearly
# closure, a closed date), each read on its own calendar: routing.hours.DeskClosedDays.
DeskClosed = Callable[[datetime], bool]


def never_closed(at: datetime) -> bool:
    """The desk's closed days when it has none: no service hours are configured."""
    return False


def asked_once(closed: DeskClosed, at: datetime) -> DeskClosed:
    """`closed` for callers that judge many shifts at the one instant `at`: the desk is asked
    at most once (a holiday look-up costs microseconds, and a router round judges everyone)."""
    answer: list[bool] = []

    def once(when: datetime) -> bool:
        if when != at:
            return closed(when)
        if not answer:
            answer.append(closed(at))
        return answer[0]

    return once


def counselors_on_duty(agents: Iterable[AgentLoad], at: datetime, *, closed: DeskClosed) -> int:
    """How many counselors are on shift and available now: those who can take new written
    conversations (phone staff, who take only calls, do not count: the wait estimates and the
    auto-replies that ask here are about chats and mails)."""
    closed = asked_once(closed, at)
    return sum(
        a.counselor and a.presence is Presence.AVAILABLE and on_shift(a.shift, at, closed=closed)
        for a in agents
    )


def anyone_free(agents: Iterable[AgentLoad], at: datetime, *, closed: DeskClosed) -> bool:
    """Whether someone on shift and available has room below her capacity: else a new
    conversation can only wait (on a channel limit too, but that one the router checks)."""
    closed = asked_once(closed, at)
    return any(
        a.presence is Presence.AVAILABLE
        and a.load < a.capacity
        and on_shift(a.shift, at, closed=closed)
        for a in agents
    )


def on_shift(shift: Shift | None, at: datetime, *, closed: DeskClosed) -> bool:
    """True when `at` (aware) falls in one of her windows for that local day: the day's dated
    exception if she has one, else her weekly windows, which are off on a day the desk is
    `closed` unless she works closed days. No schedule at all: always on shift."""
    if shift is None:
        return True
    local = at.astimezone(_zone(shift.tz))
    day = local.date()
    windows = next((w for d, w in shift.exceptions if d == day), None)
    if windows is None:
        windows = shift.weekly[local.weekday()]
        if windows and shift.closed_days is ClosedDays.FOLLOW and closed(at):
            return False
    now = local.time()
    return any(in_window(w, now) for w in windows)


# A shift as data (API bodies, the users.shift column):
# {"timezone": "Asia/Tokyo", "weekly": {"monday": ["09:00-17:30"], ...},
#  "exceptions": {"2026-12-24": ["13:00-17:00"], "2026-12-25": []}, "closed_days": "follow"}
# closed_days: "follow" (the default: off on the desk's closed days) or "work".
_SHIFT_KEYS = frozenset({"timezone", "weekly", "exceptions", "closed_days"})


def shift_data(shift: Shift) -> dict[str, object]:
    """The JSON form of a shift; parse_shift reads it back unchanged."""
    return {
        "timezone": shift.tz,
        "weekly": {
            name: [show_window(w) for w in windows]
            for name, windows in zip(DAY_NAMES, shift.weekly, strict=True)
            if windows
        },
        "exceptions": {
            day.isoformat(): [show_window(w) for w in windows] for day, windows in shift.exceptions
        },
        "closed_days": shift.closed_days.value,
    }


def _table(value: object, path: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{path}: expected a table (object), got {type(value).__name__}")
    return value


def parse_shift(raw: object, where: str) -> Shift:
    """A Shift from its data form; ConfigError names the field, e.g. `shift.weekly.monday[0]`."""
    table = _table(raw, where)
    unknown = sorted(set(table) - _SHIFT_KEYS)
    if unknown:
        raise ConfigError(
            f"{where}.{unknown[0]}: unknown key; allowed: {', '.join(sorted(_SHIFT_KEYS))}"
        )
    tz = parse_timezone(table.get("timezone", "Asia/Tokyo"), f"{where}.timezone")
    weekly_raw = _table(table.get("weekly", {}), f"{where}.weekly")
    bad_day = sorted(set(weekly_raw) - set(DAY_NAMES))
    if bad_day:
        raise ConfigError(f"{where}.weekly.{bad_day[0]}: not a day; use monday .. sunday")
    weekly = tuple(
        parse_windows(weekly_raw.get(name, []), f"{where}.weekly.{name}") for name in DAY_NAMES
    )
    exceptions_raw = _table(table.get("exceptions", {}), f"{where}.exceptions")
    exceptions = tuple(
        sorted(
            (
                parse_date(day, f"{where}.exceptions.{day}"),
                parse_windows(windows, f"{where}.exceptions.{day}"),
            )
            for day, windows in exceptions_raw.items()
        )
    )
    return Shift(
        tz=tz.key,
        weekly=weekly,
        exceptions=exceptions,
        closed_days=_closed_days(table.get("closed_days", "follow"), f"{where}.closed_days"),
    )


def _closed_days(value: object, path: str) -> ClosedDays:
    if isinstance(value, str):
        try:
            return ClosedDays(value)
        except ValueError:
            pass
    allowed = " or ".join(f'"{c.value}"' for c in ClosedDays)
    raise ConfigError(
        f"{path}: expected {allowed} (off on the desk's closed days, or working them)"
    )
