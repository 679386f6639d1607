"""Pure arithmetic of the grant report's figures: 達成率 (actual against target) and shares. (The
counting itself is SQL on both stores, storage/report.py, judged by the contract suite.)

Percentages are exact: computed on integers and rounded half-up to one decimal (111.25 -> 111.3),
as the programs' own spreadsheets show them; never a float.

Stdlib only (the domain's ground floor).
"""

from __future__ import annotations

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
