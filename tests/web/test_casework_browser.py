"""Casework's screens in headless Chromium, in Japanese and in English: a counselor ticks the
topics and chooses the age group in her conversation's "Topics and profile" panel (each saved as
it changes, the saved state shown), reloads and finds them still set; then, on the Activities
page, logs an outreach visit, sees it in this fiscal year's list and totals, edits it and deletes
it. Each screen is kept as a screenshot and checked by axe-core."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.async_api import Browser, expect

from inbox.core.model import UserId
from tests.factories import inbound
from tests.web.conftest import Site, console_page, staff_page
from tests.web.screens import LOCALES, assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("lang", sorted(LOCALES))]
WORDS = {
    "ja": {
        "fy": "年度（令和",
        "saved": "保存しました",
        "dv": "DV",
        "total": "1件・5人（うち初めて 2人）",
        "six": "6人",
    },
    "en": {
        "fy": "(Reiwa ",
        "saved": "Saved",
        "dv": "Domestic violence",
        "total": "1 logged · 5 people (2 new)",
        "six": "6 people",
    },
}


async def test_topics_and_age_group_stay_set_and_an_activity_is_logged_and_edited(
    site: Site, browser: Browser, lang: str
) -> None:
    words = WORDS[lang]
    sato = UserId(site.id("sato"))
    now = datetime.now(UTC)
    (stored,) = await site.store.save_inbound_batch(
        [inbound("hanako@example.jp", body="仕事のことで相談したいです", received_at=now)]
    )
    conv = stored.conversation_id
    await site.store.assign(conv, sato, actor_id=sato, now=now, capacity=None)

    page = await console_page(browser, site.url, "sato", lang)
    item = page.locator(f'[data-testid="queue-item"][data-conversation-id="{conv}"]')
    await item.click()
    panel = page.get_by_test_id("casework-panel")
    await expect(panel).to_be_visible()
    await expect(panel.get_by_text(words["dv"], exact=True)).to_be_visible()
    status = page.get_by_test_id("casework-status")
    await page.get_by_test_id("topic-dv").check()
    await expect(status).to_have_attribute("data-state", "saved")
    await expect(status).to_have_text(words["saved"])
    await page.get_by_test_id("topic-work").check()
    await expect(status).to_have_attribute("data-state", "saved")
    await page.get_by_test_id("casework-age").select_option("30s")
    await expect(status).to_have_attribute("data-state", "saved")
    assert await site.store.conversation_topics(conv) == ("dv", "work")
    await assert_accessible(page, f"casework-panel-{lang}")

    await page.reload()
    await expect(page.get_by_test_id("user-name")).to_be_visible()
    await item.click()
    await expect(page.get_by_test_id("topic-dv")).to_be_checked()
    await expect(page.get_by_test_id("topic-work")).to_be_checked()
    await expect(page.get_by_test_id("topic-poverty")).not_to_be_checked()
    await expect(page.get_by_test_id("casework-age")).to_have_value("30s")
    await expect(status).to_have_text("")
    await page.context.close()

    page = await staff_page(browser, site.url, "sato", "/activities", lang)
    await expect(page.get_by_test_id("activities-empty")).to_be_visible()
    await expect(page.get_by_test_id("activities-period")).to_contain_text(words["fy"])
    await expect(page.get_by_test_id("staff-nav").locator("[aria-current=page]")).to_have_attribute(
        "href", "/activities"
    )
    await page.get_by_test_id("activity-kind").select_option("outreach")
    await page.get_by_test_id("activity-place").fill("公民館")
    await page.get_by_test_id("activity-people").fill("5")
    await page.get_by_test_id("activity-new").fill("6")
    await page.get_by_test_id("activity-submit").click()
    await expect(page.get_by_test_id("activity-error")).to_be_visible()  # more new than people
    await expect(page.get_by_test_id("activity-new")).to_have_attribute("aria-invalid", "true")
    await page.get_by_test_id("activity-new").fill("2")
    await page.get_by_test_id("activity-note").fill("駅前で声かけ")
    await page.get_by_test_id("activity-submit").click()
    rows = page.get_by_test_id("activity-row")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("公民館")
    await expect(page.get_by_test_id("activities-total-outreach")).to_contain_text(words["total"])
    await assert_accessible(page, f"activities-logged-{lang}")

    await rows.first.get_by_test_id("activity-edit").click()
    await expect(page.get_by_test_id("activity-people")).to_have_value("5")
    await page.get_by_test_id("activity-people").fill("6")
    await page.get_by_test_id("activity-submit").click()
    await expect(page.get_by_test_id("activities-total-outreach")).to_contain_text(words["six"])
    await expect(rows.first.locator("td.num").first).to_have_text("6")
    (stored_activity,) = await site.store.activities_between(
        now.date(), now.date().replace(year=now.year + 1)
    )
    assert (stored_activity.draft.people, stored_activity.staff_id) == (6, sato)

    delete = rows.first.get_by_test_id("activity-delete")
    await delete.click()  # asks once more
    await expect(rows).to_have_count(1)
    await delete.click()
    await expect(rows).to_have_count(0)
    await expect(page.get_by_test_id("activities-empty")).to_be_visible()
