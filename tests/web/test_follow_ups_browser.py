"""Follow-ups (近況確認) in the console, in headless Chromium, in Japanese (a laptop) and English
(a phone): a counselor sets one from her conversation (a week ahead by default, with a note for
staff), sees it scheduled, cancels another; on its day its task is in the queue marked with an
icon and words, opens with a banner, and she records one of the three outcomes. Each screen:
screenshot and axe-core."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from playwright.async_api import Browser, expect

from inbox.core.follow_ups import FollowUpStatus
from inbox.core.model import UserId
from routing.hours import TOKYO
from tests.web.conftest import Site
from tests.web.screens import assert_accessible
from tests.web.test_callback_request_browser import console_at, open_conversation, sato_chat
from tests.web.test_supervision import call, everyone_away

pytestmark = pytest.mark.browser
WORDS = {
    "ja": {
        "badge": "近況確認",
        "scheduled": "予定",
        "cancelled": "取り消し済み",
        "done": "確認できた",
        "set": "近況確認を予定しました",
        "close": "終了してください",
    },
    "en": {
        "badge": "Follow-up",
        "scheduled": "Scheduled",
        "cancelled": "Cancelled",
        "done": "Reached",
        "set": "Follow-up scheduled",
        "close": "close this conversation",
    },
}


@pytest.mark.parametrize(("lang", "width"), [("ja", 1280), ("en", 390)])
async def test_a_counselor_sets_a_follow_up_and_resolves_its_task(
    site: Site, boss: aiohttp.ClientSession, browser: Browser, lang: str, width: int
) -> None:
    await everyone_away(site, boss)  # the router leaves the task in the queue
    words = WORDS[lang]
    chat = await sato_chat(site, "少し落ち着きました")
    page = await console_at(browser, site, "sato", lang, width)
    await open_conversation(page, chat, "少し落ち着きました")
    section = page.get_by_test_id("followups")
    await expect(section).to_be_visible()
    await page.get_by_test_id("followups-summary").click()
    week = (datetime.now(TOKYO) + timedelta(days=7)).date().isoformat()
    date_field = page.get_by_test_id("followup-date")
    await expect(date_field).to_have_value(week)
    await page.get_by_test_id("followup-note").fill("仕事の様子を聞く")
    await page.get_by_test_id("followup-submit").click()
    items = page.get_by_test_id("followup-item")
    await expect(items).to_have_count(1)
    await expect(items.first).to_contain_text(words["scheduled"])
    await expect(items.first).to_contain_text("仕事の様子を聞く")
    # a second, two weeks ahead, cancelled before its day
    later = (datetime.now(TOKYO) + timedelta(days=14)).date().isoformat()
    await date_field.fill(later)
    await page.get_by_test_id("followup-submit").click()
    await expect(items).to_have_count(2)
    toast = page.get_by_test_id("console-error")
    await expect(toast).to_contain_text(words["set"])
    await items.first.get_by_test_id("followup-cancel").click()  # the latest day first
    await expect(items.first).to_contain_text(words["cancelled"])
    await expect(page.get_by_test_id("followup-done")).not_to_be_empty()
    await expect(toast).not_to_contain_text(words["set"])  # no news out of date
    await assert_accessible(page, f"follow-up-set-{lang}-{width}")

    # its day: her chat is over, and the task enters the queue (as the watcher does)
    conv = await site.store.get_conversation(chat)
    found = await site.store.follow_ups_of(conv.contact_id)
    first = next(f for f in found if f.status is FollowUpStatus.SCHEDULED)
    sato = UserId(site.id("sato"))
    await site.store.close(chat, actor_id=sato, now=datetime.now(UTC))
    due = await site.store.make_follow_up_due(first.id, now=datetime.now(UTC))
    assert due is not None and due.conversation_id is not None
    if width < 1200:
        await page.locator("#conv-back").click()
    await page.locator("#queue-refresh").click()
    if width >= 1200:  # still open beside the queue: her list follows it (due, not scheduled)
        due_item = page.locator('[data-testid="followup-item"][data-status="due"]')
        await expect(due_item).to_have_count(1)
    row = page.locator(f'[data-testid="queue-item"][data-conversation-id="{due.conversation_id}"]')
    await expect(row.get_by_test_id("followup-badge")).to_have_text(f"↻{words['badge']}")
    accessible = await row.evaluate("b => b.textContent")
    assert words["badge"] in accessible  # the icon is aria-hidden; the words name it
    await assert_accessible(page, f"follow-up-queue-{lang}-{width}")
    await row.click()
    task = page.get_by_test_id("followup-task")
    await expect(task).to_be_visible()
    await task.get_by_test_id("followup-resolve-done").click()
    await expect(task.get_by_test_id("followup-resolve-done")).to_have_count(0)
    await expect(page.get_by_test_id("followup-done")).to_contain_text(words["close"])
    await expect(task).to_be_hidden()  # no task any more: the banner goes, and the mark
    if await page.locator("#followups-details").get_attribute("open") is None:
        await page.get_by_test_id("followups-summary").click()
    resolved = page.locator('[data-testid="followup-item"][data-status="done"]')
    await expect(resolved).to_contain_text(words["done"])
    await assert_accessible(page, f"follow-up-resolved-{lang}-{width}")
    status, listed = await call(boss, "GET", f"{site.url}/api/conversations/{chat}/follow-ups")
    assert status == 200, listed
    assert sorted(f["status"] for f in listed["follow_ups"]) == ["cancelled", "done"]
