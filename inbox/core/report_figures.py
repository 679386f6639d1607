"""Pure arithmetic of the grant report's figures: 達成率 (actual against target), shares, and the
counting of consultations as conversations or conversation-days.

Percentages are exact: computed on integers and rounded half-up to one decimal (111.25 -> 111.3),
as the programs' own spreadsheets show them; never a float.

Stdlib only (the domain's ground floor).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from datetime import date
from decimal import Decimal


def percent(part: int, whole: int) -> Decimal | None:
    """part / whole in percent, one decimal, half-up; None when whole is 0."""
    if part < 0 or whole < 0:
        raise ValueError(f"counts cannot be negative ({part}, {whole})")
    if whole == 0:
        return None
    tenths = (2 * part * 1000 + whole) // (2 * whole)  # round(part * 1000 / whole), half-up
    return Decimal(tenths).scaleb(-1)


def achievement(target: int | None, actual: int) -> Decimal | None:
    """達成率: actual against target in percent (one decimal, half-up): 925 of 830 -> 111.4.
    None without a target or with a target of 0."""
    if target is None:
        return None
    return percent(actual, target)


def share(part: int, whole: int) -> Decimal | None:
    """A share in percent (one decimal, half-up), e.g. the survey's top two answers among those
    who answered: 98 of 120 -> 81.7. None when nobody answered."""
    return percent(part, whole)


def month_of(day: date) -> str:
    """The report's month key: "YYYY-MM"."""
    return f"{day.year:04d}-{day.month:02d}"


def conversation_days(pairs: Iterable[tuple[Hashable, date]]) -> int:
    """Consultations counted as conversation-days: each (conversation, day) once, so one
    conversation written on three days is three consultations."""
    return len(set(pairs))


def conversation_days_by_month(pairs: Iterable[tuple[Hashable, date]]) -> dict[str, int]:
    """Conversation-days per month ("YYYY-MM" -> count), each (conversation, day) once."""
    counts: dict[str, int] = {}
    for _, day in set(pairs):
        key = month_of(day)
        counts[key] = counts.get(key, 0) + 1
    return counts
