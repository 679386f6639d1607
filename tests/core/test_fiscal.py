"""inbox.core.fiscal: the April-March fiscal year, its bounds and its 西暦 and 和暦 names."""

from __future__ import annotations

from datetime import date

import pytest

from inbox.core.fiscal import (
    fiscal_year_bounds,
    fiscal_year_names,
    fiscal_year_of,
    months_between,
)


@pytest.mark.parametrize(
    ("day", "fy"),
    [
        (date(2026, 3, 31), 2025),
        (date(2026, 4, 1), 2026),
        (date(2025, 4, 1), 2025),
        (date(2026, 1, 1), 2025),
        (date(2025, 12, 31), 2025),
    ],
)
def test_fiscal_year_of_a_day(day: date, fy: int) -> None:
    assert fiscal_year_of(day) == fy


def test_bounds_are_april_first_to_march_last_inclusive() -> None:
    assert fiscal_year_bounds(2025) == (date(2025, 4, 1), date(2026, 3, 31))
    assert fiscal_year_bounds(2023) == (date(2023, 4, 1), date(2024, 3, 31))  # leap February


@pytest.mark.parametrize(
    ("fy", "wareki", "en"),
    [
        (2025, "令和7年度", "FY2025 (Reiwa 7)"),
        (2020, "令和2年度", "FY2020 (Reiwa 2)"),
        # April 2019 was still 平成31年, but the year is 令和元年度 (the era of most of it)
        (2019, "令和元年度", "FY2019 (Reiwa 1)"),
        (2018, "平成30年度", "FY2018 (Heisei 30)"),
        (1989, "平成元年度", "FY1989 (Heisei 1)"),
        # 平成 began 1989-01-08, within FY1988, whose most days were 昭和
        (1988, "昭和63年度", "FY1988 (Showa 63)"),
        (1926, "大正15年度", "FY1926 (Taisho 15)"),
        (1912, "大正元年度", "FY1912 (Taisho 1)"),
    ],
)
def test_names_western_and_wareki(fy: int, wareki: str, en: str) -> None:
    names = fiscal_year_names(fy)
    assert names.fiscal_year == fy
    assert names.western_ja == f"{fy}年度"
    assert names.wareki == wareki
    assert names.ja == f"{fy}年度（{wareki}）"
    assert names.en == en


def test_before_the_first_fiscal_year_is_refused() -> None:
    assert fiscal_year_names(1886).wareki == "明治19年度"
    with pytest.raises(ValueError, match="1886"):
        fiscal_year_names(1885)


def test_months_between_inclusive() -> None:
    assert months_between(date(2025, 4, 1), date(2026, 3, 31)) == [
        "2025-04", "2025-05", "2025-06", "2025-07", "2025-08", "2025-09",
        "2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03",
    ]  # fmt: skip
    assert months_between(date(2025, 4, 15), date(2025, 6, 1)) == [
        "2025-04",
        "2025-05",
        "2025-06",
    ]
    assert months_between(date(2025, 5, 3), date(2025, 5, 3)) == ["2025-05"]
    with pytest.raises(ValueError, match="before"):
        months_between(date(2025, 5, 3), date(2025, 5, 2))
