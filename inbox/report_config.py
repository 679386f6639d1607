"""The [report] section: the grant report's small-cell threshold `k`, what one consultation is,
and the targets of each fiscal year (`[report.targets.2025]` figure id = integer); and the
[retention] section: how long bodies are kept."""

from __future__ import annotations

from dataclasses import dataclass, field

from inbox.core.errors import ConfigError
from inbox.core.report_facts import FIGURE_IDS, Unit

MAX_TARGET = 10**9


@dataclass(frozen=True, slots=True)
class Targets:
    """The targets by fiscal year (April to March, named by its April's year): (year, ((figure
    id, integer), ...)) pairs; a figure without one shows no target and no 達成率."""

    by_year: tuple[tuple[int, tuple[tuple[str, int], ...]], ...] = ()

    def of(self, fiscal_year: int | None) -> dict[str, int]:
        return next((dict(t) for y, t in self.by_year if y == fiscal_year), {})


def parse_report_targets(raw: object, where: str) -> Targets:
    """`[report.targets.2025]` tables: a fiscal year, then figure id = a non-negative integer;
    an unknown figure id is an error that names it and lists the known ones."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table of fiscal years ([{where}.2025])")
    years: list[tuple[int, tuple[tuple[str, int], ...]]] = []
    for year_text, table in raw.items():
        at = f"{where}.{year_text}"
        if not (year_text.isascii() and year_text.isdigit() and 1900 <= int(year_text) <= 9000):
            raise ConfigError(f"{at}: a fiscal year such as 2025 (the year of its April)")
        if not isinstance(table, dict):
            raise ConfigError(f"{at}: expected a table of figure id = integer")
        targets: dict[str, int] = {}
        for figure, value in table.items():
            if figure not in FIGURE_IDS:
                raise ConfigError(
                    f"{at}.{figure}: unknown figure {figure!r} (known: {', '.join(FIGURE_IDS)})"
                )
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError(f"{at}.{figure}: expected an integer, got {value!r}")
            if not 0 <= value <= MAX_TARGET:
                raise ConfigError(f"{at}.{figure}: from 0 to {MAX_TARGET}, got {value}")
            targets[figure] = value
        years.append((int(year_text), tuple(targets.items())))
    return Targets(tuple(years))


def parse_k(raw: object, where: str) -> int:
    """[report] k: 1 (nothing hidden) or 3 to 1000. Not 2: zeros are shown, so "<2" would say
    the count is 1 (inbox.core.suppression)."""
    if isinstance(raw, bool) or not isinstance(raw, int) or not (raw == 1 or 3 <= raw <= 1000):
        raise ConfigError(
            f"{where}: 1 (hide nothing) or a whole number from 3 to 1000, got {raw!r}"
            ' (2 would hide nothing: zeros are shown, so "<2" means 1)'
        )
    return raw


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportConfig:
    # A count below k in a breakdown or a month is shown as "<k" (with complementary cells
    # hidden so that it cannot be worked out); k = 1 hides nothing. Totals are always shown.
    k: int = field(default=5, metadata={"parse": parse_k})
    # One consultation: a conversation, or each day she wrote in one ("conversation_day").
    consultation_unit: Unit = "conversation"
    targets: Targets = field(default_factory=Targets, metadata={"parse": parse_report_targets})


@dataclass(frozen=True, slots=True, kw_only=True)
class RetentionConfig:
    # Bodies of messages in conversations closed this many days ago are emptied once a day by
    # the server and by `tsunagu purge-bodies` (the figures stay); 0: bodies are kept for ever.
    bodies_days: int = field(default=0, metadata={"min": 0})
