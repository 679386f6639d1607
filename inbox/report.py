"""The grant report of a period, built as every export shows it: the facts counted by the store
(storage.report), assembled with [report]'s k, unit and targets (inbox.core.report)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from inbox.core.casework import DEFAULT_TOPICS
from inbox.core.labels import Label
from inbox.core.report import ReportRules, build, period_of
from inbox.core.report_facts import REACHED_BY_DEFAULT, FactsQuery
from inbox.report_config import ReportConfig
from storage.roles import ReportStore


async def build_report(
    store: ReportStore,
    first: date,
    last: date,
    config: ReportConfig,
    *,
    topics: Sequence[Label] = DEFAULT_TOPICS,
    reached: tuple[str, ...] = REACHED_BY_DEFAULT,
) -> dict[str, Any]:
    """The report of the days `first` to `last` (inclusive, Tokyo) as its JSON."""
    fiscal_year = period_of(first, last)
    facts = await store.report_facts(
        FactsQuery(first, last, config.consultation_unit, reached=reached)
    )
    rules = ReportRules(
        k=config.k,
        unit=config.consultation_unit,
        targets=config.targets.of(fiscal_year),
        topics=tuple(topics),
    )
    return build(facts, first, last, rules, fiscal_year=fiscal_year)
