"""One consulter across channels in headless Chromium, in Japanese and in English: a supervisor
opens her web chat, reads the number of her e-mail conversation, links the two with a reason
and a confirmation, and the history then shows both channels under one alias; a counselor has
no such form. Each screen is kept as a screenshot and checked by axe-core."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Browser, Dialog, expect

from inbox.core.model import ChannelKind, ConversationId, UserId
from tests.factories import inbound
from tests.web.conftest import Site, console_page
from tests.web.screens import LOCALES, assert_accessible

pytestmark = pytest.mark.parametrize("lang", sorted(LOCALES))
WORDS = {
    "ja": {"mail": "メール", "webchat": "Webチャット", "number": "相談番号: {id}"},
    "en": {"mail": "Email", "webchat": "Web chat", "number": "No. {id}"},
}
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


async def _her_two_channels(site: Site) -> tuple[ConversationId, ConversationId]:
    """Her e-mail from yesterday and her web chat now: two contacts to the intake, both sato's."""
    sato = UserId(site.id("sato"))
    now = datetime.now(UTC)
    (mail,) = await site.store.save_inbound_batch(
        [
            inbound(
                "hanako@example.jp",
                channel=ChannelKind.MAIL,
                body="メールで相談したことがあります",
                received_at=now - timedelta(days=1),
            )
        ]
    )
    (chat,) = await site.store.save_inbound_batch(
        [inbound("chat-key", body="きのうメールした者です", received_at=now)]
    )
    for conv in (mail, chat):
        await site.store.assign(conv.conversation_id, sato, actor_id=sato, now=now, capacity=None)
    return mail.conversation_id, chat.conversation_id


async def test_a_supervisor_links_her_email_to_her_chat(
    site: Site, browser: Browser, lang: str
) -> None:
    mail, chat = await _her_two_channels(site)
    words = WORDS[lang]
    page = await console_page(browser, site.url, "boss", lang, height=900)

    await page.locator(f'[data-testid="queue-item"][data-conversation-id="{mail}"]').click()
    await expect(page.locator("#conv-meta")).to_contain_text(words["number"].format(id=mail))
    mail_alias = await page.get_by_test_id("conv-title").inner_text()
    await page.locator(f'[data-testid="queue-item"][data-conversation-id="{chat}"]').click()
    await expect(page.get_by_test_id("conv-messages")).to_contain_text("きのうメールした者です")
    alias = await page.get_by_test_id("conv-title").inner_text()
    assert alias != mail_alias
    await expect(page.get_by_test_id("history-summary")).to_be_hidden()  # nothing earlier yet
    await page.get_by_test_id("link-summary").click()
    await page.get_by_test_id("link-submit").click()  # no number yet: said, nothing sent
    await expect(page.get_by_test_id("link-error")).to_be_visible()
    await expect(page.get_by_test_id("link-other")).to_be_focused()
    # in Japanese as an IME gives it: full-width digits
    typed = str(mail).translate(FULL_WIDTH) if lang == "ja" else f"#{mail}"
    await page.get_by_test_id("link-other").fill(typed)
    await expect(page.get_by_test_id("link-error")).to_be_hidden()  # she is correcting it
    await page.get_by_test_id("link-reason").fill("チャットで本人がメールの件だと話した")
    await assert_accessible(page, f"console-link-form-{lang}")
    asked: list[str] = []

    async def accept(dialog: Dialog) -> None:
        asked.append(dialog.message)
        await dialog.accept()

    page.once("dialog", accept)
    await page.get_by_test_id("link-submit").click()

    items = page.get_by_test_id("history-item")
    await expect(items).to_have_count(2, timeout=10_000)
    assert len(asked) == 1 and str(mail) in asked[0]
    await expect(items.nth(0)).to_have_attribute("data-conversation-id", str(chat))
    await expect(items.nth(0)).to_contain_text(words["webchat"])
    await expect(items.nth(1)).to_have_attribute("data-conversation-id", str(mail))
    await expect(items.nth(1)).to_contain_text(words["mail"])
    await expect(page.get_by_test_id("link-details")).not_to_have_attribute("open", "")
    await expect(page.get_by_test_id("link-error")).to_be_hidden()
    await expect(page.get_by_test_id("link-done")).to_contain_text(mail_alias)
    await items.nth(1).get_by_test_id("history-read").click()
    await expect(items.nth(1)).to_contain_text("メールで相談したことがあります")
    await assert_accessible(page, f"console-link-done-{lang}")

    await page.locator(f'[data-testid="queue-item"][data-conversation-id="{mail}"]').click()
    await expect(page.get_by_test_id("conv-title")).to_have_text(alias)  # one alias now
    await expect(page.get_by_test_id("history-summary")).to_be_visible()

    # linking the same consulter again is refused, in the UI's language
    await page.get_by_test_id("link-summary").click()
    await page.get_by_test_id("link-other").fill(str(chat))
    await page.get_by_test_id("link-reason").fill("もう一度")
    page.once("dialog", accept)
    await page.get_by_test_id("link-submit").click()
    error = page.get_by_test_id("link-error")
    await expect(error).to_be_visible()
    await expect(error).to_contain_text("この相談自身か" if lang == "ja" else "one of hers already")


async def test_a_counselor_sees_her_linked_history_but_no_link_form(
    site: Site, browser: Browser, lang: str
) -> None:
    mail, chat = await _her_two_channels(site)
    await site.store.link_contacts(
        chat, mail, actor_id=UserId(site.id("boss")), reason="同じ方", now=datetime.now(UTC)
    )
    page = await console_page(browser, site.url, "sato", lang, height=900)
    await page.locator(f'[data-testid="queue-item"][data-conversation-id="{chat}"]').click()
    await page.get_by_test_id("history-summary").click()
    await expect(page.get_by_test_id("history-item")).to_have_count(2, timeout=10_000)
    await expect(page.get_by_test_id("history-list")).to_contain_text(WORDS[lang]["mail"])
    await expect(page.get_by_test_id("link-details")).to_be_hidden()
