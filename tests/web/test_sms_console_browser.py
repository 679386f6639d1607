"""SMS in the console, in headless Chromium, in Japanese and in English: the reply box counts
segments as she types, warns above the program's limit and sends only on a second click; a
consulter who texted STOP shows a banner, the send button is off, and the reply that was
refused says why. Each screen is kept as a screenshot and checked by axe-core."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from inbox.core.model import ConversationId, DeliveryStatus, MessageId, UserId
from tests.sms.outbound import call, opt_out, sms_config, sms_conversation, until
from tests.twilio_fake import TwilioFake, twilio_fake
from tests.web.conftest import Site, console_page, served_site, sign_in
from tests.web.screens import LOCALES, assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("lang", sorted(LOCALES))]
WORDS = {
    "ja": {
        "two": "2通分（UCS-2、67文字/通）",
        "one": "1通分（GSM-7、160文字/通）",
        "over": "3通に分かれます（上限は2通）",
        "again": "もう一度「返信を送る」を押してください",
        "stop": "この番号は配信停止（STOP）を選んでいます。送信できません。",
        "failed": "送信できませんでした：相手が配信停止（STOP）を選んでいます",
    },
    "en": {
        "two": "2 segments (UCS-2, 67 characters each)",
        "one": "1 segment (GSM-7, 160 characters each)",
        "over": "This is sent as 3 segments (the limit is 2)",
        "again": "Press “Send reply” again",
        "stop": "This number has opted out (STOP): replies cannot be sent",
        "failed": "Not delivered: the recipient has opted out (STOP)",
    },
}


@pytest.fixture
async def fake() -> AsyncIterator[TwilioFake]:
    async with twilio_fake() as f:
        yield f


@pytest.fixture
async def site(
    store_kind: str, request: pytest.FixtureRequest, tmp_path: Path, fake: TwilioFake
) -> AsyncIterator[Site]:
    cfg = sms_config(tmp_path, fake, max_segments=2)
    async with served_site(cfg, store_kind=store_kind, request=request) as running:
        yield running


async def sato_has(site: Site, conv: int) -> None:
    sato = UserId(site.id("sato"))
    now = datetime.now(UTC)
    await site.store.assign(ConversationId(conv), sato, actor_id=sato, now=now, capacity=None)


async def open_conversation(page: Page, conv: int) -> None:
    await page.locator(f'[data-testid="queue-item"][data-conversation-id="{conv}"]').click()
    await expect(page.get_by_test_id("reply-input")).to_be_visible()


async def test_the_reply_box_counts_segments_and_asks_twice_above_the_limit(
    site: Site, browser: Browser, fake: TwilioFake, lang: str
) -> None:
    conv = await sms_conversation(site)
    await sato_has(site, conv)
    page = await console_page(browser, site.url, "sato", lang, height=900)
    words = WORDS[lang]
    await open_conversation(page, conv)
    box, count = page.get_by_test_id("reply-input"), page.get_by_test_id("sms-count")
    warning, send = page.get_by_test_id("sms-warning"), page.get_by_test_id("reply-send")

    await box.fill("Thank you for writing.")
    await expect(count).to_have_text(words["one"])
    await box.fill("あ" * 71)
    await expect(count).to_have_text(words["two"])
    await expect(warning).to_be_hidden()
    await page.get_by_test_id("note-toggle").check()  # a note is not an SMS: no count
    await expect(count).to_be_hidden()
    await page.get_by_test_id("note-toggle").uncheck()

    text = "ご連絡ありがとうございます。" * 11  # 154 characters: 3 segments, above the limit 2
    await box.fill(text)
    await expect(warning).to_contain_text(words["over"])
    await send.click()
    await expect(warning).to_contain_text(words["again"])
    await assert_accessible(page, f"sms-console-over-limit-{lang}")
    assert fake.requests == []  # the first click only warned
    await send.click()
    await until(lambda: _first_body(fake))
    assert fake.requests[0].form["Body"] == text
    await expect(box).to_have_value("")
    await expect(warning).to_be_hidden()


async def _first_body(fake: TwilioFake) -> str | None:
    return fake.requests[0].form["Body"] if fake.requests else None


async def test_an_opted_out_consulter_shows_a_banner_and_why_the_reply_failed(
    site: Site, browser: Browser, fake: TwilioFake, lang: str
) -> None:
    conv = await sms_conversation(site)
    await sato_has(site, conv)
    await opt_out(site, conv)
    async with await sign_in(site.url, "sato") as sato:
        status, data = await call(
            sato, "POST", f"{site.url}/api/conversations/{conv}/replies", {"body": "お返事です"}
        )
    assert status == 201, data
    refused = MessageId(data["message"]["id"])

    async def failed() -> bool | None:
        msg = await site.store.get_message(refused)
        return True if msg.delivery_status is DeliveryStatus.FAILED else None

    await until(failed)
    page = await console_page(browser, site.url, "sato", lang, height=900)
    words = WORDS[lang]
    await open_conversation(page, conv)
    await expect(page.get_by_test_id("optout-banner")).to_have_text(words["stop"])
    await expect(page.get_by_test_id("conv-failure")).to_have_text(words["failed"])
    await expect(page.get_by_test_id("reply-send")).to_be_disabled()
    await page.get_by_test_id("note-toggle").check()  # a note to the team is still possible
    await expect(page.get_by_test_id("reply-send")).to_be_enabled()
    await page.get_by_test_id("note-toggle").uncheck()
    await expect(page.get_by_test_id("reply-send")).to_be_disabled()
    await assert_accessible(page, f"sms-console-opted-out-{lang}")
    assert fake.requests == []
