"""Callbacks: her allowed window, the retry rule and phone staff's order, on known days, and the
retry rule's invariants with hypothesis."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inbox.core.errors import ConfigError
from routing.callbacks import (
    DEFAULT_RETRY,
    Attempt,
    Close,
    CloseReason,
    NextTry,
    RetryRule,
    callback_order,
    may_call,
    next_allowed,
    next_try,
    parse_call_window,
    parse_retry_rule,
    period_end,
    within_hours,
)
from routing.hours import TOKYO, ServiceHours, is_open, next_opening, parse_service_hours

WHERE = "contact.callback_window"
LUNCH = parse_call_window({"weekdays": ["12:00-13:00"]}, WHERE)  # weekdays 12:00-13:00
EVENING = parse_call_window({"everyday": ["18:00-21:00"]}, WHERE)
NEVER = ServiceHours(weekly=((),) * 7, closed_on_holidays=False, closures=())


def jst(d: int, h: int = 0, mi: int = 0, *, mo: int = 12) -> datetime:
    """A day of December 2026 (Friday the 4th, Monday the 7th) in Tokyo."""
    return datetime(2026, mo, d, h, mi, tzinfo=TOKYO)


def missed(*times: datetime) -> list[Attempt]:
    return [Attempt(at=t, outcome="no_answer") for t in times]


# --- her window -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "allowed", "next_at"),
    [
        (jst(7, 12), True, jst(7, 12)),  # start inclusive
        (jst(7, 12, 59), True, jst(7, 12, 59)),
        (jst(7, 13), False, jst(8, 12)),  # end exclusive
        (jst(7, 11, 59), False, jst(7, 12)),
        (jst(4, 19), False, jst(7, 12)),  # Friday evening: Monday noon
        (jst(5, 12, 30), False, jst(7, 12)),  # Saturday
    ],
)
def test_may_call_and_next_allowed(now: datetime, allowed: bool, next_at: datetime) -> None:
    assert may_call(LUNCH, now) is allowed
    assert next_allowed(LUNCH, now) == next_at
    assert next_allowed(LUNCH, now.astimezone(UTC)) == next_at  # any zone in, same instant


def test_her_window_is_open_on_holidays_and_at_the_year_end() -> None:
    assert may_call(LUNCH, datetime(2026, 11, 23, 12, 30, tzinfo=TOKYO))  # 勤労感謝の日, Monday
    assert may_call(LUNCH, jst(29, 12, 30))  # Tuesday in the desk's year-end closure


def test_window_in_the_programs_zone_and_specific_days_win() -> None:
    window = parse_call_window({"weekdays": ["12:00-13:00"], "friday": []}, WHERE, tz=TOKYO)
    assert not may_call(window, jst(4, 12, 30))
    assert next_allowed(window, jst(3, 13)) == jst(7, 12)


def test_never_opening_window_has_no_next() -> None:
    assert not may_call(NEVER, jst(7, 12))
    assert next_allowed(NEVER, jst(7, 12)) is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, f"{WHERE}: expected a table"),
        (["12:00-13:00"], f"{WHERE}: expected a table"),
        ({"weekday": ["12:00-13:00"]}, f"{WHERE}.weekday: unknown key"),
        ({"timezone": "UTC"}, f"{WHERE}.timezone: unknown key"),
        ({"weekdays": ["13:00-12:00"]}, f"{WHERE}.weekdays[0]"),
        ({"weekdays": []}, f"{WHERE}: no day has a window"),
    ],
)
def test_window_errors_name_the_key(raw: object, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_call_window(raw, WHERE)


# --- the retry rule ---------------------------------------------------------------------------


def test_default_rule_across_the_weekend_from_a_friday_evening_request() -> None:
    rule = DEFAULT_RETRY
    assert (rule.tries, rule.period, rule.min_gap) == (3, timedelta(days=2), timedelta(hours=2))
    # Asked on Friday evening, after her window: the first try is Monday at noon.
    assert next_try(rule, [], LUNCH, jst(4, 19)) == NextTry(at=jst(7, 12))
    # No answer on Monday: a day later, inside the window.
    tries = missed(jst(7, 12, 5))
    assert next_try(rule, tries, LUNCH, jst(7, 12, 6)) == NextTry(at=jst(8, 12, 5))
    # No answer on Tuesday: the rest of the period, Wednesday at the first try's time.
    tries += missed(jst(8, 12, 20))
    assert next_try(rule, tries, LUNCH, jst(8, 12, 21)) == NextTry(at=jst(9, 12, 5))
    tries += missed(jst(9, 12, 10))
    assert next_try(rule, tries, LUNCH, jst(9, 12, 11)) == Close(reason=CloseReason.TRIES_USED)


def test_evening_window_across_midnight_and_the_weekend() -> None:
    tries = missed(jst(4, 20, 30))  # Friday 20:30
    # The even share (Saturday 20:30) is inside her evening window.
    assert next_try(DEFAULT_RETRY, tries, EVENING, jst(4, 20, 31)) == NextTry(at=jst(5, 20, 30))
    # Asked late, past the share and the window: the next evening, not the night.
    assert next_try(DEFAULT_RETRY, tries, EVENING, jst(5, 22)) == NextTry(at=jst(6, 18))


def test_a_friday_try_with_a_weekday_window_keeps_its_days_after_the_weekend() -> None:
    tries = missed(jst(4, 12, 10))  # 2 days from Friday: her weekend does not count
    assert period_end(DEFAULT_RETRY, LUNCH, jst(4, 12, 10)) == jst(8, 12, 10)
    assert next_try(DEFAULT_RETRY, tries, LUNCH, jst(4, 12, 11)) == NextTry(at=jst(7, 12))
    tries += missed(jst(7, 12, 5))
    assert next_try(DEFAULT_RETRY, tries, LUNCH, jst(7, 12, 6)) == NextTry(at=jst(8, 12, 10))
    # A window that opens once a week: the period stretches over the days it is shut.
    mondays = parse_call_window({"monday": ["12:00-13:00"]}, WHERE)
    assert period_end(DEFAULT_RETRY, mondays, jst(7, 12)) == jst(21, 12)


def test_a_share_outside_her_window_falls_back_to_the_first_moment_after_the_gap() -> None:
    rule = RetryRule(tries=3, period=timedelta(hours=6), min_gap=timedelta(hours=1))
    window = parse_call_window({"everyday": ["09:00-12:00"]}, WHERE)
    tries = missed(jst(7, 9))  # the period ends 15:00; the share (12:00) is outside her window
    assert next_try(rule, tries, window, jst(7, 9, 1)) == NextTry(at=jst(7, 10))  # 9:00 + gap


def test_a_window_that_never_opens_closes_at_once() -> None:
    assert next_try(DEFAULT_RETRY, [], NEVER, jst(7, 12)) == Close(reason=CloseReason.NO_WINDOW)
    tries = missed(jst(7, 12))
    assert next_try(DEFAULT_RETRY, tries, NEVER, jst(7, 13)) == Close(reason=CloseReason.NO_WINDOW)


def test_reached_on_the_second_try_closes_with_its_outcome() -> None:
    tries = [*missed(jst(7, 12, 5)), Attempt(at=jst(8, 12, 5), outcome="reached")]
    assert next_try(DEFAULT_RETRY, tries, LUNCH, jst(8, 12, 30)) == Close(
        reason=CloseReason.REACHED, outcome="reached"
    )
    # Attempts in any order; not safe to talk is not reached.
    tries = [Attempt(at=jst(8, 12, 5), outcome="not_safe"), *missed(jst(7, 12, 5))]
    assert next_try(DEFAULT_RETRY, tries, LUNCH, jst(8, 12, 6)) == NextTry(at=jst(9, 12, 5))


def test_an_outcome_no_longer_configured_counts_as_not_reached() -> None:
    tries = [Attempt(at=jst(7, 12, 5), outcome="retired_outcome")]
    assert isinstance(next_try(DEFAULT_RETRY, tries, LUNCH, jst(7, 12, 6)), NextTry)


def test_one_try_rule_closes_after_it() -> None:
    rule = RetryRule(tries=1)
    assert next_try(rule, missed(jst(7, 12)), LUNCH, jst(7, 12, 1)) == Close(
        reason=CloseReason.TRIES_USED
    )


@settings(max_examples=200, deadline=None)
@given(
    tries=st.integers(1, 5),
    period_h=st.integers(1, 96),
    gap_min=st.integers(1, 240),
    offsets_min=st.lists(st.integers(0, 24 * 60), min_size=0, max_size=4),
    late_min=st.integers(0, 24 * 60),
    lunch=st.booleans(),
)
def test_a_next_try_is_inside_the_window_after_the_gap_and_within_the_period(
    tries: int, period_h: int, gap_min: int, offsets_min: list[int], late_min: int, lunch: bool
) -> None:
    rule = RetryRule(
        tries=tries, period=timedelta(hours=period_h), min_gap=timedelta(minutes=gap_min)
    )
    window = LUNCH if lunch else EVENING
    times = [jst(4, 11)]
    for offset in offsets_min:
        times.append(times[-1] + timedelta(minutes=offset))
    attempts = missed(*times)
    now = times[-1] + timedelta(minutes=late_min)
    result = next_try(rule, attempts, window, now)
    if isinstance(result, Close):
        assert result.reason is not CloseReason.REACHED
        if len(attempts) < tries:  # then no allowed moment is left in the period
            assert result.reason is CloseReason.NO_WINDOW
            at = next_allowed(window, max(now, times[-1] + rule.min_gap))
            assert at is None or at > period_end(rule, window, times[0])
        return
    assert len(attempts) < tries
    assert is_open(window, result.at)
    assert result.at >= now
    assert result.at >= times[-1] + rule.min_gap
    assert result.at <= period_end(rule, window, times[0])


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ({}, DEFAULT_RETRY),
        (
            {"tries": 2, "over_hours": 24, "min_gap_min": 30},
            RetryRule(tries=2, period=timedelta(hours=24), min_gap=timedelta(minutes=30)),
        ),
        (
            {"tries": 1, "over_hours": 0.5, "min_gap_min": 600},
            RetryRule(tries=1, period=timedelta(minutes=30), min_gap=timedelta(hours=10)),
        ),
    ],
)
def test_parse_retry_rule(raw: dict[str, object], rule: RetryRule) -> None:
    assert parse_retry_rule(raw, "voice.retry") == rule


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "voice.retry: expected a table"),
        ({"try": 3}, "voice.retry.try: unknown key"),
        ({"tries": 0}, "voice.retry.tries: expected a whole number >= 1, got 0"),
        ({"tries": 2.5}, "voice.retry.tries"),
        ({"tries": True}, "voice.retry.tries"),
        ({"over_hours": 0}, "voice.retry.over_hours: expected a number > 0"),
        ({"min_gap_min": "2h"}, "voice.retry.min_gap_min: expected a number > 0"),
        ({"tries": 3, "over_hours": 2, "min_gap_min": 90}, "voice.retry.min_gap_min: 3 tries"),
    ],
)
def test_retry_rule_errors_name_the_key(raw: object, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_retry_rule(raw, "voice.retry")


# --- phone staff's list -----------------------------------------------------------------------


def test_callable_now_first_by_wait_then_by_next_allowed_time() -> None:
    now = jst(7, 12, 30)  # Monday, inside LUNCH, before EVENING
    morning = parse_call_window({"weekdays": ["09:00-10:00"]}, WHERE)
    rows = {
        "lunch_new": callback_order(LUNCH, jst(7, 11), now),
        "lunch_old": callback_order(LUNCH, jst(4, 9), now),
        "lunch_not_due": callback_order(LUNCH, jst(1, 9), now, not_before=jst(8, 12)),
        "evening_old": callback_order(EVENING, jst(1, 9), now),
        "morning": callback_order(morning, jst(7, 11, 30), now),
        "never": callback_order(NEVER, jst(1, 8), now),
        "lunch_due": callback_order(LUNCH, jst(7, 12), now, not_before=jst(7, 12, 20)),
    }
    order = sorted(rows, key=lambda name: rows[name])
    assert order == [
        "lunch_old",  # callable now, longest waiting first
        "lunch_new",
        "lunch_due",
        "evening_old",  # today 18:00
        "morning",  # tomorrow 09:00
        "lunch_not_due",  # tomorrow 12:00, its next try
        "never",
    ]


def test_her_window_within_the_desk_hours_is_where_both_are_open() -> None:
    desk = parse_service_hours(
        {"weekdays": ["09:00-12:00", "13:00-17:30"], "closed_dates": ["2026-12-02"]}, "hours"
    )
    hers = parse_call_window({"everyday": ["08:00-10:00", "11:30-24:00"]}, "window")
    both = within_hours(hers, desk)
    assert both is not None
    tue = datetime(2026, 12, 1, tzinfo=TOKYO)
    assert [is_open(both, tue.replace(hour=h, minute=m)) for h, m in HOURS] == [
        False,  # 08:30: the desk is closed
        True,  # 09:30
        False,  # 10:30: her window is closed
        True,  # 11:45
        False,  # 12:30: the desk's lunch
        True,  # 17:00
        False,  # 18:00
    ]
    # the desk's closed date and weekend apply; her Saturday window does not open the desk
    assert next_opening(both, tue.replace(hour=18)) == datetime(2026, 12, 3, 9, tzinfo=TOKYO)
    saturday = datetime(2026, 12, 5, 10, tzinfo=TOKYO)
    assert next_opening(both, saturday) == datetime(2026, 12, 7, 9, tzinfo=TOKYO)
    # never overlapping: no moment at all
    evening = parse_call_window({"weekdays": ["18:00-20:00"]}, "window")
    never = within_hours(evening, desk)
    assert never is not None and next_opening(never, tue) is None
    # other zones do not line up week by week: the caller keeps her window
    utc = parse_call_window({"weekdays": ["12:00-13:00"]}, "window", ZoneInfo("UTC"))
    assert within_hours(utc, desk) is None


HOURS = ((8, 30), (9, 30), (10, 30), (11, 45), (12, 30), (17, 0), (18, 0))
