"""The report page in Chromium, on a fiscal year of generated records (the report bench's
generator at a small size): the year's names both ways, the figures the API counted with their
target and 達成率, small cells shown by their mark only, both charts drawn, the counting rules,
the CSV link in the page's language, the A4 print (audited before it prints, the topbar and the
form left out), a period of one's own checked before it is asked; in Japanese and English, with
screenshots and axe-core."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from inbox.core.audit import AuditQuery
from inbox.report_config import Targets
from inbox.tools.bench_grant_report import Year, build_sqlite
from storage.sqlite.store import SqliteStore
from tests.web.conftest import Site, make_config, served_site, sign_in, staff_page
from tests.web.screens import assert_accessible, screenshot_dir, shot

pytestmark = pytest.mark.browser

TARGETS = Targets(((2025, (("consultations", 300), ("referrals", 50))),))
YEAR = Year(conversations=360, messages=1000, referrals=45, activities=24)


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    cfg = make_config(tmp_path, report={"k": 5, "targets": TARGETS})
    async with served_site(cfg) as s:
        assert isinstance(s.store, SqliteStore)
        await build_sqlite(s.store, YEAR)
        yield s


async def api_report(site: Site) -> dict[str, Any]:
    async with (
        await sign_in(site.url, "boss") as boss,
        boss.get(f"{site.url}/api/report?fy=2025") as r,
    ):
        assert r.status == 200
        report: dict[str, Any] = await r.json()
        return report


def figure(report: dict[str, Any], figure_id: str) -> dict[str, Any]:
    return next(f for f in report["figures"] if f["id"] == figure_id)


async def row_texts(page: Page, figure_id: str) -> list[str]:
    row = page.locator(f'#report-figures tr[data-figure="{figure_id}"] td')
    return [t.strip() for t in await row.all_inner_texts()]


async def test_the_years_report_in_japanese_then_english(site: Site, browser: Browser) -> None:
    report = await api_report(site)
    consultations = figure(report, "consultations")
    total = consultations["total"]["value"]
    assert total == YEAR.conversations + YEAR.calls  # every conversation, and the calls
    small = [c for f in report["figures"] for c in f["months"] if c.get("mark") == "small"] + [
        i["value"] for b in report["breakdowns"] for i in b["items"] if i["value"].get("mark")
    ]
    assert small, "the generated year has small cells to show"

    page = await staff_page(browser, site.url, "boss", "/report", "ja")
    await page.add_init_script(
        # as the browser's print does (beforeprint, without a dialog), counted on the page's
        # element: a polled wait_for_function evaluates a string, which the page's CSP refuses
        "window.print = () => { const d = document.documentElement.dataset;"
        " d.printed = String(Number(d.printed || 0) + 1);"
        " window.dispatchEvent(new Event('beforeprint')); }"
    )
    await page.goto(f"{site.url}/report?fy=2025")  # the address keeps the period
    await expect(page.get_by_test_id("report-title")).to_contain_text(
        "2025年度（令和7年度）", timeout=10_000
    )
    # the table: the months, the year's total, its target and 達成率 (total ÷ 300)
    cells = await row_texts(page, "consultations")
    assert len(cells) == len(report["months"]) + 3
    assert cells[-3:] == [f"{total:,}", "300", f"{consultations['achievement']:.1f}%"]
    assert consultations["achievement"] == pytest.approx(round(total / 300 * 100, 1))
    await expect(page.locator("#report-figures td.small").first).to_have_text("5未満")
    # both charts: a bar per channel and month, an age group per line
    months_chart = page.get_by_test_id("report-chart-months")
    await expect(months_chart.locator("svg[role=img]")).to_have_count(1)
    assert await months_chart.locator("rect").count() >= 12
    ages = page.get_by_test_id("report-chart-ages")
    await expect(ages.locator("svg text", has_text="20代")).to_have_count(1)
    await expect(page.get_by_test_id("report-rules")).to_contain_text("相談1件＝会話1つ")
    await expect(page.get_by_test_id("report-breakdown-age_groups")).to_contain_text("不明")
    # topics: their total counts topics, and says so; the rules name every figure
    await expect(page.get_by_test_id("report-breakdown-topics").locator("caption")).to_contain_text(
        "合計は延べの内容数"
    )
    for rule in ("満足度：", "活動：", "LINE友だち："):
        await expect(page.get_by_test_id("report-rules")).to_contain_text(rule)
    # no consulter's words or ids anywhere in the page
    assert "相談したいことがあります" not in await page.content()
    await assert_accessible(page, "report-ja")
    await shot(page, "report-ja")

    # the A4 print: recorded, then printed; the form and the top bar are not on paper
    await page.get_by_test_id("report-print").click()
    await expect(page.locator("html")).to_have_attribute("data-printed", "1", timeout=5_000)
    exported = await site.store.audit_events(AuditQuery(kinds=("report_exported",)))
    assert [e.data.get("export") for e in exported] == ["print"]
    # printed from the browser's menu instead: recorded as it starts
    await page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    for _ in range(100):
        exported = await site.store.audit_events(AuditQuery(kinds=("report_exported",)))
        if len(exported) == 2:
            break
        await asyncio.sleep(0.1)
    assert [e.data.get("export") for e in exported] == ["print", "print"]
    await page.emulate_media(media="print")
    await expect(page.get_by_test_id("report-period")).to_be_hidden()
    await expect(page.locator(".topbar")).to_be_hidden()
    await shot(page, "report-print-ja")
    # on A4 (210 mm less 12 mm margins: 703 CSS pixels) nothing is wider than the paper
    await page.set_viewport_size({"width": 703, "height": 900})
    assert await page.evaluate("document.documentElement.scrollWidth") <= 703
    (screenshot_dir() / "report-a4-ja.pdf").write_bytes(await page.pdf(format="A4"))
    await page.set_viewport_size({"width": 1280, "height": 900})
    await page.emulate_media(media="screen")

    # English: the same figures in its words; the CSV link follows the language
    await page.get_by_test_id("lang-toggle").click()
    await expect(page.get_by_test_id("report-title")).to_contain_text("FY2025 (Reiwa 7)")
    await expect(page.locator("#report-figures td.small").first).to_have_text("<5")
    assert "lang=en" in (await page.get_by_test_id("report-csv").get_attribute("href") or "")
    await expect(page.get_by_test_id("report-rules")).to_contain_text("one conversation is one")
    await expect(page.get_by_test_id("report-rules")).to_contain_text("Satisfaction: the share")
    await assert_accessible(page, "report-en")
    await shot(page, "report-en")

    # a period of one's own, checked before it is asked, then shown
    await page.get_by_test_id("report-fy").select_option("")
    await page.get_by_test_id("report-from").fill("2025-06-01")
    await page.get_by_test_id("report-to").fill("2025-05-01")
    await page.get_by_test_id("report-show").click()
    await expect(page.get_by_test_id("report-form-error")).to_have_text(
        "The last day must not be before the first."
    )
    await page.get_by_test_id("report-to").fill("2025-06-30")
    await page.get_by_test_id("report-show").click()
    await expect(page.get_by_test_id("report-range")).to_contain_text("2025-06-01 to 2025-06-30")
    assert "from=2025-06-01" in page.url
    assert len(await row_texts(page, "consultations")) == 1 + 3  # one month


async def test_on_a_phone_the_report_scrolls_in_its_table(site: Site, browser: Browser) -> None:
    page = await staff_page(browser, site.url, "boss", "/report", "ja", width=390)
    await page.goto(f"{site.url}/report?fy=2025")
    await expect(page.get_by_test_id("report-title")).to_contain_text("令和7年度", timeout=10_000)
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # the page does not scroll sideways: the table's region does
    await assert_accessible(page, "report-phone-ja")
    await shot(page, "report-phone-ja")
