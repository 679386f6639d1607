"""The grant report over HTTP on a real server: GET /api/report of a desk whose figures are known
(tests/report_data.py), its fiscal year's names, targets and 達成率, small cells sent without
their value, the CSV (UTF-8 with BOM, CRLF) read back equal to the JSON in Japanese and English,
and each export (CSV, print) an audited event. The permission matrix has who may
(tests/web/test_permissions.py)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from inbox.core.audit import AuditQuery
from inbox.core.fiscal import fiscal_year_bounds, fiscal_year_of
from inbox.core.report_facts import TOKYO
from inbox.report_config import ReportConfig, Targets
from tests.report_data import build_desk
from tests.web.conftest import Site, make_config, served_site, sign_in

PERIOD = "from=2025-04-01&to=2025-05-31"
TARGETS = Targets(((2025, (("consultations", 10), ("referrals", 0))),))


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    cfg = make_config(tmp_path, report={"k": 1, "targets": TARGETS})
    async with served_site(cfg) as s:
        await build_desk(s.store)
        yield s


async def get(session: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
    async with session.get(url) as r:
        return r.status, await r.json()


def values(cells: list[dict[str, Any]]) -> list[int | None]:
    return [c["value"] for c in cells]


def by_id(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {item["id"]: item for item in items}


async def test_the_report_of_known_days_and_of_its_fiscal_year(site: Site) -> None:
    async with await sign_in(site.url, "boss") as boss:
        status, report = await get(boss, f"{site.url}/api/report?{PERIOD}")
        assert status == 200, report
        assert report["period"] == {
            "from": "2025-04-01",
            "to": "2025-05-31",
            "fiscal_year": None,
            "names": None,
        }
        assert report["rules"]["unit"] == "conversation" and report["rules"]["k"] == 1
        assert report["rules"]["words"][0] == "report.rule.unit"  # the screen's and CSV's
        assert report["months"] == ["2025-04", "2025-05"]
        figures = by_id(report["figures"])
        expected = {
            "consultations": [3, 5],
            "consultations.webchat": [0, 1],
            "consultations.mail": [1, 1],
            "consultations.sms": [0, 1],
            "consultations.phone": [1, 2],
            "consultations.line": [1, 0],
            "consulters": [3, 4],
            "new_consulters": [2, 1],
            "referrals": [2, 1],
            "referrals.information": [1, 0],
            "referrals.handover": [1, 0],
            "referrals.accompaniment": [0, 1],
            "activities.outreach": [2, 0],
            "activities.event": [0, 1],
            "activities.talk": [0, 0],
            "activity_people": [8, 20],
            "activity_new_people": [2, 10],
            "line_friends_added": [1, 1],
            "line_friends_lost": [0, 1],
            "survey_answered": [2, 2],
        }
        for figure, months in expected.items():
            assert values(figures[figure]["months"]) == months, figure
        assert figures["consulters"]["total"] == {"value": 5}  # not 3 + 4: one person, once
        assert figures["consulters"]["additive"] is False
        assert figures["consultations"]["total"] == {"value": 8}
        assert all(f["target"] is None and f["achievement"] is None for f in figures.values())
        breakdowns = by_id(report["breakdowns"])
        ages = {i["id"]: i["value"]["value"] for i in breakdowns["age_groups"]["items"]}
        assert ages == {
            "teens": 0, "20s": 2, "30s": 1, "40s": 1, "50s": 0, "60s": 0, "70s_plus": 0,
            "unknown": 1,
        }  # fmt: skip
        assert breakdowns["age_groups"]["total"] == {"value": 5}
        topics = {i["id"]: i["value"]["value"] for i in breakdowns["topics"]["items"]}
        assert (topics["dv"], topics["housing"], topics["poverty"], topics["work"]) == (2, 1, 1, 0)
        agencies = {i["id"]: i["value"]["value"] for i in breakdowns["agencies"]["items"]}
        assert (agencies["police"], agencies["npo"], agencies["shelter"]) == (2, 1, 0)
        assert report["satisfaction"] == {
            "answered": 4,
            "top_two": 3,
            "share": 75.0,
            "answers": [
                {"id": "1", "value": {"value": 2}},
                {"id": "2", "value": {"value": 1}},
                {"id": "3", "value": {"value": 0}},
                {"id": "4", "value": {"value": 1}},
            ],
        }
        assert report["labels"]["consultations"] == {
            "ja": "相談件数（延べ）",
            "en": "Consultations",
        }
        assert report["labels"]["20s"] == {"ja": "20代", "en": "20s"}
        assert report["labels"]["survey.1"] == {"ja": "満足", "en": "Satisfied"}
        # nothing of any consulter: no body, no alias
        text = json.dumps(report, ensure_ascii=False)
        assert "本文" not in text and "alias" not in text and "contact" not in text

        status, year = await get(boss, f"{site.url}/api/report?fy=2025")
        assert status == 200
        assert year["period"]["fiscal_year"] == 2025
        assert (year["period"]["from"], year["period"]["to"]) == ("2025-04-01", "2026-03-31")
        assert year["period"]["names"]["ja"].startswith("2025年度")
        assert len(year["months"]) == 12 and year["months"][-1] == "2026-03"
        yearly = by_id(year["figures"])
        # June counts in the year: conversation 7 opened on 1 June, Tokyo
        assert yearly["consultations"]["total"] == {"value": 9}
        assert (yearly["consultations"]["target"], yearly["consultations"]["achievement"]) == (
            10,
            90.0,
        )
        assert (yearly["referrals"]["target"], yearly["referrals"]["achievement"]) == (0, None)
        assert yearly["consulters"]["target"] is None

        # no period asked: the fiscal year of today in Tokyo, April to March
        before = fiscal_year_of(datetime.now(TOKYO).date())
        status, current = await get(boss, f"{site.url}/api/report")
        after = fiscal_year_of(datetime.now(TOKYO).date())
        assert status == 200 and current["period"]["fiscal_year"] in {before, after}
        first, last = fiscal_year_bounds(current["period"]["fiscal_year"])
        assert (current["period"]["from"], current["period"]["to"]) == (
            first.isoformat(),
            last.isoformat(),
        )
        assert first.month == 4 and first.day == 1 and len(current["months"]) == 12


def csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")
    text = body.decode("utf-8-sig")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    return list(csv.reader(io.StringIO(text, newline="")))


def cell_from(text: str, lang: str, k: int) -> dict[str, Any]:
    """A CSV cell back to the JSON's CELL."""
    small, hidden = (f"{k}未満", "秘匿") if lang == "ja" else (f"<{k}", "x")
    if text == small:
        return {"value": None, "mark": "small"}
    if text == hidden:
        return {"value": None, "mark": "complementary"}
    return {"value": int(text)}


def read_back(rows: list[list[str]], report: dict[str, Any], lang: str) -> None:
    """Every figure, breakdown and answer of the CSV equals the JSON's."""
    k, labels = report["rules"]["k"], report["labels"]
    head = next(i for i, r in enumerate(rows) if r[0] == ("項目" if lang == "ja" else "Figure"))
    assert len(rows[head]) == 1 + len(report["months"]) + 3
    body = {r[0].removesuffix(" *"): r for r in rows[head + 1 :] if r}
    for figure in report["figures"]:
        found = body[labels[figure["id"]][lang]]
        months = [cell_from(t, lang, k) for t in found[1 : 1 + len(report["months"])]]
        assert months == figure["months"], figure["id"]
        assert cell_from(found[-3], lang, k) == figure["total"]
        assert found[-2] == ("" if figure["target"] is None else str(figure["target"]))
        achieved = figure["achievement"]
        assert found[-1] == ("" if achieved is None else f"{achieved:.1f}")
    for breakdown in report["breakdowns"]:
        for item in breakdown["items"]:
            name = labels[item["id"]][lang]
            assert [cell_from(r[1], lang, k) for r in rows if r and r[0] == name][-1] == item[
                "value"
            ]
    for answer in report["satisfaction"]["answers"]:
        name = labels[f"survey.{answer['id']}"][lang]
        assert [cell_from(r[1], lang, k) for r in rows if r and r[0] == name] == [answer["value"]]


async def test_the_csv_reads_back_as_the_json_and_each_export_is_audited(site: Site) -> None:
    async with await sign_in(site.url, "boss") as boss:
        _, report = await get(boss, f"{site.url}/api/report?fy=2025")
        for lang in ("ja", "en"):
            async with boss.get(f"{site.url}/api/report.csv?fy=2025&lang={lang}") as r:
                assert r.status == 200
                assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
                assert "report-2025-04-01-2026-03-31.csv" in r.headers["Content-Disposition"]
                rows = csv_rows(await r.read())
            read_back(rows, report, lang)
            assert rows[0][0].startswith("2025年度" if lang == "ja" else "FY2025")
            heading = "集計のきまり" if lang == "ja" else "How the figures are counted"
            rules = len(rows) - [r[:1] for r in rows].index([heading]) - 1
            assert rules == len(report["rules"]["words"]) == 13  # the rules, all of them
        # a print is recorded (the page asks before it prints); a CSV records itself
        async with boss.post(
            f"{site.url}/api/report/exports",
            json={"kind": "print", "from": "2025-04-01", "to": "2025-05-31"},
        ) as r:
            assert r.status == 201
            assert await r.json() == {"kind": "print", "from": "2025-04-01", "to": "2025-05-31"}
        async with boss.post(
            f"{site.url}/api/report/exports",
            json={"kind": "csv", "from": "2025-04-01", "to": "2025-05-31"},
        ) as r:
            assert (r.status, (await r.json())["error"]["field"]) == (400, "kind")
        status, audit = await get(boss, f"{site.url}/api/audit?kind=report_exported")
        assert status == 200
    exports = [(e["actor_id"], e["details"]) for e in audit["events"]]
    boss_id = site.id("boss")
    assert exports == [
        (boss_id, {"export": "print", "period": "2025-04-01/2025-05-31"}),
        (boss_id, {"export": "csv", "period": "2025-04-01/2026-03-31"}),
        (boss_id, {"export": "csv", "period": "2025-04-01/2026-03-31"}),
    ]
    # reading the report is no export: only the three above
    page = await site.store.audit_events(AuditQuery(kinds=("report_exported",)))
    assert len(page) == 3


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("fy=2025&from=2025-04-01&to=2025-05-31", "fy"),
        ("fy=25x", "fy"),
        ("from=2025-04-01", "to"),
        ("to=2025-04-01", "from"),
        ("from=2025-05-01&to=2025-04-30", "to"),
        ("from=2020-04-01&to=2026-03-31", "to"),
        ("from=2025-04-01&to=2025-05-31&lang=fr", "lang"),
    ],
)
async def test_a_bad_period_is_named(tmp_path: Path, query: str, field: str) -> None:
    async with served_site(make_config(tmp_path)) as s, await sign_in(s.url, "boss") as boss:
        path = "report.csv" if "lang" in query else "report"
        async with boss.get(f"{s.url}/api/{path}?{query}") as r:
            assert r.status == 400
            assert (await r.json())["error"]["field"] == field


async def test_small_cells_carry_no_value_and_totals_always_do(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, report={"k": 5})
    assert isinstance(cfg.report, ReportConfig)
    async with served_site(cfg) as s, await sign_in(s.url, "admin") as admin:
        await build_desk(s.store)
        _, report = await get(admin, f"{s.url}/api/report?{PERIOD}")
        async with admin.get(f"{s.url}/api/report.csv?{PERIOD}&lang=ja") as r:
            ja = csv_rows(await r.read())
        async with admin.get(f"{s.url}/api/report.csv?{PERIOD}&lang=en") as r:
            en = csv_rows(await r.read())
    cells = [c for f in report["figures"] for c in f["months"]]
    cells += [i["value"] for b in report["breakdowns"] for i in b["items"]]
    cells += [a["value"] for a in report["satisfaction"]["answers"]]
    for c in cells:
        if c.get("mark"):
            assert c == {"value": None, "mark": c["mark"]}
        else:
            assert c["value"] == 0 or c["value"] >= 5, c
    assert any(c.get("mark") == "small" for c in cells)
    for f in report["figures"]:
        assert f["total"]["value"] is not None  # the program's totals: never hidden
    assert by_id(report["figures"])["consultations"]["total"] == {"value": 8}
    assert report["satisfaction"]["answered"] == 4
    read_back(ja, report, "ja")
    read_back(en, report, "en")
    assert any("5未満" in row for row in ja) and any("<5" in row for row in en)
