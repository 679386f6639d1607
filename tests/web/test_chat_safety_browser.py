"""The consulter's chat in headless Chromium: quick exit leaves no trace, the hours and her place
in line are in view (on a phone too), the end of a conversation is said, automatic messages look
different and come in her language; every state checked by axe-core, in Japanese and English."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, Route, ViewportSize, expect

from inbox.config import DEFAULT_EXIT_URL
from inbox.core.model import ChannelKind
from routing.hours import parse_service_hours
from tests.web.conftest import Server, make_config, sign_in
from tests.web.screens import LOCALES, assert_accessible
from tests.web.test_chat_limits import Clock, running_at

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1200, "height": 800}
EXIT_HOST = DEFAULT_EXIT_URL.split("/search")[0]
STANDING = {
    "ja": {"queued": "あなたの順番は1番目です", "with": "相談員が対応しています"},
    "en": {"queued": "You are number 1 in line", "with": "A counselor is with you"},
}


async def _context(browser: Browser, lang: str = "ja", *, phone: bool = False) -> BrowserContext:
    context = await browser.new_context(locale=LOCALES[lang], viewport=PHONE if phone else DESKTOP)

    async def weather(route: Route) -> None:  # the exit target, served here: no network
        await route.fulfill(
            body="<!doctype html><title>天気</title><p>晴れ</p>", content_type="text/html"
        )

    await context.route(f"{EXIT_HOST}/**", weather)
    return context


async def _write(page: Page, text: str) -> None:
    await page.get_by_test_id("chat-input").fill(text)
    await page.get_by_test_id("chat-send").click()
    mine = page.get_by_test_id("chat-message").filter(has_text=text)
    await expect(mine).to_have_attribute("data-state", "sent", timeout=10_000)


async def _chat_keys(page: Page, *where: str) -> list[str]:
    """The keys of ours in the page's storage (both kinds, or those named)."""
    stores = ", ".join(where or ("localStorage", "sessionStorage"))
    keys: list[str] = await page.evaluate(
        f"() => [{stores}].flatMap(s => Object.keys(s)).filter(k => k.startsWith('tsunagu'))"
    )
    return keys


async def test_quick_exit_leaves_no_trace(server: Server, browser: Browser) -> None:
    context = await _context(browser)
    page = await context.new_page()
    await page.goto(f"{EXIT_HOST}/search?q=news")  # where she was before
    await page.goto(server.url)  # the start page, then its link to the chat
    await page.get_by_test_id("link-chat").click()
    await page.wait_for_url(f"{server.url}/chat")
    await _write(page, "誰にも知られたくないです")
    assert "tsunagu.chat.token" in await _chat_keys(page)
    await page.get_by_test_id("quick-exit").click()
    await page.wait_for_url(f"{EXIT_HOST}/**")
    assert page.url == DEFAULT_EXIT_URL
    # the chat replaced its own history entry, and the start page's: Back goes to where she
    # was before the service
    await page.go_back()
    assert page.url == f"{EXIT_HOST}/search?q=news"
    await page.go_forward()
    assert page.url == DEFAULT_EXIT_URL
    # and the chat opens empty, in this tab and in another
    await page.goto(f"{server.url}/chat")
    await expect(page.get_by_test_id("chat-status")).to_have_attribute("data-state", "connected")
    await expect(page.get_by_test_id("chat-message")).to_have_count(0)
    other = await context.new_page()
    await other.goto(f"{server.url}/chat")
    await expect(other.get_by_test_id("chat-status")).to_have_attribute("data-state", "connected")
    await expect(other.get_by_test_id("chat-message")).to_have_count(0)
    await context.close()


async def test_the_chat_is_kept_on_the_device_only_when_she_chooses(
    server: Server, browser: Browser
) -> None:
    context = await _context(browser)
    page = await context.new_page()
    await page.goto(f"{server.url}/chat")
    keep = page.get_by_test_id("keep-on-device")
    await expect(keep).not_to_be_checked()  # the program's default
    await _write(page, "一回目の相談")
    await page.reload()  # the same tab keeps her session
    await expect(page.get_by_test_id("chat-message")).to_have_count(1, timeout=10_000)
    fresh = await context.new_page()  # a new tab (the tab closed): nothing
    await fresh.goto(f"{server.url}/chat")
    await expect(fresh.get_by_test_id("chat-status")).to_have_attribute("data-state", "connected")
    await expect(fresh.get_by_test_id("chat-message")).to_have_count(0)
    # its own new session lives in the tab alone; nothing of the chat on the device
    kept = await _chat_keys(fresh, "localStorage")
    assert not [k for k in kept if k.startswith("tsunagu.chat")]

    await keep.check()  # she keeps it: a new tab, and a quick exit, leave it
    again = await context.new_page()
    await again.goto(f"{server.url}/chat")
    await expect(again.get_by_test_id("chat-message")).to_have_count(1, timeout=10_000)
    await expect(again.get_by_test_id("keep-on-device")).to_be_checked()
    await again.get_by_test_id("quick-exit").click()
    await again.wait_for_url(f"{EXIT_HOST}/**")
    await again.goto(f"{server.url}/chat")
    await expect(again.get_by_test_id("chat-message")).to_have_count(1, timeout=10_000)
    await context.close()


@pytest.mark.parametrize("lang", sorted(LOCALES))
async def test_her_place_in_line_shows_on_a_phone_and_then_who_is_with_her(
    server: Server, browser: Browser, lang: str
) -> None:
    async with await sign_in(server.url, "boss") as boss:
        for name in ("sato", "suzuki"):
            url = f"{server.url}/api/counselors/{server.ids[name]}"
            async with boss.patch(url, json={"presence": "away"}) as r:
                assert r.status == 200
        context = await _context(browser, lang, phone=True)
        page = await context.new_page()
        await page.goto(f"{server.url}/chat")
        await _write(page, "相談したいです / I need to talk")
        standing = page.get_by_test_id("queue-status-text")
        await expect(standing).to_contain_text(STANDING[lang]["queued"], timeout=10_000)
        await expect(standing).to_be_in_viewport()
        box = await standing.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        await assert_accessible(page, f"chat-in-line-{lang}-phone")

        # sato comes back and opens it: only now is someone "with her"
        url = f"{server.url}/api/counselors/{server.ids['sato']}"
        async with boss.patch(url, json={"presence": "available"}) as r:
            assert r.status == 200
        async with await sign_in(server.url, "sato") as sato:
            conv_id = None
            for _ in range(100):
                async with sato.get(f"{server.url}/api/conversations") as r:
                    mine = [
                        c for c in (await r.json())["conversations"] if c["channel"] == "webchat"
                    ]
                if mine:
                    conv_id = mine[0]["id"]
                    break
                await page.wait_for_timeout(100)
            assert conv_id is not None
            await expect(standing).not_to_contain_text(STANDING[lang]["with"])
            async with sato.get(f"{server.url}/api/conversations/{conv_id}") as r:
                assert r.status == 200
            await expect(standing).to_contain_text(STANDING[lang]["with"], timeout=10_000)
            async with sato.post(
                f"{server.url}/api/conversations/{conv_id}/replies", json={"body": "こんにちは。"}
            ) as r:
                assert r.status == 201
            reply = page.get_by_test_id("chat-message").filter(has_text="こんにちは。")
            await expect(reply.locator("time")).not_to_have_text("", timeout=10_000)
            await expect(reply.get_by_test_id("chat-auto-label")).to_have_count(0)
            await assert_accessible(page, f"chat-with-counselor-{lang}-phone")

            # closed: her chat says so and how to reach the service again
            async with sato.post(
                f"{server.url}/api/conversations/{conv_id}/close", json={"outcome": "listened"}
            ) as r:
                assert r.status == 200
        ended = page.get_by_test_id("chat-ended")
        await expect(ended).to_be_visible(timeout=10_000)
        await expect(ended).to_contain_text("終了しました" if lang == "ja" else "has ended")
        await expect(ended).to_contain_text("110")
        await assert_accessible(page, f"chat-ended-{lang}-phone")
        # her next message follows on: a new conversation, the line where the last one ended
        await _write(page, "また話したいです / again")
        await expect(ended).to_be_hidden(timeout=10_000)
        await expect(page.get_by_test_id("chat-divider")).to_have_count(1)
        await assert_accessible(page, f"chat-after-ended-{lang}-phone")
        await context.close()


@pytest.mark.parametrize("lang", sorted(LOCALES))
async def test_out_of_hours_she_is_told_before_writing_and_the_reply_is_automatic(
    tmp_path: Path, browser: Browser, lang: str
) -> None:
    hours = parse_service_hours({"weekdays": ["18:00-22:00"]}, "routing.hours.webchat")
    cfg = make_config(tmp_path)
    routing = dataclasses.replace(cfg.routing, hours=((ChannelKind.WEBCHAT, hours),))
    async with running_at(dataclasses.replace(cfg, routing=routing), Clock()) as server:
        context = await _context(browser, lang, phone=True)
        page = await context.new_page()
        await page.goto(f"{server.url}/chat")
        shown = page.get_by_test_id("chat-hours")
        await expect(shown).to_contain_text("18:00–22:00")
        await expect(shown).to_contain_text("月–金" if lang == "ja" else "Mon–Fri")
        standing = page.get_by_test_id("queue-status-text")
        await expect(standing).to_contain_text("受付時間外" if lang == "ja" else "closed now")
        await expect(standing).to_contain_text("18:00")
        await expect(page.get_by_test_id("chat-message")).to_have_count(0)  # before she writes
        await assert_accessible(page, f"chat-closed-hours-{lang}-phone")

        await _write(page, "夜に話せますか / can we talk tonight")
        auto = page.get_by_test_id("chat-message").filter(
            has=page.get_by_test_id("chat-auto-label")
        )
        await expect(auto).to_have_count(1, timeout=10_000)
        await expect(auto.get_by_test_id("chat-auto-label")).to_have_text(
            "自動メッセージ" if lang == "ja" else "Automatic message"
        )
        body = await auto.locator(".msg-body").text_content() or ""
        if lang == "ja":  # her language alone
            assert "受付時間外" in body and "closed" not in body
        else:
            assert "We are closed now" in body and "受付" not in body
        await expect(auto.locator("time")).not_to_have_text("")
        await assert_accessible(page, f"chat-auto-reply-{lang}-phone")
        await context.close()
