"""The grant report, assembled from the facts the store counted (inbox.core.report_facts has the
counting rules): the figures by month with their totals, targets and 達成率, the breakdowns
(age groups, topics, agency kinds), satisfaction, and the words of every id, as the JSON of
GET /api/report (report_json.md) that the screen, the CSV and the print view all show.

Small cells (inbox.core.suppression): a count below k in a month or a breakdown carries no value,
only its mark, and complementary cells are hidden so that none can be worked out from what is
shown and the totals: each group of figures that adds up (the consultations by channel and
month, the referrals by kind and month) is one table, every other figure one line, each
breakdown one line, the survey's answers one line with the top two. The figures' totals (the
program's) are never hidden, nor the number who answered the survey and the top two.

Pure: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from inbox.core.casework import (
    ACTIVITY_KINDS,
    AGE_GROUPS,
    AGENCY_KINDS,
    DEFAULT_TOPICS,
    REFERRAL_KINDS,
    SATISFIED,
    SURVEY_ANSWERS,
    UNKNOWN_AGE,
)
from inbox.core.fiscal import fiscal_year_bounds, fiscal_year_names, fiscal_year_of, months_between
from inbox.core.labels import Label
from inbox.core.report_facts import CHANNELS, FIGURE_IDS, TOTAL, Facts, Unit
from inbox.core.report_figures import achievement, share
from inbox.core.suppression import Constraint, Table, suppress

SMALL, COMPLEMENTARY = "small", "complementary"

CHANNEL_LABELS: dict[str, tuple[str, str]] = {
    "webchat": ("チャット", "Web chat"),
    "mail": ("メール", "E-mail"),
    "sms": ("SMS", "SMS"),
    "phone": ("電話", "Phone"),
    "line": ("LINE", "LINE"),
}
FIGURE_LABELS: dict[str, tuple[str, str]] = {
    "consultations": ("相談件数（延べ）", "Consultations"),
    **{f"consultations.{c}": words for c, words in CHANNEL_LABELS.items()},
    "consulters": ("相談者数（実人数）", "Consulters (distinct people)"),
    "new_consulters": ("新規相談者数", "New consulters"),
    "referrals": ("連携件数", "Referrals"),
    **{f"referrals.{k.id}": (k.ja, k.en) for k in REFERRAL_KINDS},
    **{f"activities.{k.id}": (f"{k.ja}（回）", f"{k.en} (times)") for k in ACTIVITY_KINDS},
    "activity_people": ("活動で会った人数", "People met in activities"),
    "activity_new_people": ("うち初めての人", "Of whom new"),
    "line_friends_added": ("LINE友だち追加", "LINE friends added"),
    "line_friends_lost": ("LINEブロック", "LINE friends lost (blocked)"),
    "survey_answered": ("アンケート回答数", "Survey answers"),
}
GROUPS = {
    "consultations": "consultations",
    "consulters": "consulters",
    "new_consulters": "consulters",
    "referrals": "referrals",
    "activity_people": "activities",
    "activity_new_people": "activities",
    "line_friends_added": "line",
    "line_friends_lost": "line",
    "survey_answered": "survey",
}
# Figures whose months do not add up to the total: a person is one in the year however many
# months she consulted in.
NOT_ADDITIVE = frozenset({"consulters"})


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportRules:
    """How the report counts and hides: [report] of config.toml."""

    k: int = 5
    unit: Unit = "conversation"
    targets: Mapping[str, int] | None = None  # of the period's fiscal year (none: no targets)
    topics: Sequence[Label] = DEFAULT_TOPICS  # [casework] topics, in their order


# The counting rules as the report states them: the words' keys (the screen's i18n.js, which
# the CSV reads too), in order; the first depends on the unit.
RULE_WORDS = (
    "report.rule.call",
    "report.rule.consulters",
    "report.rule.new",
    "report.rule.months",
    "report.rule.referrals",
    "report.rule.activities",
    "report.rule.line",
    "report.rule.satisfaction",
    "report.rule.topics",
    "report.rule.small",
    "report.rule.complementary",
    "report.rule.facts",
)


def rule_words(unit: str) -> tuple[str, ...]:
    first = "report.rule.unitDay" if unit == "conversation_day" else "report.rule.unit"
    return (first, *RULE_WORDS)


def cell(value: int, mark: str) -> dict[str, Any]:
    """A CELL of the JSON: a hidden one carries no value at all."""
    return {"value": value} if not mark else {"value": None, "mark": mark}


class _Cells:
    """The report's numbers by name, and the tables they are suppressed in."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.values: dict[str, int] = {}
        self.marks: dict[str, str] = {}

    def table(
        self,
        values: Mapping[str, int],
        sums: Sequence[tuple[str, Sequence[str]]],
        protected: Sequence[str],
    ) -> None:
        """Suppress one table: its cells, its constraints (total = sum of parts), the cells
        never hidden."""
        self.values.update(values)
        constraints = tuple(Constraint(total, tuple(parts)) for total, parts in sums)
        table = Table(dict(values), constraints, frozenset(protected))
        # a small cell a shown total would give away (a month of 1 in a year of 1) is hidden
        # with a zero beside it, both "<5" (inbox.core.suppression)
        self.marks.update({name: mark for name, mark in suppress(table, self.k).items() if mark})

    def json(self, name: str) -> dict[str, Any]:
        return cell(self.values[name], self.marks.get(name, ""))


def _at(figure: str, month: str) -> str:
    return f"{figure}@{month}"


def build(
    facts: Facts, first: date, last: date, rules: ReportRules, *, fiscal_year: int | None = None
) -> dict[str, Any]:
    """The report of the days `first` to `last` (inclusive) as JSON (report_json.md).
    `fiscal_year`: the year the period is (its targets and names), None for other periods."""
    months = months_between(first, last)
    cells = _Cells(rules.k)

    def month_values(figure: str, key: str | None = None) -> dict[str, int]:
        return {_at(figure, m): facts.get((key or figure, m), 0) for m in months}

    def grid(total: str, parts: Sequence[str]) -> None:
        """A figure that is the sum of its parts, month by month."""
        values: dict[str, int] = {}
        sums: list[tuple[str, list[str]]] = []
        for part in parts:
            row = month_values(part)
            values |= row
            values[_at(part, TOTAL)] = sum(row.values())
            sums.append((_at(part, TOTAL), list(row)))
        for m in months:
            values[_at(total, m)] = sum(values[_at(p, m)] for p in parts)
            sums.append((_at(total, m), [_at(p, m) for p in parts]))
        values[_at(total, TOTAL)] = sum(values[_at(p, TOTAL)] for p in parts)
        sums.append((_at(total, TOTAL), [_at(total, m) for m in months]))
        protected = [_at(f, TOTAL) for f in (total, *parts)]
        cells.table(values, sums, protected)

    def line(figure: str, total: int | None = None) -> None:
        row = month_values(figure)
        additive = total is None
        values = row | {_at(figure, TOTAL): sum(row.values()) if total is None else total}
        sums = [(_at(figure, TOTAL), list(row))] if additive else []
        cells.table(values, sums, [_at(figure, TOTAL)])

    grid("consultations", [f"consultations.{c}" for c in CHANNELS])
    line("consulters", total=facts.get(("consulters", TOTAL), 0))
    line("new_consulters")
    grid("referrals", [f"referrals.{k.id}" for k in REFERRAL_KINDS])
    for kind in ACTIVITY_KINDS:
        line(f"activities.{kind.id}")
    line("activity_people")
    line("activity_new_people")
    line("line_friends_added")
    line("line_friends_lost")
    row = {
        _at("survey_answered", m): sum(facts.get((f"survey.{a.id}", m), 0) for a in SURVEY_ANSWERS)
        for m in months
    }
    cells.table(
        row | {_at("survey_answered", TOTAL): sum(row.values())},
        [(_at("survey_answered", TOTAL), list(row))],
        [_at("survey_answered", TOTAL)],
    )

    targets = dict(rules.targets or {}) if fiscal_year is not None else {}
    figures = []
    for figure in FIGURE_IDS:
        total = cells.values[_at(figure, TOTAL)]
        target = targets.get(figure)
        rate = achievement(target, total)
        figures.append(
            {
                "id": figure,
                "group": GROUPS.get(figure, figure.split(".")[0]),
                "months": [cells.json(_at(figure, m)) for m in months],
                "total": cells.json(_at(figure, TOTAL)),
                "target": target,
                "achievement": None if rate is None else float(rate),
                "additive": figure not in NOT_ADDITIVE,
            }
        )

    topics = _with_unknown(rules.topics, facts, "topic")  # a topic since taken off the list
    agencies = _with_unknown(AGENCY_KINDS, facts, "agency")
    breakdowns = [
        _breakdown(cells, "age_groups", "age", AGE_GROUPS, facts),
        # a consultation may have several topics, or none: the total is the topics counted
        _breakdown(cells, "topics", "topic", topics, facts),
        _breakdown(cells, "agencies", "agency", agencies, facts),
    ]

    answers = {a.id: facts_total(facts, f"survey.{a.id}", months) for a in SURVEY_ANSWERS}
    answered = sum(answers.values())
    top_two = sum(n for a, n in answers.items() if int(a) in SATISFIED)
    names = {f"survey:{a}": n for a, n in answers.items()}
    cells.table(
        names | {"survey:answered": answered, "survey:top_two": top_two},
        [
            ("survey:answered", list(names)),
            ("survey:top_two", [f"survey:{a}" for a in answers if int(a) in SATISFIED]),
        ],
        ["survey:answered", "survey:top_two"],
    )
    satisfaction = {
        "answered": answered,
        "top_two": top_two,
        "share": None if (rate := share(top_two, answered)) is None else float(rate),
        "answers": [{"id": a, "value": cells.json(f"survey:{a}")} for a in answers],
    }

    fy_names = None if fiscal_year is None else fiscal_year_names(fiscal_year)
    labels: dict[str, dict[str, str]] = {
        figure: {"ja": ja, "en": en} for figure, (ja, en) in FIGURE_LABELS.items()
    }
    for item in (*AGE_GROUPS, *topics, *agencies):
        labels.setdefault(item.id, {"ja": item.ja, "en": item.en})
    for answer in SURVEY_ANSWERS:
        labels[f"survey.{answer.id}"] = {"ja": answer.ja, "en": answer.en}
    return {
        "period": {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "fiscal_year": fiscal_year,
            "names": None if fy_names is None else {"ja": fy_names.ja, "en": fy_names.en},
        },
        "rules": {"unit": rules.unit, "k": rules.k, "words": list(rule_words(rules.unit))},
        "months": months,
        "figures": figures,
        "breakdowns": breakdowns,
        "satisfaction": satisfaction,
        "labels": labels,
    }


def _with_unknown(labels: Sequence[Label], facts: Facts, prefix: str) -> list[Label]:
    """The labels, then any id counted that is not among them (named by its id)."""
    known = {label.id for label in labels}
    found = sorted(
        key.removeprefix(f"{prefix}.")
        for key, month in facts
        if key.startswith(f"{prefix}.") and month == TOTAL
    )
    return [*labels, *(Label(id=i, ja=i, en=i) for i in found if i not in known)]


def facts_total(facts: Facts, key: str, months: Sequence[str]) -> int:
    return sum(facts.get((key, m), 0) for m in months)


def _breakdown(
    cells: _Cells, name: str, prefix: str, items: Sequence[Label], facts: Facts
) -> dict[str, Any]:
    """One breakdown over the period: its items, and their sum as its total (never hidden)."""
    values = {f"{name}:{item.id}": facts.get((f"{prefix}.{item.id}", TOTAL), 0) for item in items}
    total = f"{name}:total"
    cells.table(values | {total: sum(values.values())}, [(total, list(values))], [total])
    return {
        "id": name,
        "total": cells.json(f"{name}:total"),
        "items": [{"id": item.id, "value": cells.json(f"{name}:{item.id}")} for item in items],
    }


def period_of(first: date, last: date) -> int | None:
    """The fiscal year the period is exactly (April 1 to March 31), else None."""
    year = fiscal_year_of(first)
    return year if fiscal_year_bounds(year) == (first, last) else None


__all__ = ["UNKNOWN_AGE", "ReportRules", "build", "cell", "period_of"]
