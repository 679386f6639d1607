"""The console's queue, revalidated by the browser itself: the server's ETag and no-cache make
Chromium ask again with If-None-Match, and the 304 gives the console the page it held."""

from __future__ import annotations

import aiohttp
from playwright.async_api import Browser, Response, expect

from tests.web.conftest import PASSWORD, Server, sign_in
from tests.web.test_webchat import chat, next_event, say


def _queue(response: Response) -> bool:
    return "/api/conversations?" in response.url


async def test_the_console_revalidates_the_queue_and_shows_the_page_it_held(
    server: Server, browser: Browser
) -> None:
    boss = await sign_in(server.url, "boss")
    async with boss, aiohttp.ClientSession() as http:  # one conversation in the queue
        events = await boss.ws_connect(server.ws_url("/api/ws"))
        ws, _ = await chat(http, server)
        await say(ws, "相談があります")
        await ws.close()
        await next_event(events, "conversation_assigned")
        await events.close()

    page = await browser.new_page()
    await page.goto(f"{server.url}/console")
    await page.get_by_test_id("login-username").fill("boss")
    await page.get_by_test_id("login-password").fill(PASSWORD)
    async with page.expect_response(_queue) as first:
        await page.get_by_test_id("login-submit").click()
    etag = await (await first.value).header_value("etag")
    await expect(page.get_by_test_id("queue-item")).to_have_count(1)

    # Asked again, the browser names the page it holds. Signing in wrote events that may move
    # the page's key once or twice more; once quiet, the answer is a 304 and the same page.
    for _ in range(5):
        async with page.expect_response(_queue) as again:
            await page.get_by_test_id("queue-refresh").click()
        response = await again.value
        sent = await response.request.all_headers()
        assert etag and sent.get("if-none-match") == etag, sent
        if await response.header_value("etag") == etag:
            break
        etag = await response.header_value("etag")
    else:
        raise AssertionError("the queue's ETag never settled")
    await expect(page.get_by_test_id("queue-item")).to_have_count(1)  # the page it held
