"""Every screen, in Japanese and in English, in headless Chromium: a screenshot of each state
and no axe-core violation. The flows themselves are tested in test_browser.py; here each page
is brought into its states so that they can be looked at and checked."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, ViewportSize, expect

from tests.web.conftest import PASSWORD, Server
from tests.web.screens import LOCALES, assert_accessible

# A consulter writes from her phone; counselors mostly from a desk, sometimes a phone.
VIEWPORTS: dict[str, ViewportSize] = {
    "desktop": {"width": 1200, "height": 800},
    "phone": {"width": 390, "height": 844},
}
pytestmark = [
    pytest.mark.parametrize("lang", sorted(LOCALES)),
    pytest.mark.parametrize("device", sorted(VIEWPORTS)),
]


async def _page(browser: Browser, lang: str, device: str) -> Page:
    context = await browser.new_context(locale=LOCALES[lang], viewport=VIEWPORTS[device])
    return await context.new_page()


async def _sign_in(page: Page, server: Server, username: str) -> None:
    await page.goto(f"{server.url}/console")
    await page.get_by_test_id("login-username").fill(username)
    await page.get_by_test_id("login-password").fill(PASSWORD)
    await page.get_by_test_id("login-submit").click()
    # signed in: the connection status shows (her name is in the top bar's menu on a phone)
    await expect(page.get_by_test_id("console-status")).to_be_visible(timeout=10_000)


async def test_start_page(server: Server, browser: Browser, lang: str, device: str) -> None:
    page = await _page(browser, lang, device)
    await page.goto(server.url)
    await expect(page.locator("html")).to_have_attribute("lang", lang)
    await assert_accessible(page, f"index-{lang}-{device}")


async def test_chat_screens(server: Server, browser: Browser, lang: str, device: str) -> None:
    page = await _page(browser, lang, device)
    await page.goto(f"{server.url}/chat")
    await expect(page.locator("html")).to_have_attribute("lang", lang)
    await assert_accessible(page, f"chat-empty-{lang}-{device}")

    await page.get_by_test_id("chat-input").fill("相談したいことがあります / I need to talk")
    await page.get_by_test_id("chat-send").click()
    mine = page.get_by_test_id("chat-message").first
    await expect(mine).to_have_attribute("data-state", "sent", timeout=10_000)
    await page.get_by_test_id("queue-status").click()
    await expect(page.get_by_test_id("queue-status-text")).to_be_visible(timeout=10_000)
    await assert_accessible(page, f"chat-sent-{lang}-{device}")

    await page.get_by_test_id("clear-history").click()
    await expect(page.get_by_test_id("clear-confirm")).to_be_visible()
    await assert_accessible(page, f"chat-clear-dialog-{lang}-{device}")


async def test_console_sign_in_screens(
    server: Server, browser: Browser, lang: str, device: str
) -> None:
    page = await _page(browser, lang, device)
    await page.goto(f"{server.url}/console")
    await expect(page.get_by_test_id("login-submit")).to_be_visible()
    # supervisors, phone staff and admins sign in here too: the heading names no single role
    heading = page.locator("#login-form h2")
    await expect(heading).to_have_text({"ja": "スタッフのサインイン", "en": "Staff sign-in"}[lang])
    await assert_accessible(page, f"console-login-{lang}-{device}")

    await page.get_by_test_id("login-username").fill("sato")
    await page.get_by_test_id("login-password").fill("not the password")
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("login-error")).to_be_visible(timeout=10_000)
    await assert_accessible(page, f"console-login-error-{lang}-{device}")


async def test_console_conversation_screens(
    server: Server, browser: Browser, lang: str, device: str
) -> None:
    chat = await _page(browser, lang, device)
    await chat.goto(f"{server.url}/chat")
    await chat.get_by_test_id("chat-input").fill("夜分にすみません。")
    await chat.get_by_test_id("chat-send").click()
    await expect(chat.get_by_test_id("chat-message").first).to_have_attribute(
        "data-state", "sent", timeout=10_000
    )

    page = await _page(browser, lang, device)
    await _sign_in(page, server, "boss")
    item = page.get_by_test_id("queue-item").first
    await expect(item).to_be_visible(timeout=10_000)
    await assert_accessible(page, f"console-queue-{lang}-{device}")

    await item.click()
    await expect(page.get_by_test_id("conv-messages")).to_contain_text("夜分にすみません")
    await page.get_by_test_id("reply-input").fill("こんばんは。")
    await page.get_by_test_id("reply-send").click()
    await expect(page.get_by_test_id("conv-messages")).to_contain_text(
        "こんばんは。", timeout=10_000
    )
    await assert_accessible(page, f"console-conversation-{lang}-{device}")

    await page.get_by_test_id("note-toggle").click()
    await assert_accessible(page, f"console-note-mode-{lang}-{device}")
