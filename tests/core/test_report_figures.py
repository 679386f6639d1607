"""inbox.core.report_figures: 達成率 and shares (exact, half-up)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from inbox.core.report_figures import achievement, share


@pytest.mark.parametrize(
    ("target", "actual", "expected"),
    [
        (830, 923, Decimal("111.2")),
        (830, 925, Decimal("111.4")),
        (8, 1, Decimal("12.5")),
        (800, 1, Decimal("0.1")),  # 0.125 -> 0.1
        (1600, 1, Decimal("0.1")),  # 0.0625 -> 0.1: half-up at the second decimal
        (2000, 1, Decimal("0.1")),  # 0.05 -> 0.1 exactly half: up (a float would give 0.0)
        (4000, 1, Decimal("0.0")),  # 0.025 -> 0.0
        (3, 2, Decimal("66.7")),
        (3, 1, Decimal("33.3")),
        (100, 0, Decimal("0.0")),
        (100, 250, Decimal("250.0")),
    ],
)
def test_achievement_one_decimal_half_up(target: int, actual: int, expected: Decimal) -> None:
    result = achievement(target, actual)
    assert result == expected
    assert str(result) == str(expected)  # one decimal, always


def test_no_achievement_without_a_target() -> None:
    assert achievement(None, 12) is None
    assert achievement(0, 12) is None
    with pytest.raises(ValueError, match="negative"):
        achievement(-1, 12)


def test_share_of_the_top_two_answers() -> None:
    assert share(98, 120) == Decimal("81.7")
    assert share(0, 0) is None
