"""The grant report over HTTP: its JSON (GET /api/report, report_json.md), its CSV
(GET /api/report.csv) and the record of a printed copy (POST /api/report/exports).

Supervisors and admins read it (decided here, on the server). No consulter's alias, id or text
is in any of it: only counts, and a count below [report] k is sent without its value. Each
export (the CSV, a print) is an audited event (report_exported: who, which export, which days).

The CSV is for Excel in Japan: UTF-8 with a byte order mark, CRLF lines, its words in `lang`
(ja, the default, or en) from the console's own table (static/i18n.js), hidden cells written as
the screen writes them ("5未満" / "<5", "秘匿" / "x"), and the counting rules at its end.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from aiohttp import web

from inbox.commands.report import EXPORT_KINDS, ExportKind
from inbox.core.errors import ValidationError
from inbox.core.fiscal import fiscal_year_bounds, fiscal_year_of
from inbox.core.model import Role
from inbox.core.report_facts import TOKYO
from inbox.report import build_report
from inbox.web.access import require
from inbox.web.audit_csv import LANGS, safe_cell, word
from inbox.web.server import SERVICES, json_body, parse_id, query_date

routes = web.RouteTableDef()
REPORT_ROLES = (Role.SUPERVISOR, Role.ADMIN)
MAX_DAYS = 366 * 5  # a period of at most five years: 60 months across a page
BOM = "\ufeff"
# The CSV's few words that the screen words otherwise (a sentence there, a cell here).
CSV_WORDS = {
    "answered": ("回答数", "Answered"),
    "top_two": ("「満足」「やや満足」", "Satisfied or somewhat satisfied"),
    "share": ("割合（%）", "Share (%)"),
}


def _days(first: date | None, last: date | None, today: date) -> tuple[date, date]:
    if first is None and last is None:
        return fiscal_year_bounds(fiscal_year_of(today))
    if first is None or last is None:
        raise ValidationError(
            "both from and to, or neither", field="from" if first is None else "to"
        )
    if last < first:
        raise ValidationError("the last day is before the first (from)", field="to")
    if (last - first).days >= MAX_DAYS:
        raise ValidationError(f"a period of at most {MAX_DAYS} days", field="to")
    return first, last


def report_days(request: web.Request) -> tuple[date, date]:
    """`fy=2025` (April to March), or `from` and `to` (Tokyo days, inclusive); neither: the
    current fiscal year in Tokyo."""
    first, last = query_date(request, "from"), query_date(request, "to")
    raw = request.query.get("fy", "")
    if raw:
        if first is not None or last is not None:
            raise ValidationError("either fy, or from and to", field="fy")
        year = parse_id(raw)
        if year is None or not 1900 <= year <= 8999:
            raise ValidationError("a fiscal year such as 2025 (the year of its April)", field="fy")
        return fiscal_year_bounds(year)
    today = request.app[SERVICES].clock().astimezone(TOKYO).date()
    return _days(first, last, today)


async def _report(request: web.Request, first: date, last: date) -> dict[str, Any]:
    services = request.app[SERVICES]
    settings = services.settings
    return await build_report(
        services.store,
        first,
        last,
        settings.report,
        topics=settings.casework.topics,
        reached=tuple(o.id for o in settings.phone.outcomes if o.reached),
    )


@routes.get("/api/report")
async def report(request: web.Request) -> web.Response:
    await require(request, *REPORT_ROLES)
    first, last = report_days(request)
    found = await _report(request, first, last)
    return web.json_response(found, headers={"Cache-Control": "no-store"})


def cell_text(cell: dict[str, Any], k: int, lang: str) -> str:
    """A CELL as the screen writes it: its number, or its mark in words."""
    match cell.get("mark"):
        case "small":
            return word(lang, "report.small", "<{k}", k=k)
        case "complementary":
            return word(lang, "report.complementary", "x")
    return str(cell["value"])


def month_heading(month: str, lang: str) -> str:
    year, number = month.split("-")
    return f"{year}年{int(number)}月" if lang == "ja" else month


def _words(labels: dict[str, dict[str, str]], key: str, lang: str) -> str:
    found = labels.get(key)
    return key if found is None else found[lang]


def report_csv(found: dict[str, Any], lang: str) -> bytes:
    """The report as CSV rows: the figures by month, each breakdown, satisfaction, the rules."""
    k, labels = found["rules"]["k"], found["labels"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")

    def row(*cells: object) -> None:
        writer.writerow([safe_cell(c) for c in cells])

    period, names = found["period"], found["period"]["names"]
    title = word(lang, "report.sheetTitle", "Program report")
    if names is not None:
        title = word(lang, "report.sheetTitleFy", "{name}", name=names[lang])
    row(title)
    row(word(lang, "report.range", "{from} - {to}", **{"from": period["from"], "to": period["to"]}))
    row(
        word(lang, "report.col.figure", "Figure"),
        *(month_heading(m, lang) for m in found["months"]),
        word(lang, "report.col.total", "Total"),
        word(lang, "report.col.target", "Target"),
        word(lang, "report.col.achievement", "Achieved"),
    )
    for figure in found["figures"]:
        name = _words(labels, figure["id"], lang) + ("" if figure["additive"] else " *")
        row(
            name,
            *(cell_text(c, k, lang) for c in figure["months"]),
            cell_text(figure["total"], k, lang),
            "" if figure["target"] is None else figure["target"],
            "" if figure["achievement"] is None else f"{figure['achievement']:.1f}",
        )
    for breakdown in found["breakdowns"]:
        row()
        row(
            word(lang, f"report.breakdown.{breakdown['id']}", breakdown["id"]),
            word(lang, "report.col.count", "Count"),
        )
        for item in breakdown["items"]:
            row(_words(labels, item["id"], lang), cell_text(item["value"], k, lang))
        row(word(lang, "report.col.total", "Total"), cell_text(breakdown["total"], k, lang))
    satisfaction = found["satisfaction"]
    row()
    row(word(lang, "report.satisfaction", "Satisfaction"), word(lang, "report.col.count", "Count"))
    for answer in satisfaction["answers"]:
        row(_words(labels, f"survey.{answer['id']}", lang), cell_text(answer["value"], k, lang))
    index = LANGS.index(lang)
    row(CSV_WORDS["answered"][index], satisfaction["answered"])
    row(CSV_WORDS["top_two"][index], satisfaction["top_two"])
    row(CSV_WORDS["share"][index], "" if satisfaction["share"] is None else satisfaction["share"])
    row()
    row(word(lang, "report.rules", "How the figures are counted"))
    for key in found["rules"]["words"]:
        row(word(lang, key, key, k=k))
    return (BOM + out.getvalue()).encode("utf-8")


def _lang(request: web.Request) -> str:
    lang = request.query.get("lang", "ja")
    if lang not in LANGS:
        raise ValidationError("ja or en", field="lang")
    return lang


@routes.get("/api/report.csv")
async def report_csv_file(request: web.Request) -> web.Response:
    user = await require(request, *REPORT_ROLES)
    first, last = report_days(request)
    lang = _lang(request)
    body = report_csv(await _report(request, first, last), lang)
    # recorded once the file is made, before a byte of it is sent
    await request.app[SERVICES].commands.report.exported("csv", first, last, actor=user.id)
    name = f"report-{first.isoformat()}-{last.isoformat()}.csv"
    return web.Response(
        body=body,
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _body_day(data: dict[str, Any], name: str) -> date:
    raw = data.get(name)
    try:
        day = date.fromisoformat(raw) if isinstance(raw, str) and len(raw) == 10 else None
    except ValueError:
        day = None
    if day is None or not 1900 <= day.year <= 9000:
        raise ValidationError("a date as YYYY-MM-DD (years 1900 to 9000)", field=name)
    return day


@routes.post("/api/report/exports")
async def report_export(request: web.Request) -> web.Response:
    """A copy of the report taken out otherwise than as the CSV (printed: kind "print"),
    recorded for the audit log before the page prints it."""
    user = await require(request, *REPORT_ROLES)
    data = await json_body(request)
    kind = data.get("kind")
    if kind not in EXPORT_KINDS or kind == "csv":
        raise ValidationError("print (the CSV records itself)", field="kind")
    first, last = _body_day(data, "from"), _body_day(data, "to")
    first, last = _days(first, last, first)
    export: ExportKind = "print"
    await request.app[SERVICES].commands.report.exported(export, first, last, actor=user.id)
    return web.json_response(
        {"kind": export, "from": first.isoformat(), "to": last.isoformat()}, status=201
    )


def add_routes(app: web.Application) -> None:
    app.router.add_routes(routes)
