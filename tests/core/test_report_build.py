"""The report assembled from counted facts (inbox.core.report.build), without I/O: totals are
never hidden, a small month carries no value, a small cell that a shown total would give away
(every other month 0) is hidden with a zero beside it, and no hidden cell of the built report
can be worked out by a reader of the JSON (the brute-force reader of test_suppression), but
what the shown totals alone give away."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from inbox.core.casework import AGE_GROUPS, SATISFIED, SURVEY_ANSWERS
from inbox.core.fiscal import months_between
from inbox.core.report import ReportRules, build
from inbox.core.report_facts import CHANNELS, TOTAL
from inbox.core.suppression import Constraint, Mark, Table
from tests.core.test_suppression import _has_two_values, _widest

FIRST, LAST = date(2025, 4, 1), date(2026, 3, 31)


def figure(report: dict[str, Any], figure_id: str) -> dict[str, Any]:
    return next(f for f in report["figures"] if f["id"] == figure_id)


def test_a_small_month_that_the_total_would_give_away_is_hidden_with_a_zero() -> None:
    # one outreach visit in the whole year, in December: "<5" beside eleven 0s and a total of 1
    # would say it is 1; with a second month "<5" the 1 could be in either
    facts = {("activities.outreach", "2025-12"): 1, ("consultations.line", "2025-05"): 40}
    report = build(facts, FIRST, LAST, ReportRules(k=5), fiscal_year=2025)
    outreach = figure(report, "activities.outreach")
    assert outreach["total"] == {"value": 1}  # a program total: never hidden
    assert outreach["months"][8] == {"value": None, "mark": "small"}
    hidden = [m for m in outreach["months"] if m["value"] is None]
    assert hidden == [{"value": None, "mark": "small"}] * 2
    assert [m for m in outreach["months"] if m["value"] is not None] == [{"value": 0}] * 10
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


# ---------------------------------------------------------------------------------------------
# Property: what the built report hides, a reader of its JSON cannot work out.

MONTHS = months_between(FIRST, LAST)


def _reader_tables(facts: dict[tuple[str, str], int]) -> list[Table]:
    """The tables a reader of the report knows, written out from the facts independently of
    build(): the consultations by channel and month with every margin, one line per figure,
    the age groups under their total, the survey's answers under the answered and the top two."""

    def count(key: str, month: str) -> int:
        return facts.get((key, month), 0)

    grid: dict[str, int] = {}
    constraints = []
    for c in CHANNELS:
        for m in MONTHS:
            grid[f"consultations.{c}@{m}"] = count(f"consultations.{c}", m)
        grid[f"consultations.{c}@{TOTAL}"] = sum(count(f"consultations.{c}", m) for m in MONTHS)
        parts = tuple(f"consultations.{c}@{m}" for m in MONTHS)
        constraints.append(Constraint(f"consultations.{c}@{TOTAL}", parts))
    for m in MONTHS:
        grid[f"consultations@{m}"] = sum(grid[f"consultations.{c}@{m}"] for c in CHANNELS)
        parts = tuple(f"consultations.{c}@{m}" for c in CHANNELS)
        constraints.append(Constraint(f"consultations@{m}", parts))
    grid[f"consultations@{TOTAL}"] = sum(grid[f"consultations@{m}"] for m in MONTHS)
    constraints.append(
        Constraint(f"consultations@{TOTAL}", tuple(f"consultations@{m}" for m in MONTHS))
    )
    totals = {f"consultations@{TOTAL}", *(f"consultations.{c}@{TOTAL}" for c in CHANNELS)}
    tables = [Table(grid, tuple(constraints), frozenset(totals))]

    line = {f"activities.outreach@{m}": count("activities.outreach", m) for m in MONTHS}
    line[f"activities.outreach@{TOTAL}"] = sum(line.values())
    months = tuple(f"activities.outreach@{m}" for m in MONTHS)
    total = f"activities.outreach@{TOTAL}"
    tables.append(Table(line, (Constraint(total, months),), frozenset({total})))

    ages = {f"age:{a.id}": count(f"age.{a.id}", TOTAL) for a in AGE_GROUPS}
    ages["age:total"] = sum(ages.values())
    tables.append(
        Table(ages, (Constraint("age:total", tuple(ages)[:-1]),), frozenset({"age:total"}))
    )

    answers = {
        f"survey:{a.id}": sum(count(f"survey.{a.id}", m) for m in MONTHS) for a in SURVEY_ANSWERS
    }
    top = tuple(f"survey:{a.id}" for a in SURVEY_ANSWERS if int(a.id) in SATISFIED)
    survey = answers | {"answered": sum(answers.values()), "top": sum(answers[n] for n in top)}
    tables.append(
        Table(
            survey,
            (Constraint("answered", tuple(answers)), Constraint("top", top)),
            frozenset({"answered", "top"}),
        )
    )
    return tables


def _shown_marks(report: dict[str, Any]) -> dict[str, Mark]:
    """Every cell's mark as the JSON shows it, named as in _reader_tables."""
    marks: dict[str, Mark] = {}
    for f in report["figures"]:
        for m, value in zip(report["months"], f["months"], strict=True):
            marks[f"{f['id']}@{m}"] = value.get("mark", "")
        marks[f"{f['id']}@{TOTAL}"] = f["total"].get("mark", "")
    ages = next(b for b in report["breakdowns"] if b["id"] == "age_groups")
    marks |= {f"age:{i['id']}": i["value"].get("mark", "") for i in ages["items"]}
    marks["age:total"] = ages["total"].get("mark", "")
    answers = report["satisfaction"]["answers"]
    marks |= {f"survey:{a['id']}": a["value"].get("mark", "") for a in answers}
    return marks


def _sparse_counts(keys: list[str]) -> st.SearchStrategy[dict[tuple[str, str], int]]:
    """A few counts, mostly small, in a year of months: the cells suppression must protect."""
    cells = st.tuples(st.sampled_from(keys), st.sampled_from([*MONTHS]))
    return st.dictionaries(cells, st.one_of(st.integers(1, 6), st.integers(0, 40)), max_size=8)


@settings(max_examples=40, deadline=None)
@given(
    monthly=_sparse_counts(
        [*(f"consultations.{c}" for c in CHANNELS), "activities.outreach"]
        + [f"survey.{a.id}" for a in SURVEY_ANSWERS]
    ),
    ages=st.dictionaries(
        st.sampled_from([a.id for a in AGE_GROUPS]), st.integers(0, 12), max_size=4
    ),
    k=st.sampled_from([3, 5]),
)
def test_no_hidden_cell_of_the_report_can_be_worked_out(
    monthly: dict[tuple[str, str], int], ages: dict[str, int], k: int
) -> None:
    facts = dict(monthly) | {(f"age.{a}", TOTAL): n for a, n in ages.items()}
    report = build(facts, FIRST, LAST, ReportRules(k=k), fiscal_year=2025)
    marks = _shown_marks(report)
    for table in _reader_tables(facts):
        shown = {name: marks[name] for name in table.values if name in marks}
        for name, mark in shown.items():
            value = table.values[name]
            if name in table.protected:
                assert mark == "", name  # the program's totals are never hidden
                continue
            assert (mark != "") >= (0 < value < k), name  # every small cell is hidden
            if mark:
                assert (value < k) == (mark == "small"), name
                # only what the shown totals give away whatever is hidden (two answers of 2
                # when k = 3 under a top two of 4) may be worked out
                assert _has_two_values(table, shown, k, name) or not _has_two_values(
                    table, _widest(table, k), k, name
                ), name
