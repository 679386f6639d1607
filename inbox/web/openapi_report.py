"""The grant report's part of the OpenAPI document (inbox.web.report): its JSON as
report_json.md has it, the CSV, and the record of a print. Only counts: no consulter's alias,
id or text; a hidden cell carries no value."""

from __future__ import annotations

from inbox.core.report_facts import UNITS
from inbox.web.openapi_parts import Schema, nullable, obj, operation, param

_COUNT: Schema = {"type": "integer", "minimum": 0}
_DAY: Schema = {"type": "string", "format": "date", "examples": ["2025-04-01"]}
_PERCENT: Schema = {"type": "number", "minimum": 0}
WORDS = obj(("ja", "en"), ja={"type": "string"}, en={"type": "string"})
# A count, or a hidden one: "small" under k, "complementary" hidden so no small one can be
# worked out; a hidden cell has value null.
CELL = obj(
    ("value",),
    value=nullable(_COUNT),
    mark={"type": "string", "enum": ["small", "complementary"]},
)
FIGURE = obj(
    ("id", "group", "months", "total", "target", "achievement", "additive"),
    id={"type": "string"},
    group={"type": "string"},
    months={"type": "array", "items": CELL},
    total=CELL,
    target=nullable(_COUNT),
    achievement=nullable(_PERCENT),
    additive={"type": "boolean"},
)
ITEM = obj(("id", "value"), id={"type": "string"}, value=CELL)
REPORT = obj(
    ("period", "rules", "months", "figures", "breakdowns", "satisfaction", "labels"),
    period=obj(
        ("from", "to", "fiscal_year", "names"),
        **{"from": _DAY, "to": _DAY},
        fiscal_year=nullable({"type": "integer"}),
        names=nullable(WORDS),
    ),
    rules=obj(
        ("unit", "k", "words"),
        unit={"type": "string", "enum": list(UNITS)},
        k={"type": "integer", "minimum": 1},
        # the counting rules as the report states them: keys of the screen's words (i18n.js)
        words={"type": "array", "items": {"type": "string"}},
    ),
    months={"type": "array", "items": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}},
    figures={"type": "array", "items": FIGURE},
    breakdowns={
        "type": "array",
        "items": obj(
            ("id", "total", "items"),
            id={"type": "string", "enum": ["age_groups", "topics", "agencies"]},
            total=CELL,
            items={"type": "array", "items": ITEM},
        ),
    },
    satisfaction=obj(
        ("answered", "top_two", "share", "answers"),
        answered=_COUNT,
        top_two=_COUNT,
        share=nullable(_PERCENT),
        answers={"type": "array", "items": ITEM},
    ),
    labels={"type": "object", "additionalProperties": WORDS},
)


def _query(name: str, description: str, schema: Schema) -> Schema:
    return param(name, "query", schema, required=False) | {"description": description}


PERIOD = (
    _query(
        "fy",
        "a fiscal year, April to March (not with from/to)",
        {"type": "integer", "minimum": 1900, "maximum": 8999, "examples": [2025]},
    ),
    _query("from", "the first day, Asia/Tokyo (with to)", _DAY),
    _query("to", "the last day, inclusive (with from)", _DAY),
)
EXPORT = obj(
    ("kind", "from", "to"),
    kind={"type": "string", "enum": ["print"]},
    **{"from": _DAY, "to": _DAY},
)


def _csv(summary: str, *, params: tuple[Schema, ...]) -> Schema:
    op = operation(summary, None, params=params, errors=(400, 401, 403, 503))
    op["responses"]["200"]["content"] = {"text/csv": {"schema": {"type": "string"}}}
    return op


REPORT_PATHS: dict[str, dict[str, Schema]] = {
    "/api/report": {
        "get": operation(
            "the grant report of a period (default: the current fiscal year, Asia/Tokyo): figures"
            " by month with totals, targets and achievement, breakdowns, satisfaction; counts"
            " under [report] k are sent without their value (supervisors and admins)",
            REPORT,
            params=PERIOD,
            errors=(400, 401, 403, 503),
        )
    },
    "/api/report.csv": {
        "get": _csv(
            "the same report as CSV (UTF-8 with BOM, CRLF; words in lang), recorded in the"
            " audit log as an export",
            params=(
                *PERIOD,
                param("lang", "query", {"type": "string", "enum": ["ja", "en"]}, required=False),
            ),
        )
    },
    "/api/report/exports": {
        "post": operation(
            "record a printed copy of the report of these days in the audit log (the page does"
            " before it prints)",
            EXPORT,
            status=201,
            body=EXPORT,
            errors=(401, 403, 503),
        )
    },
}
