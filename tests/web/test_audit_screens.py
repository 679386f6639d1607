"""The audit page in headless Chromium, in Japanese and in English: a counselor opens a
conversation in her console; a supervisor opens /audit, filters by that counselor and by the
conversation, finds the read, pages on with the keyboard, and downloads the CSV with it. Each
screen is kept as a screenshot and checked by axe-core."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from playwright.async_api import Browser, Route, expect

from inbox.core.model import ConversationId, UserId
from tests.factories import inbound
from tests.web.conftest import Site, console_page, staff_page
from tests.web.screens import LOCALES, assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("lang", sorted(LOCALES))]
WORDS = {
    "ja": {"read": "相談を閲覧", "header": "日時（日本時間）", "all": "これで全部です。"},
    "en": {"read": "Read a conversation", "header": "When (Japan time)", "all": "That is all."},
}


async def _hers(site: Site) -> ConversationId:
    sato = UserId(site.id("sato"))
    now = datetime.now(UTC)
    (stored,) = await site.store.save_inbound_batch(
        [inbound("hanako@example.jp", body="眠れない日が続いています", received_at=now)]
    )
    await site.store.assign(stored.conversation_id, sato, actor_id=sato, now=now, capacity=None)
    return stored.conversation_id


async def test_a_supervisor_finds_who_read_a_conversation(
    site: Site, browser: Browser, lang: str
) -> None:
    conv = await _hers(site)
    words = WORDS[lang]
    sato = await console_page(browser, site.url, "sato", lang)
    await sato.locator(f'[data-testid="queue-item"][data-conversation-id="{conv}"]').click()
    await expect(sato.get_by_test_id("conv-messages")).to_contain_text("眠れない日")

    page = await staff_page(browser, site.url, "boss", "/audit", lang)
    rows = page.get_by_test_id("audit-row")
    # the first view: every staff member's records, newest first
    await expect(rows.first).to_be_visible()
    await page.get_by_test_id("audit-actor").select_option(str(site.id("sato")))
    await page.get_by_test_id("audit-kind").select_option("conversation_read")
    await page.get_by_test_id("audit-submit").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text(words["read"])
    await expect(rows.first).to_contain_text("Sato")
    await expect(rows.first.locator(".audit-conv")).to_have_text(str(conv))
    assert f"actor={site.id('sato')}" in page.url  # a reload shows the same records
    await assert_accessible(page, f"audit-by-person-{lang}")

    async with page.expect_download() as download:
        await page.get_by_test_id("audit-download").click()
    path = await (await download.value).path()
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert words["header"] in text and "conversation_read" in text and f",{conv}," in text
    assert "眠れない" not in text  # never a body

    # by the conversation, everyone: her read, and the assignment before it
    await page.get_by_test_id("audit-actor").select_option("any")
    await page.get_by_test_id("audit-kind").select_option("")
    # as an IME types it in Japanese: full-width digits
    typed = str(conv).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    await page.get_by_test_id("audit-conversation").fill(typed if lang == "ja" else str(conv))
    await page.get_by_test_id("audit-conversation").press("Enter")
    await expect(rows.first).to_contain_text(words["read"])
    await expect(rows.locator(".audit-conv")).to_have_text([str(conv)] * await rows.count())
    await expect(page.get_by_test_id("audit-status")).to_contain_text(words["all"])


async def test_the_log_pages_on_by_keyboard_and_says_what_it_refuses(
    site: Site, browser: Browser, lang: str
) -> None:
    conv = await _hers(site)
    boss = UserId(site.id("boss"))
    for _ in range(60):  # more than a page (50)
        await site.store.record_event(
            "conversation_read", now=datetime.now(UTC), actor_id=boss, conversation_id=conv
        )
    page = await staff_page(browser, site.url, "boss", "/audit", lang)
    await page.goto(f"{site.url}/audit?conversation={conv}")  # a link to one conversation's log
    await expect(page.get_by_test_id("audit-conversation")).to_have_value(str(conv))
    rows = page.get_by_test_id("audit-row")
    await expect(rows).to_have_count(50)
    more = page.get_by_test_id("audit-more")
    await more.focus()
    await page.keyboard.press("Enter")
    await expect(rows).to_have_count(61)  # the 60 reads and the assignment
    await expect(more).to_be_hidden()
    await expect(page.get_by_test_id("audit-status")).to_contain_text(WORDS[lang]["all"])
    await expect(page.get_by_test_id("audit-status")).to_be_focused()  # not lost with the button

    await page.get_by_test_id("audit-conversation").fill("12a")
    await page.get_by_test_id("audit-submit").click()
    await expect(page.get_by_test_id("audit-form-error")).to_be_visible()
    await expect(page.get_by_test_id("audit-conversation")).to_be_focused()
    await expect(rows).to_have_count(61)  # nothing asked of the server
    await assert_accessible(page, f"audit-error-{lang}")


async def test_more_stays_focused_and_disabled_while_a_page_loads(
    site: Site, browser: Browser, lang: str
) -> None:
    conv = await _hers(site)
    boss = UserId(site.id("boss"))
    for _ in range(120):  # more than two pages (50 each)
        await site.store.record_event(
            "conversation_read", now=datetime.now(UTC), actor_id=boss, conversation_id=conv
        )
    page = await staff_page(browser, site.url, "boss", "/audit", lang)
    rows = page.get_by_test_id("audit-row")
    await expect(rows).to_have_count(50)
    held: list[Route] = []

    async def hold(route: Route) -> None:
        held.append(route)

    await page.route("**/api/audit?*before=*", hold)
    more = page.get_by_test_id("audit-more")
    await more.focus()
    await page.keyboard.press("Enter")
    await expect(more).to_have_attribute("aria-disabled", "true")
    await page.keyboard.press("Enter")  # pressed again while it loads: nothing more is asked
    await expect(more).to_be_focused()
    for _ in range(100):
        if held:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    assert len(held) == 1
    await held[0].continue_()
    await page.unroute("**/api/audit?*before=*")
    await expect(rows).to_have_count(100)
    await expect(more).to_have_attribute("aria-disabled", "false")
    await expect(more).to_be_focused()  # her place is kept: the next page is one Enter away


async def test_a_supervisor_asks_who_read_it_from_the_console(
    site: Site, browser: Browser, lang: str
) -> None:
    conv = await _hers(site)
    sato = await console_page(browser, site.url, "sato", lang)
    await sato.locator(f'[data-testid="queue-item"][data-conversation-id="{conv}"]').click()
    await expect(sato.get_by_test_id("conv-messages")).to_contain_text("眠れない日")
    await expect(sato.get_by_test_id("conv-who-read")).to_have_count(0)  # not a counselor's

    boss = await console_page(browser, site.url, "boss", lang)
    await boss.locator(f'[data-testid="queue-item"][data-conversation-id="{conv}"]').click()
    async with boss.context.expect_page() as opened:
        await boss.get_by_test_id("conv-who-read").click()
    page = await opened.value
    rows = page.get_by_test_id("audit-row")
    await expect(rows).to_have_count(2)  # hers, and the supervisor's own just now
    await expect(rows.locator(".audit-actor")).to_have_text(["Boss", "Sato"])
    await expect(page.get_by_test_id("audit-conversation")).to_have_value(str(conv))
    await assert_accessible(page, f"audit-who-read-{lang}")


async def test_an_admin_reads_who_did_what_to_accounts_and_no_conversations_event(
    site: Site, browser: Browser, lang: str
) -> None:
    conv = await _hers(site)
    boss = UserId(site.id("boss"))
    await site.store.record_event(
        "address_revealed",
        now=datetime.now(UTC),
        actor_id=boss,
        conversation_id=conv,
        data={"reason": "警察からの照会", "anonymity": "pseudonymous"},
    )
    await site.store.update_account(
        "suzuki",
        display_name="鈴木 花子",
        roles=None,
        actor_id=UserId(site.id("admin")),
        now=datetime.now(UTC),
    )
    page = await staff_page(browser, site.url, "admin", "/audit", lang)
    await expect(page.locator(".audit-lead")).to_contain_text(
        "職員のアカウント" if lang == "ja" else "staff account"
    )
    await expect(page.get_by_test_id("audit-conversation")).to_be_hidden()
    kinds = await page.locator("#audit-kind option").evaluate_all(
        "options => options.map(o => o.value).filter(Boolean)"
    )
    assert "user_updated" in kinds and "address_revealed" not in kinds
    row = page.locator('[data-testid="audit-row"][data-kind="user_updated"]')
    await expect(row).to_contain_text("Admin")
    await expect(row.locator(".audit-details")).to_contain_text("鈴木 花子")
    # she manages accounts, not the work: not a conversation's event, not even its kind
    rows = page.get_by_test_id("audit-row")
    await expect(rows.first).to_be_visible()
    assert await page.locator('[data-kind="address_revealed"]').count() == 0
    assert await page.locator('[data-kind="conversation_opened"]').count() == 0
    await expect(page.get_by_test_id("audit-table")).not_to_contain_text("警察")
    await assert_accessible(page, f"audit-admin-{lang}")
