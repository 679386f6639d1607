"""The audit log as CSV (GET /api/audit.csv): the same filters as GET /api/audit, every matching
event newest first up to CSV_MAX_ROWS, streamed a page at a time.

For Excel in Japan: UTF-8 with a byte order mark, CRLF lines, times in the program's time zone
(ISO 8601 with its offset). The header, the kinds and the details are worded in `lang` (ja, the
default, or en) from the console's own table (static/i18n.js), so the words cannot drift from
the screen's. A cell that a spreadsheet would take for a formula is quoted with an apostrophe.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import tzinfo
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from aiohttp import web

from inbox.core.audit import AuditQuery
from inbox.core.errors import StorageError, ValidationError
from inbox.core.labels import Label
from inbox.core.model import Event
from inbox.web.api import Names
from inbox.web.audit import audit_query, audit_reader, audit_row
from inbox.web.server import SERVICES, Services

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
CSV_MAX_ROWS = 10_000  # then a last line says the rest was left out: narrow the filters
CSV_PAGE = 500
I18N = Path(str(resources.files("inbox") / "web" / "static" / "i18n.js"))
LANGS = ("ja", "en")
COLUMNS = ("id", "at", "actorId", "actor", "kind", "kindCode", "conversation", "details")
_ENTRY = re.compile(
    r'"((?:eventKind|audit|channel|report)\.[A-Za-z0-9_.]+)":\s*("(?:[^"\\]|\\.)*")'
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@cache
def words(lang: str) -> Mapping[str, str]:
    """The console's words in `lang` that the CSVs use (i18n.js: eventKind.*, audit.*,
    channel.*, report.*): its table for ja comes first in the file, then en's."""
    text = I18N.read_text(encoding="utf-8")
    ja, _, en = text.partition("\n  en: {")
    return {k: json.loads(v) for k, v in _ENTRY.findall(ja if lang == "ja" else en)}


def word(lang: str, key: str, fallback: str, **params: object) -> str:
    found = words(lang).get(key, fallback)
    for name, value in params.items():
        found = found.replace(f"{{{name}}}", str(value))
    return found


def details_text(details: Mapping[str, Any], lang: str, outcomes: Sequence[Label]) -> str:
    """The details of an audit row in words, as the screen shows them."""
    parts: list[str] = []

    def add(key: str, value: object) -> None:
        parts.append(word(lang, f"audit.detail.{key}", f"{key}: {{value}}", value=value))

    if (name := details.get("user_name")) or "user_id" in details:
        add("user", name or details["user_id"])
    if (name := details.get("from_name")) or "from_user_id" in details:
        add("from", name or details["from_user_id"])
    if channel := details.get("channel"):
        add("channel", word(lang, f"channel.{channel}", channel))
    if outcome := details.get("outcome"):
        label = next((o for o in outcomes if o.id == outcome), None)
        add("outcome", outcome if label is None else (label.ja if lang == "ja" else label.en))
    if anonymity := details.get("anonymity"):
        add("anonymity", anonymity)
    if fields := details.get("fields"):
        add("fields", ", ".join(fields))
    if reason := details.get("reason"):
        add("reason", reason)
    if export := details.get("export"):
        add("export", word(lang, f"audit.export.{export}", export))
    if period := details.get("period"):
        add("period", period)
    if "messages" in details:
        add("messages", details["messages"])
    return " / ".join(parts)


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


class CsvRows:
    """Formats events as CSV lines in one language and time zone."""

    def __init__(
        self, *, lang: str, names: Names, sees_cases: bool, tz: tzinfo, outcomes: Sequence[Label]
    ) -> None:
        self._lang, self._names, self._sees_cases = lang, names, sees_cases
        self._tz, self._outcomes = tz, outcomes
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")

    def _take(self) -> bytes:
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text.encode("utf-8")

    def header(self) -> bytes:
        self._writer.writerow([word(self._lang, f"audit.csv.{c}", c) for c in COLUMNS])
        return b"\xef\xbb\xbf" + self._take()

    def rows(self, events: Sequence[Event]) -> bytes:
        system = word(self._lang, "audit.system", "")
        for e in events:
            row = audit_row(e, self._names, sees_cases=self._sees_cases)
            self._writer.writerow(
                safe_cell(v)
                for v in (
                    e.id,
                    e.at.astimezone(self._tz).isoformat(timespec="seconds"),
                    e.actor_id,
                    row["actor_name"] or ("" if e.actor_id else system),
                    word(self._lang, f"eventKind.{e.kind}", e.kind),
                    e.kind,
                    e.conversation_id,
                    details_text(row["details"], self._lang, self._outcomes),
                )
            )
        return self._take()

    def cut(self) -> bytes:
        note = word(self._lang, "audit.csv.cut", "more rows were left out", n=CSV_MAX_ROWS)
        self._writer.writerow([note])
        return self._take()


def _lang(request: web.Request) -> str:
    lang = request.query.get("lang", "ja")
    if lang not in LANGS:
        raise ValidationError("ja or en", field="lang")
    return lang


@routes.get("/api/audit.csv")
async def audit_csv(request: web.Request) -> web.StreamResponse:
    sees_cases, names = await audit_reader(request)
    services = request.app[SERVICES]
    settings = services.settings
    query = audit_query(request, limit=CSV_PAGE, sees_cases=sees_cases)
    if query.before_id is not None:
        raise ValidationError("the CSV is the whole log the filters select", field="before")
    lang = _lang(request)
    lines = CsvRows(
        lang=lang,
        names=names,
        sees_cases=sees_cases,
        tz=settings.timezone,
        outcomes=settings.outcomes,
    )
    # Errors (a bad filter, the database away) must come before the first byte: read a page first.
    page = await services.store.audit_events(query)
    stamp = services.clock().astimezone(settings.timezone).strftime("%Y%m%d-%H%M")
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="audit-{stamp}.csv"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        }
    )
    await response.prepare(request)
    try:
        await _stream(response, lines, services, query, page)
    except StorageError as exc:
        # The head and some rows are out, so no error answer can follow: cut the connection,
        # and the download fails instead of ending as a file that looks whole.
        log.error("audit CSV cut short", exc_info=True, extra={"action": "audit_csv_failed"})
        raise ConnectionAbortedError("the database failed while the CSV was sent") from exc
    await response.write_eof()
    return response


async def _stream(
    response: web.StreamResponse,
    lines: CsvRows,
    services: Services,
    query: AuditQuery,
    page: list[Event],
) -> None:
    await response.write(lines.header())
    written = 0
    while page:
        room = CSV_MAX_ROWS - written
        await response.write(lines.rows(page[:room]))
        written += min(len(page), room)
        if written >= CSV_MAX_ROWS:
            if len(page) > room or await _more(services, query, page[room - 1].id):
                await response.write(lines.cut())
            return
        if len(page) < query.limit:
            return
        page = await services.store.audit_events(replace(query, before_id=page[-1].id))


async def _more(services: Services, query: AuditQuery, last_id: int) -> bool:
    return bool(await services.store.audit_events(replace(query, before_id=last_id, limit=1)))


def add_routes(app: web.Application) -> None:
    app.router.add_routes(routes)
