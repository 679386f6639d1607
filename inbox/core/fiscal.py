"""The Japanese fiscal year (年度, April to March) and its names, for the grant report.

A fiscal year is named by the calendar year of its April 1: FY2025 runs from 2025-04-01 to
2026-03-31 and is "2025年度". Its Japanese-era name (和暦) follows what municipalities and the
grant programs write: the era IN FORCE FOR MOST OF THE FISCAL YEAR, with that era's number for the
fiscal year's calendar year. So:

- FY2018 = 平成30年度 (all of it under 平成);
- FY2019 = 令和元年度, although its April 1 was still 平成31年 (令和 began 2019-05-01, so it covers
  336 of the year's 366 days); 「平成31年度」 is not what the reports say;
- FY2020 = 令和2年度, FY2025 = 令和7年度;
- FY1988 = 昭和63年度 (昭和 until 1989-01-07, most of the year), FY1989 = 平成元年度.

Year 1 of an era is written 元 in Japanese ("令和元年度") and 1 in English ("Reiwa 1").
The April-March fiscal year exists since FY1886; earlier years are refused.

Stdlib only (the domain's ground floor).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

FIRST_FISCAL_YEAR = 1886  # 明治19年度: the first April-March fiscal year


@dataclass(frozen=True, slots=True)
class _Era:
    ja: str
    en: str
    start: date  # first day in force (Gregorian)


# Newest last. 明治 is dated from its proclamation; only its fiscal years from 1886 are named.
_ERAS: tuple[_Era, ...] = (
    _Era("明治", "Meiji", date(1868, 10, 23)),
    _Era("大正", "Taisho", date(1912, 7, 30)),
    _Era("昭和", "Showa", date(1926, 12, 25)),
    _Era("平成", "Heisei", date(1989, 1, 8)),
    _Era("令和", "Reiwa", date(2019, 5, 1)),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class FiscalYearNames:
    """The words for one fiscal year: `ja` "2025年度（令和7年度）", `western_ja` "2025年度",
    `wareki` "令和7年度", `en` "FY2025 (Reiwa 7)"."""

    fiscal_year: int
    western_ja: str
    wareki: str
    en: str

    @property
    def ja(self) -> str:
        return f"{self.western_ja}（{self.wareki}）"


def fiscal_year_of(day: date) -> int:
    """The fiscal year a day belongs to: 2026-03-31 -> 2025, 2026-04-01 -> 2026."""
    return day.year if day.month >= 4 else day.year - 1


def fiscal_year_bounds(fy: int) -> tuple[date, date]:
    """The first and the last day (inclusive) of a fiscal year: 2025 -> 2025-04-01, 2026-03-31."""
    return date(fy, 4, 1), date(fy + 1, 3, 31)


def _era_of_most(fy: int) -> _Era:
    """The era in force on the most days of the fiscal year (ties: the newer era)."""
    first, last = fiscal_year_bounds(fy)
    best: _Era | None = None
    best_days = -1
    for index, era in enumerate(_ERAS):
        end = _ERAS[index + 1].start - timedelta(days=1) if index + 1 < len(_ERAS) else last
        days = (min(end, last) - max(era.start, first)).days + 1
        if days >= best_days and days > 0:
            best, best_days = era, days
    assert best is not None  # fy >= FIRST_FISCAL_YEAR: 明治 or a later era covers it
    return best


def fiscal_year_names(fy: int) -> FiscalYearNames:
    """西暦 and 和暦 names of a fiscal year (module docstring: the era of most of the year)."""
    if fy < FIRST_FISCAL_YEAR:
        raise ValueError(f"fiscal year {fy}: the April-March fiscal year begins in 1886")
    era = _era_of_most(fy)
    number = fy - era.start.year + 1
    ja_number = "元" if number == 1 else str(number)
    return FiscalYearNames(
        fiscal_year=fy,
        western_ja=f"{fy}年度",
        wareki=f"{era.ja}{ja_number}年度",
        en=f"FY{fy} ({era.en} {number})",
    )


def months_between(first: date, last: date) -> list[str]:
    """The calendar months a period touches, "YYYY-MM", first and last inclusive:
    2025-04-15 .. 2025-06-01 -> ["2025-04", "2025-05", "2025-06"]."""
    if last < first:
        raise ValueError(f"period ends ({last}) before it begins ({first})")
    months: list[str] = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months
