"""A LINE conversation in the console, in headless Chromium, in Japanese and in English, at a
phone's width and a desk's: the queue and the header show the LINE mark with its word; a
consulter who blocked the official account shows a banner, the send button is off for a reply
but a note can still be written, and the reply that was refused says why; an unblocked one has
no banner and can be answered, and LINE's own refusals (a 400, a refused token) are worded.
Her LINE user id appears nowhere in the page. Each screen is kept as a screenshot and checked
by axe-core."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from inbox.core.model import (
    ChannelKind,
    ConversationId,
    DeliveryStatus,
    InboundMessage,
    MessageId,
    UserId,
)
from inbox.identity import identity_hash, load_identity_key
from storage.base import KeyedInbound
from tests.sms.outbound import call, until
from tests.web.conftest import Site, console_page, sign_in
from tests.web.screens import LOCALES, assert_accessible
from tests.web.test_supervision import write_instant

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("lang", sorted(LOCALES))]
HER = "U" + "4f1c9a2be07d3568" * 2  # her LINE user id: shown nowhere, never in the page
REFUSED = "The request body has 1 error(s) (messages[0].text: Length must be between 0 and 5000)"
WORDS = {
    "ja": {
        "banner": "この相談者はLINE公式アカウントをブロックしています。"
        "返信は届きません（メモは残せます）。",
        "blocked": "送信できませんでした：相手がLINE公式アカウントをブロックしています",
        "refused": f"送信できませんでした：LINEが受け付けませんでした: {REFUSED}",
        "token": "送信できませんでした：LINEがチャネルアクセストークンを受け付けませんでした"
        "（LINE 401）。[line] の設定を確認してください",
    },
    "en": {
        "banner": "She has blocked the LINE account: replies cannot reach her "
        "(notes can still be written).",
        "blocked": "Not delivered: she has blocked the LINE account",
        "refused": f"Not delivered: LINE refused it: {REFUSED}",
        "token": "Not delivered: LINE refused the channel access token (LINE 401); "
        "check the [line] settings",
    },
}


def her_hash(site: Site) -> str:
    """The keyed hash the server matches her LINE user id by (its own identity key)."""
    security = site.server.cfg.security
    key = load_identity_key(
        security.identity_key, site.server.cfg.data.dir, env_name=security.identity_key_env
    )
    return identity_hash(key, ChannelKind.LINE, HER)


async def line_conversation(site: Site) -> int:
    """Her first LINE message, stored through the real intake, her conversation given to sato."""
    msg = InboundMessage(
        channel=ChannelKind.LINE,
        external_id="5810293847561",
        sender=HER,
        body="こんにちは",
        received_at=datetime.now(UTC),
    )
    (stored,) = await site.store.save_inbound_batch(
        [KeyedInbound(message=msg, identity_hash=her_hash(site))]
    )
    sato = UserId(site.id("sato"))
    await site.store.assign(
        stored.conversation_id, sato, actor_id=sato, now=datetime.now(UTC), capacity=None
    )
    return int(stored.conversation_id)


async def failed_reply(site: Site, conv: int, body: str) -> MessageId:
    """A reply sato sends through the API, once the outbox has given it up."""
    async with await sign_in(site.url, "sato") as sato:
        status, data = await call(
            sato, "POST", f"{site.url}/api/conversations/{conv}/replies", {"body": body}
        )
    assert status == 201, data
    mid = MessageId(data["message"]["id"])

    async def failed() -> bool | None:
        msg = await site.store.get_message(mid)
        return True if msg.delivery_status is DeliveryStatus.FAILED else None

    await until(failed)
    return mid


async def line_said(site: Site, mid: MessageId, error: str) -> None:
    """The outbox's recorded reason, as the LINE channel writes LINE's refusals (no LINE API
    stands in here: the channel itself is another test's)."""
    sql = f"UPDATE outbox SET last_error = '{error}', updated_at = {{}} WHERE message_id = {{}}"
    await write_instant(site, sql, datetime.now(UTC), int(mid))


async def console(browser: Browser, site: Site, lang: str, width: int) -> Page:
    page = await console_page(browser, site.url, "sato", lang, height=900)
    await page.set_viewport_size({"width": width, "height": 900})
    return page


def line_mark(scope: Locator) -> Locator:
    return scope.locator(".channel-line")


async def assert_line_mark(tag: Locator) -> None:
    """The mark is drawn (a visible, decorative svg) and the word LINE names it."""
    await expect(tag).to_have_text("LINE")
    await expect(tag.locator("svg.channel-mark")).to_be_visible()
    await expect(tag.locator("svg.channel-mark")).to_have_attribute("aria-hidden", "true")


async def open_conversation(page: Page, conv: int) -> None:
    item = page.locator(f'[data-testid="queue-item"][data-conversation-id="{conv}"]')
    await assert_line_mark(line_mark(item))
    # the queue's button is named with the channel's word, for a screen reader too
    await expect(item).to_have_accessible_name(re.compile(r"LINE"))
    await item.click()
    await expect(page.get_by_test_id("reply-input")).to_be_visible()
    await assert_line_mark(line_mark(page.locator("#conv-meta")))


async def assert_no_user_id(page: Page) -> None:
    """Her LINE user id is in no text and no attribute of the page."""
    html = await page.content()
    text = await page.evaluate("document.body.innerText")
    assert HER not in html and HER not in text
    assert HER[1:] not in html  # not even without its "U"


@pytest.mark.parametrize("width", [390, 1280])
async def test_a_blocked_line_consulter_shows_a_banner_and_why_the_reply_failed(
    site: Site, browser: Browser, lang: str, width: int
) -> None:
    conv = await line_conversation(site)
    blocked = await site.store.set_opt_out(
        her_hash(site),
        True,
        now=datetime.now(UTC),
        conversation_id=ConversationId(conv),
        channel=ChannelKind.LINE,
    )
    assert blocked
    await failed_reply(site, conv, "お返事です")
    page = await console(browser, site, lang, width)
    words = WORDS[lang]
    await open_conversation(page, conv)
    banner, send = page.get_by_test_id("optout-banner"), page.get_by_test_id("reply-send")
    await expect(banner).to_have_text(words["banner"])
    await expect(page.get_by_test_id("conv-failure")).to_have_text(words["blocked"])
    await page.get_by_test_id("reply-input").fill("様子を見ます")
    await expect(send).to_be_disabled()
    await page.get_by_test_id("note-toggle").check()  # a note to the team is still possible
    await expect(send).to_be_enabled()
    await send.click()
    note = page.get_by_test_id("conv-message").filter(has_text="様子を見ます")
    await expect(note).to_have_count(1)
    await expect(note).to_have_attribute("data-direction", "note")
    await page.get_by_test_id("note-toggle").uncheck()
    await expect(send).to_be_disabled()
    await expect(banner).to_have_text(words["banner"])
    await assert_no_user_id(page)
    await assert_accessible(page, f"line-console-blocked-{width}-{lang}")


async def test_an_unblocked_line_consulter_has_no_banner_and_can_be_answered(
    site: Site, browser: Browser, lang: str
) -> None:
    conv = await line_conversation(site)
    too_long = await failed_reply(site, conv, "長すぎる返信")
    await line_said(site, too_long, f"[line] line 400: {REFUSED}")
    token = await failed_reply(site, conv, "トークンの返信")
    await line_said(site, token, "[line] line 401: Authentication failed")
    page = await console(browser, site, lang, 1280)
    words = WORDS[lang]
    await open_conversation(page, conv)
    await expect(page.get_by_test_id("optout-banner")).to_be_hidden()
    failures = page.get_by_test_id("conv-failure")
    await expect(failures).to_have_text([words["refused"], words["token"]])

    send = page.get_by_test_id("reply-send")
    await page.get_by_test_id("reply-input").fill("ご連絡ありがとうございます")
    await expect(send).to_be_enabled()
    await send.click()
    sent = page.get_by_test_id("conv-message").filter(has_text="ご連絡ありがとうございます")
    await expect(sent).to_have_attribute("data-direction", "outbound")
    await expect(page.get_by_test_id("reply-input")).to_have_value("")
    await assert_no_user_id(page)
    await assert_accessible(page, f"line-console-reachable-{lang}")
