"""Working together, in headless Chromium, in Japanese and English: two staff members on one
conversation see each other; the consulter sees her counselor typing; a reply composed while
another's went out asks first; the counselor sees her reply read; a conversation moved away
while open says who moved it to whom and stays readable. Each screen: screenshot and axe-core."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from playwright.async_api import Browser, Page, expect

from tests.web.conftest import Server, console_page, sign_in
from tests.web.screens import LOCALES, assert_accessible

WORDS = {
    "ja": {
        "typing": "相談員が入力中…",
        "viewing": "Satoさんも表示中です",
        "sato_typing": "Satoさんが入力中です…",
        "collision": "Bossさんが先に返信しました。それでも送信しますか？",
        "read": "既読",
        "moved": "Suzukiさんに移されました（Bossさんによる）",
    },
    "en": {
        "typing": "A counselor is typing…",
        "viewing": "Sato also has this open",
        "sato_typing": "Sato is typing…",
        "collision": "Boss replied first. Send anyway?",
        "read": "Read",
        "moved": "Moved to Suzuki by Boss",
    },
}


@pytest.fixture
async def boss_api(server: Server) -> AsyncIterator[aiohttp.ClientSession]:
    async with await sign_in(server.url, "boss") as session:
        for name in ("sato", "suzuki"):  # the supervisor decides who takes it
            async with session.patch(
                f"{server.url}/api/counselors/{server.ids[name]}", json={"presence": "away"}
            ) as r:
                assert r.status == 200
        yield session


async def _page(browser: Browser, lang: str) -> Page:
    context = await browser.new_context(
        locale=LOCALES[lang], viewport={"width": 1200, "height": 800}
    )
    return await context.new_page()


async def _console(browser: Browser, server: Server, lang: str, username: str) -> Page:
    """Signed in, with the consulter's conversation open."""
    page = await console_page(browser, server.url, username, lang)
    item = page.get_by_test_id("queue-item").first
    await expect(item).to_be_visible(timeout=10_000)
    await item.click()
    await expect(page.get_by_test_id("conv-messages")).to_contain_text("聞いてほしい")
    return page


@pytest.mark.parametrize("lang", sorted(LOCALES))
async def test_two_staff_a_typing_counselor_a_read_reply_and_a_move(
    server: Server, browser: Browser, boss_api: aiohttp.ClientSession, lang: str
) -> None:
    words = WORDS[lang]
    chat = await _page(browser, lang)
    await chat.goto(f"{server.url}/chat")
    await chat.get_by_test_id("chat-input").fill("夜分にすみません。話を聞いてほしいです。")
    await chat.get_by_test_id("chat-send").click()
    await expect(chat.get_by_test_id("chat-message").first).to_have_attribute(
        "data-state", "sent", timeout=10_000
    )
    async with boss_api.get(f"{server.url}/api/conversations") as r:
        (conv,) = (await r.json())["conversations"]
    assign = f"{server.url}/api/conversations/{conv['id']}/assign"
    async with boss_api.post(assign, json={"user_id": server.ids["sato"]}) as r:
        assert r.status == 200

    # Two staff members on one conversation see each other.
    sato = await _console(browser, server, lang, "sato")
    boss = await _console(browser, server, lang, "boss")
    await expect(boss.get_by_test_id("conv-viewers")).to_have_text(words["viewing"])
    await expect(sato.get_by_test_id("conv-viewers")).to_contain_text("Boss")

    # She writes: her consulter and the supervisor see it.
    await sato.get_by_test_id("reply-input").fill("お待たせしました。担当の佐藤です。")
    await expect(chat.get_by_test_id("chat-typing")).to_have_text(words["typing"])
    await expect(boss.get_by_test_id("conv-viewers")).to_have_text(words["sato_typing"])
    await assert_accessible(chat, f"live-chat-typing-{lang}")
    await assert_accessible(boss, f"live-console-viewers-{lang}")

    # Meanwhile the supervisor answers; the reply ends "typing" on her chat.
    await boss.get_by_test_id("reply-input").fill("こんばんは。スーパーバイザーです。")
    await boss.get_by_test_id("reply-send").click()
    await expect(
        chat.get_by_test_id("chat-message").filter(has_text="スーパーバイザー")
    ).to_be_visible(timeout=10_000)

    # Her reply was composed before his went out: she is asked, and sends on purpose.
    await sato.get_by_test_id("reply-send").click()
    collision = sato.get_by_test_id("reply-collision")
    await expect(collision).to_be_visible(timeout=10_000)
    await expect(collision).to_contain_text(words["collision"])
    await expect(sato.get_by_test_id("reply-collision-send")).to_be_focused()
    await expect(sato.get_by_test_id("conv-messages")).to_contain_text("スーパーバイザー")
    await assert_accessible(sato, f"live-console-collision-{lang}")
    await sato.get_by_test_id("reply-collision-send").click()
    await expect(collision).to_be_hidden()
    mine = chat.get_by_test_id("chat-message").filter(has_text="担当の佐藤です")
    await expect(mine).to_be_visible(timeout=10_000)
    await expect(chat.get_by_test_id("chat-typing")).to_have_text("")

    # The consulter's page shows it: her counselor sees it read (web chat can tell).
    reply = sato.get_by_test_id("conv-message").filter(has_text="担当の佐藤です")
    await expect(reply.locator(".cmsg-read")).to_have_text(words["read"], timeout=10_000)
    await assert_accessible(sato, f"live-console-read-{lang}")

    # The supervisor moves it to Suzuki while Sato has it open: she is told, and can still read.
    async with boss_api.post(
        f"{server.url}/api/conversations/move",
        json={"conversation_ids": [conv["id"]], "to_user_id": server.ids["suzuki"]},
    ) as r:
        assert r.status == 200
    notice = sato.get_by_test_id("conv-moved")
    await expect(notice).to_be_visible(timeout=10_000)
    await expect(notice).to_contain_text(words["moved"])
    await expect(sato.get_by_test_id("reply-input")).to_be_hidden()
    await expect(sato.get_by_test_id("conv-messages")).to_contain_text("担当の佐藤です")
    await expect(sato.get_by_test_id("toast")).to_be_hidden()
    await assert_accessible(sato, f"live-console-moved-{lang}")


async def test_typing_lapses_without_news(
    server: Server, browser: Browser, boss_api: aiohttp.ClientSession
) -> None:
    """She sees "typing" for as long as the signal lasts; a counselor who stops writing (her
    page closed mid-word) does not leave it on for ever."""
    chat = await _page(browser, "ja")
    await chat.goto(f"{server.url}/chat")
    await chat.get_by_test_id("chat-input").fill("聞いてほしいことがあります。")
    await chat.get_by_test_id("chat-send").click()
    await expect(chat.get_by_test_id("chat-message").first).to_have_attribute(
        "data-state", "sent", timeout=10_000
    )
    async with boss_api.get(f"{server.url}/api/conversations") as r:
        (conv,) = (await r.json())["conversations"]
    async with boss_api.post(
        f"{server.url}/api/conversations/{conv['id']}/assign", json={"user_id": server.ids["sato"]}
    ) as r:
        assert r.status == 200
    async with await sign_in(server.url, "sato") as sato:
        ws = await sato.ws_connect(server.url.replace("http://", "ws://") + "/api/ws")
        await ws.send_json({"type": "view", "conversation_id": conv["id"]})
        await ws.send_json({"type": "typing", "conversation_id": conv["id"]})
        typing = chat.get_by_test_id("chat-typing")
        await expect(typing).to_have_text(WORDS["ja"]["typing"], timeout=10_000)
        await expect(typing).to_have_attribute("role", "status")
        await expect(typing).to_have_text("", timeout=10_000)  # 6 s without news
        await ws.close()
