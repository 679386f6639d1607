"""Partner agencies and referrals in headless Chromium, in Japanese and English (one walk each):
a supervisor adds an agency on the directory page (a taken name is said next to the name),
previews then imports an Excel CSV (BOM, Japanese headers), is told a bad row's row and column
with nothing imported, and archives one; a counselor records a referral to it in the console's
conversation view and deletes it again. Each screen: screenshot and axe-core."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from playwright.async_api import Browser, Dialog, Page, expect

from inbox.core.model import UserId
from tests.web.conftest import Site, console_page, staff_page
from tests.web.screens import assert_accessible
from tests.web.test_supervision import everyone_away, now_inbound, seed

pytestmark = pytest.mark.browser
TOKYO = ZoneInfo("Asia/Tokyo")
CSV = (
    "名称,種別,地域,連絡先,備考\r\n"
    "中央警察署,警察,中央区,110,\r\n"
    "みどりの家,シェルター,北区,,夜間も可\r\n"
)
BAD = "名称,種別\r\n新しい機関,NPO\r\n壊れた行,交番\r\n"
WORDS = {
    "ja": {
        "taken": "同じ名称・地域",
        "summary": "追加 1件・更新 1件・変更なし 0件",
        "done": "追加 1件・更新 1件",
        "bad": "3行目の「種別」：知らない種別です",
        "archived": "アーカイブしました",
        "none": "まだ連携の記録はありません。",
        "count0": "連携（0件）",
        "handover": "連携",
    },
    "en": {
        "taken": "this name and area exists",
        "summary": "1 to add, 1 to update, 0 unchanged",
        "done": "1 added, 1 updated",
        "bad": "Row 3, column “Kind”: unknown kind",
        "archived": "is archived",
        "none": "No referral recorded yet.",
        "count0": "Referrals (0)",
        "handover": "Handed over",
    },
}


async def _accept(dialog: Dialog) -> None:
    await dialog.accept()


async def _csv(page: Page, text: str) -> None:
    await page.get_by_test_id("import-file").set_input_files(
        {"name": "agencies.csv", "mimeType": "text/csv", "buffer": b"\xef\xbb\xbf" + text.encode()}
    )


async def keep_the_directory(browser: Browser, site: Site, lang: str) -> None:
    words = WORDS[lang]
    page = await staff_page(browser, site.url, "boss", "/agencies", lang)
    page.on("dialog", _accept)
    await expect(page.get_by_test_id("nav-agencies")).to_have_attribute("aria-current", "page")
    await expect(page.get_by_test_id("agencies-empty")).to_be_visible()
    for added in (1, 1):  # the second time the name is taken
        await page.get_by_test_id("agency-name").fill("中央警察署")
        await page.get_by_test_id("agency-kind").select_option("police")
        await page.get_by_test_id("agency-area").fill("中央区")
        await page.get_by_test_id("agency-save").click()
        await expect(page.get_by_test_id("agency-row")).to_have_count(added)
    await expect(page.get_by_test_id("agency-error")).to_contain_text(words["taken"])
    await expect(page.get_by_test_id("agency-name")).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_test_id("agency-row")).to_have_count(1)

    await _csv(page, CSV)
    await page.get_by_test_id("import-preview").click()
    await expect(page.get_by_test_id("import-summary")).to_contain_text(words["summary"])
    await expect(page.get_by_test_id("import-row")).to_have_count(2)
    await expect(page.get_by_test_id("agency-row")).to_have_count(1)  # a preview writes nothing
    await assert_accessible(page, f"agencies-preview-{lang}")
    await page.get_by_test_id("import-apply").click()
    await expect(page.get_by_test_id("agencies-notice")).to_contain_text(words["done"])
    await expect(page.get_by_test_id("agency-row")).to_have_count(2)
    # the notice follows the language, and a new action clears it and the add form's old error
    await expect(page.get_by_test_id("agency-error")).to_be_hidden()
    other = WORDS["en" if lang == "ja" else "ja"]
    await page.get_by_test_id("lang-toggle").click()
    await expect(page.get_by_test_id("agencies-notice")).to_contain_text(other["done"])
    await page.get_by_test_id("lang-toggle").click()
    await expect(page.get_by_test_id("agencies-notice")).to_contain_text(words["done"])

    await _csv(page, BAD)
    await page.get_by_test_id("import-preview").click()
    await expect(page.get_by_test_id("import-error")).to_contain_text(words["bad"])
    await expect(page.get_by_test_id("agencies-notice")).to_have_text("")
    await expect(page.get_by_test_id("import-apply")).to_be_hidden()
    await assert_accessible(page, f"agencies-bad-row-{lang}")

    shelter = page.get_by_test_id("agency-row").filter(has_text="みどりの家")
    await shelter.get_by_test_id("agency-archive").click()
    await expect(page.get_by_test_id("agencies-notice")).to_contain_text(words["archived"])
    await expect(page.get_by_test_id("agency-row")).to_have_count(1)
    await page.get_by_test_id("filter-archived").check()
    await expect(shelter.get_by_test_id("agency-restore")).to_be_visible()
    await assert_accessible(page, f"agencies-list-{lang}")
    await page.context.close()


async def record_a_referral(browser: Browser, site: Site, lang: str) -> None:
    words = WORDS[lang]
    (chat,) = await seed(site, now_inbound(f"referral-{lang}", body="相談したいです"))
    sato = UserId(site.id("sato"))
    await site.store.assign(chat, sato, actor_id=sato, now=datetime.now(UTC), capacity=None)
    page = await console_page(browser, site.url, "sato", lang)
    await page.locator(f'[data-testid="queue-item"][data-conversation-id="{chat}"]').click()
    panel = page.get_by_test_id("referrals-panel")
    await expect(page.get_by_test_id("referrals-toggle")).to_have_text(words["count0"])
    await page.get_by_test_id("referrals-toggle").click()
    await expect(panel.get_by_text(words["none"])).to_be_visible()
    await page.get_by_test_id("referrals-open").click()
    await page.get_by_test_id("referrals-submit").click()  # no agency yet: said next to it
    await expect(page.get_by_test_id("referrals-error")).to_be_visible()
    await expect(page.get_by_test_id("referrals-agency")).to_have_attribute("aria-invalid", "true")
    await page.get_by_test_id("referrals-agency-kind").select_option("police")
    await page.get_by_test_id("referrals-agency").select_option(label="中央警察署（中央区）")
    await page.get_by_test_id("referrals-kind").select_option("handover")
    today = await page.get_by_test_id("referrals-day").input_value()
    assert today == datetime.now(TOKYO).date().isoformat()
    await page.get_by_test_id("referrals-note").fill("面談の予約をした")
    await page.get_by_test_id("referrals-submit").click()
    item = page.get_by_test_id("referrals-item")
    await expect(item).to_contain_text(f"中央警察署 ・ {words['handover']}")
    await expect(item).to_contain_text("面談の予約をした")
    await expect(page.get_by_test_id("referrals-toggle")).not_to_have_text(words["count0"])
    await assert_accessible(page, f"console-referrals-{lang}")
    [made] = await site.store.referrals_of(conversation_id=chat)
    assert (made.kind, made.staff_id, made.note) == ("handover", sato, "面談の予約をした")
    page.on("dialog", _accept)
    await item.get_by_test_id("referrals-delete").click()
    await expect(item).to_have_count(0)
    assert await site.store.referrals_of(conversation_id=chat) == []
    await page.context.close()


async def refer_on_a_call(browser: Browser, site: Site) -> None:
    """The phone desk's call form: an agency referral beside the quick labels, recorded on the
    call once it is logged (in English only: the fields and words are the console's)."""
    page = await staff_page(browser, site.url, "phone", "/phone", "en")
    await page.get_by_test_id("log-withheld").check()
    await page.get_by_test_id("log-outcome-reached").check()
    await page.get_by_test_id("call-referral-agency").select_option(label="中央警察署（中央区）")
    await page.get_by_test_id("call-referral-kind").select_option("accompaniment")
    await page.get_by_test_id("log-submit").click()
    await expect(page.get_by_test_id("phone-notice")).to_contain_text(
        "The referral is recorded too."
    )
    await assert_accessible(page, "phone-agency-referral-en")
    [logged] = await site.store.recent_calls(None)
    [made] = await site.store.referrals_of(call_id=logged.id)
    assert (made.kind, made.agency_name, made.staff_id) == (
        "accompaniment",
        "中央警察署",
        site.id("phone"),
    )
    await page.context.close()


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_the_directory_and_a_referral_in_the_console(
    site: Site, browser: Browser, boss: aiohttp.ClientSession, lang: str
) -> None:
    await everyone_away(site, boss)
    await keep_the_directory(browser, site, lang)
    await record_a_referral(browser, site, lang)
    if lang == "en":
        await refer_on_a_call(browser, site)
