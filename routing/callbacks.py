"""Callbacks: when the phone desk may call a consulter back, when to try again, and the order
of phone staff's list.

Pure: no I/O, no clock; `now` is an argument, aware datetimes only, answers in `now`'s tzinfo.
Her allowed window ("weekdays 12:00-13:00") is a ServiceHours in the program's time zone, open
on holidays and without closures (her day, not the desk's), so routing.hours does the walking.

The retry rule ("3 tries over 2 days, at least 2 hours apart"): the period runs from the first
try, so a request made on Friday night still gets its tries the next week; and days on which
her window does not open at all (her weekend, for a weekdays window) do not count, so a first
try on Friday still has Monday and Tuesday (period_end). Each next try aims
at an even share of the period left, is never before `min_gap` after the last try, and is moved
to the next allowed moment; if that is after the period, the earliest allowed moment after the
gap is taken instead, and if that too is after the period, the callback closes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from inbox.core.calls import DEFAULT_CALL_OUTCOMES, CallOutcome, reached_ids
from inbox.core.decisions import WaitingConversation
from inbox.core.errors import ConfigError
from inbox.core.windows import DAY_END, DAY_NAMES, Window, since_midnight, window_length
from routing.hours import (
    TOKYO,
    ServiceHours,
    is_open,
    next_opening,
    opens_on,
    parse_service_hours,
)

_DAY_KEYS = ("everyday", "weekdays", *DAY_NAMES)


# --- her allowed window -----------------------------------------------------------------------


def parse_call_window(raw: object, where: str, tz: ZoneInfo = TOKYO) -> ServiceHours:
    """Her window as data, e.g. `{"weekdays": ["12:00-13:00"]}`, in the program's zone `tz`:
    day keys as in [routing.hours] (everyday, weekdays, monday..sunday; the more specific wins);
    at least one window. ConfigError names the key."""
    if not isinstance(raw, Mapping) or not raw:
        raise ConfigError(f'{where}: expected a table like {{ weekdays = ["12:00-13:00"] }}')
    unknown = sorted(set(raw) - set(_DAY_KEYS))
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: unknown key; allowed: {', '.join(_DAY_KEYS)}")
    window = parse_service_hours(
        {**raw, "timezone": str(tz), "holidays": "open", "closures": []}, where
    )
    if not any(window.weekly):
        raise ConfigError(f"{where}: no day has a window; give at least one")
    return window


def may_call(window: ServiceHours, now: datetime) -> bool:
    """Whether she may be called at `now`."""
    return is_open(window, now)


def next_allowed(window: ServiceHours, now: datetime) -> datetime | None:
    """`now` if she may be called now, else the next opening of her window; None if never."""
    return next_opening(window, now)


def _minutes(window: Window) -> tuple[timedelta, timedelta]:
    start = since_midnight(window[0])
    return start, start + window_length(window)


def _wall(offset: timedelta) -> time:
    if offset >= timedelta(days=1):
        return DAY_END
    return (datetime.min + offset).time()


def _day_overlap(mine: tuple[Window, ...], desk: tuple[Window, ...]) -> tuple[Window, ...]:
    out: list[Window] = []
    for a in mine:
        a0, a1 = _minutes(a)
        for b in desk:
            b0, b1 = _minutes(b)
            low, high = max(a0, b0), min(a1, b1)
            if low < high:
                out.append((_wall(low), _wall(high)))
    return tuple(sorted(out, key=lambda w: since_midnight(w[0])))


def within_hours(window: ServiceHours, desk: ServiceHours) -> ServiceHours | None:
    """Her window as the desk may use it: a moment is allowed when both her window and the
    desk's phone hours are open (the router applies both). The desk's holidays, closures and
    closed dates apply. None when the two are in different zones (their weekly walls do not
    line up; the caller keeps her window alone)."""
    if window.tz != desk.tz:
        return None
    return ServiceHours(
        weekly=tuple(_day_overlap(m, d) for m, d in zip(window.weekly, desk.weekly, strict=True)),
        tz=desk.tz,
        closed_on_holidays=window.closed_on_holidays or desk.closed_on_holidays,
        closures=tuple(dict.fromkeys((*window.closures, *desk.closures))),
        closed_dates=window.closed_dates | desk.closed_dates,
    )


@lru_cache(maxsize=4096)
def stored_window(text: str, tz: ZoneInfo = TOKYO) -> ServiceHours | None:
    """Her window as stored (contacts.call_window, JSON text), parsed once per distinct text and
    zone: every router round reads every queued callback. None when it no longer parses (a
    hand-edited row, an older format): read as NULL, no window of hers, so the callback is still
    worked within the desk's phone hours instead of never; the router logs that, once, without
    the text (inbox.router)."""
    try:
        return parse_call_window(json.loads(text), "contacts.call_window", tz)
    except (ValueError, ConfigError):  # json.JSONDecodeError is a ValueError
        return None


def callable_from(
    conv: WaitingConversation, now: datetime, tz: ZoneInfo = TOKYO
) -> datetime | None:
    """When a queued conversation may first be offered as far as callbacks go: `now` for one
    due and inside her window (and for any conversation that is no callback), else the later
    of its due time and her window's next opening; None if her window never opens again."""
    start = now if conv.not_before is None else max(now, conv.not_before)
    window = None if conv.call_window is None else stored_window(conv.call_window, tz)
    return start if window is None else next_allowed(window, start)


def next_callable(
    waiting: Iterable[WaitingConversation], now: datetime, tz: ZoneInfo = TOKYO
) -> datetime | None:
    """The earliest moment after `now` at which a callback held back now (not due yet, or
    outside her window) may be offered: when the router must look again. None: none is."""
    found: datetime | None = None
    for conv in waiting:
        if conv.not_before is None and conv.call_window is None:
            continue
        at = callable_from(conv, now, tz)
        if at is not None and at > now and (found is None or at < found):
            found = at
    return found


# --- the retry rule ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryRule:
    tries: int = 3
    period: timedelta = timedelta(days=2)  # from the first try
    min_gap: timedelta = timedelta(hours=2)


DEFAULT_RETRY = RetryRule()


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    at: datetime
    outcome: str  # a CallOutcome id


class CloseReason(StrEnum):
    REACHED = "reached"  # a try's outcome reached her (Close.outcome says which)
    TRIES_USED = "tries_used"
    NO_WINDOW = "no_window"  # her window does not open (again) within the period


@dataclass(frozen=True, slots=True, kw_only=True)
class NextTry:
    at: datetime  # inside her window, at or after now (now itself: call now)


@dataclass(frozen=True, slots=True, kw_only=True)
class Close:
    reason: CloseReason
    outcome: str | None = None  # the reaching outcome's id, for REACHED


def period_end(rule: RetryRule, window: ServiceHours, first: datetime) -> datetime:
    """When the tries' period ends: `rule.period` after the first try, moved a day later for
    each day within it (after the first try's) on which her window never opens."""
    start_day = first.astimezone(window.tz).date()
    end = first.astimezone(UTC) + rule.period
    counted = 0
    while True:
        last_day = end.astimezone(window.tz).date()
        span = (last_day - start_day).days
        closed = sum(
            not opens_on(window, start_day + timedelta(days=n)) for n in range(1, span + 1)
        )
        if closed == counted or span > rule.period.days + 60:  # 60: a window that rarely opens
            return end
        end += timedelta(days=closed - counted)
        counted = closed


def next_try(
    rule: RetryRule,
    attempts: Sequence[Attempt],
    window: ServiceHours,
    now: datetime,
    outcomes: tuple[CallOutcome, ...] = DEFAULT_CALL_OUTCOMES,
) -> NextTry | Close:
    """When to call her next, or why the callback closes. An outcome id no longer in
    `outcomes` counts as not reached."""
    done = sorted(attempts, key=lambda a: a.at)
    reached = reached_ids(outcomes)
    hit = next((a for a in done if a.outcome in reached), None)
    if hit is not None:
        return Close(reason=CloseReason.REACHED, outcome=hit.outcome)
    if len(done) >= rule.tries:
        return Close(reason=CloseReason.TRIES_USED)
    if not done:
        first = next_allowed(window, now)
        return Close(reason=CloseReason.NO_WINDOW) if first is None else NextTry(at=first)
    # In UTC: Python adds to and subtracts aware times on the wall clock of a shared tzinfo.
    last, end = done[-1].at.astimezone(UTC), period_end(rule, window, done[0].at)
    earliest = max(last + rule.min_gap, now.astimezone(UTC))
    aim = max(earliest, last + (end - last) / (rule.tries - len(done)))
    for start in (aim, earliest):
        at = next_allowed(window, start)
        if at is not None and at <= end:
            return NextTry(at=at.astimezone(now.tzinfo))
    return Close(reason=CloseReason.NO_WINDOW)


def _positive(raw: Mapping[str, object], key: str, where: str, default: float) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{where}.{key}: expected a number > 0, got {value!r}")
    return float(value)


_RULE_KEYS = ("tries", "over_hours", "min_gap_min")


def parse_retry_rule(raw: object, where: str) -> RetryRule:
    """A retry table: `tries` (whole number >= 1), `over_hours` (the period from the first try)
    and `min_gap_min`; each optional (3, 48, 120). The gap must fit the period when tries > 1."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a table like {{ tries = 3, over_hours = 48 }}")
    unknown = sorted(set(raw) - set(_RULE_KEYS))
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: unknown key; allowed: {', '.join(_RULE_KEYS)}")
    base = DEFAULT_RETRY
    tries = raw.get("tries", base.tries)
    if isinstance(tries, bool) or not isinstance(tries, int) or tries < 1:
        raise ConfigError(f"{where}.tries: expected a whole number >= 1, got {tries!r}")
    hours = _positive(raw, "over_hours", where, base.period / timedelta(hours=1))
    gap = _positive(raw, "min_gap_min", where, base.min_gap / timedelta(minutes=1))
    rule = RetryRule(tries=tries, period=timedelta(hours=hours), min_gap=timedelta(minutes=gap))
    if tries > 1 and rule.min_gap * (tries - 1) > rule.period:
        raise ConfigError(
            f"{where}.min_gap_min: {tries} tries {gap:g} minutes apart do not fit in"
            f" over_hours = {hours:g}"
        )
    return rule


# --- phone staff's list -----------------------------------------------------------------------


def callback_order(
    window: ServiceHours,
    waiting_since: datetime,
    now: datetime,
    not_before: datetime | None = None,
) -> tuple[int, datetime, datetime]:
    """A sort key for phone staff's list: callbacks she may be called on now (and due: not before
    `not_before`, the next try) first, longest waiting first; then by the next allowed time;
    last those whose window never opens again."""
    start = now if not_before is None else max(now, not_before)
    at = next_allowed(window, start)
    if at is None:
        return 2, waiting_since, waiting_since
    if at <= now:
        return 0, waiting_since, waiting_since
    return 1, at, waiting_since


__all__: Sequence[str] = (
    "DEFAULT_RETRY",
    "Attempt",
    "Close",
    "CloseReason",
    "NextTry",
    "RetryRule",
    "callable_from",
    "callback_order",
    "may_call",
    "next_allowed",
    "next_callable",
    "next_try",
    "parse_call_window",
    "parse_retry_rule",
    "period_end",
    "stored_window",
    "within_hours",
)
