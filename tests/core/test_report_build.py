"""The report assembled from counted facts (inbox.core.report.build), without I/O: totals are
never hidden, a small month carries no value, and a small cell that a shown total would give
away (every other month 0) is protected by hiding the zeros of its sums too."""

from __future__ import annotations

from datetime import date
from typing import Any

from inbox.core.report import ReportRules, build

FIRST, LAST = date(2025, 4, 1), date(2026, 3, 31)


def figure(report: dict[str, Any], figure_id: str) -> dict[str, Any]:
    return next(f for f in report["figures"] if f["id"] == figure_id)


def test_a_small_month_that_the_total_would_give_away_hides_its_zeros_too() -> None:
    # one outreach visit in the whole year, in December: "<5" beside eleven 0s and a total of 1
    # would say it is 1
    facts = {("activities.outreach", "2025-12"): 1, ("consultations.line", "2025-05"): 40}
    report = build(facts, FIRST, LAST, ReportRules(k=5), fiscal_year=2025)
    outreach = figure(report, "activities.outreach")
    assert outreach["total"] == {"value": 1}  # a program total: never hidden
    assert outreach["months"][8] == {"value": None, "mark": "small"}
    assert all(m["value"] is None for m in outreach["months"])  # nothing to subtract from
    # a figure whose small cells are safe keeps its zeros shown
    talks = figure(report, "consultations.line")
    assert talks["months"][1] == {"value": 40} and talks["months"][0] == {"value": 0}


def test_k_one_hides_nothing_and_totals_are_always_shown() -> None:
    facts = {("activities.outreach", "2025-12"): 1, ("new_consulters", "2025-04"): 2}
    report = build(facts, FIRST, LAST, ReportRules(k=1), fiscal_year=2025)
    for f in report["figures"]:
        assert all("mark" not in m for m in f["months"]), f["id"]
        assert f["total"]["value"] is not None
    assert figure(report, "activities.outreach")["months"][8] == {"value": 1}
    assert report["period"]["names"]["ja"] == "2025年度（令和7年度）"
