"""The pages' one socket client (static/lib/live.js) in headless Chromium: when the connection
drops it says so, reconnects by itself, and catches up on what it missed meanwhile. Playwright
routes each page's socket through the test (the server is real), so the test can drop it."""

from __future__ import annotations

import aiohttp
from playwright.async_api import Browser, WebSocketRoute, expect

from tests.web.conftest import PASSWORD, Server
from tests.web.test_webchat import chat, say


async def test_the_console_reconnects_and_catches_up_on_what_it_missed(
    server: Server, browser: Browser
) -> None:
    routes: list[WebSocketRoute] = []

    def deaf(route: WebSocketRoute) -> None:
        """Connect to the real server, but pass none of its frames on: the page hears of no
        event, so only the catch-up after a reconnect can show it what happened."""
        routes.append(route)
        route.connect_to_server().on_message(lambda _frame: None)

    context = await browser.new_context(locale="en-US")
    try:
        page = await context.new_page()
        await page.route_web_socket("**/api/ws", deaf)
        await page.goto(f"{server.url}/console")
        await page.get_by_test_id("login-username").fill("boss")
        await page.get_by_test_id("login-password").fill(PASSWORD)
        await page.get_by_test_id("login-submit").click()
        status = page.get_by_test_id("console-status")
        await expect(status).to_have_attribute("data-state", "connected", timeout=10_000)
        await expect(page.locator("#queue-empty")).to_be_visible()

        async with aiohttp.ClientSession() as http:
            ws, _ = await chat(http, server)
            assert (await say(ws, "聞いてほしいことがあります"))["type"] == "ack"
            await ws.close()
        await page.wait_for_timeout(1000)  # the event is past; the page did not hear of it
        await expect(page.get_by_test_id("queue-item")).to_have_count(0)

        await routes[0].close()
        await expect(status).to_have_attribute("data-state", "reconnecting", timeout=5_000)
        await expect(status).to_contain_text("Reconnecting")
        await expect(status).to_have_attribute("data-state", "connected", timeout=10_000)
        # refetched after the reconnect, long before the 30 s tick would have
        await expect(page.get_by_test_id("queue-item")).to_have_count(1, timeout=5_000)
        assert len(routes) == 2
    finally:
        await context.close()


async def test_the_chat_reconnects_and_resumes_her_session(
    server: Server, browser: Browser
) -> None:
    routes: list[WebSocketRoute] = []

    def through(route: WebSocketRoute) -> None:
        routes.append(route)
        route.connect_to_server()

    context = await browser.new_context(locale="ja-JP")
    try:
        page = await context.new_page()
        await page.route_web_socket("**/chat/ws", through)
        await page.goto(f"{server.url}/chat")
        status = page.get_by_test_id("chat-status")
        await expect(status).to_have_attribute("data-state", "connected", timeout=10_000)
        await page.get_by_test_id("chat-input").fill("一通目です")
        await page.get_by_test_id("chat-send").click()
        messages = page.get_by_test_id("chat-message")
        await expect(messages.first).to_have_attribute("data-state", "sent", timeout=10_000)

        await routes[0].close()
        await expect(status).to_have_attribute("data-state", "reconnecting", timeout=5_000)
        await expect(status).to_contain_text("再接続")
        # Connected again only once the welcome is in: the same session (her token), whose
        # history repeats the first message, shown once.
        await expect(status).to_have_attribute("data-state", "connected", timeout=10_000)
        assert len(routes) == 2
        await page.get_by_test_id("chat-input").fill("二通目です")
        await page.get_by_test_id("chat-send").click()
        await expect(messages).to_have_count(2)
        await expect(messages.nth(1)).to_have_attribute("data-state", "sent", timeout=10_000)
        await expect(messages.first).to_contain_text("一通目です")
        await page.reload()  # the server kept both in the one session
        await expect(messages).to_have_count(2, timeout=10_000)
    finally:
        await context.close()
