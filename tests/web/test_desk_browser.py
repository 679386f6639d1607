"""The counselor's desk in headless Chromium: canned replies inserted by keyboard and sent, a
supervisor's edit seen by a counselor, tags edited and shown as words in Japanese and English,
presence switched from the top bar and her load against capacity; each screen checked by axe-core
in both languages."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser, Page, expect

from storage.seeds import CANNED_REPLIES
from tests.web.conftest import Server, console_page, sign_in
from tests.web.screens import LOCALES, assert_accessible
from tests.web.test_supervision import call
from tests.web.test_webchat import chat, say

SAFETY_BODY = CANNED_REPLIES[2][2]  # 安全の確認
CLOSING_BODY = CANNED_REPLIES[4][2]  # 終わりのあいさつ


@pytest.fixture
async def boss(server: Server) -> AsyncIterator[aiohttp.ClientSession]:
    async with await sign_in(server.url, "boss") as session:
        yield session


async def _only_sato_takes_work(server: Server, boss: aiohttp.ClientSession) -> None:
    """suzuki offline: the router gives every new conversation to sato."""
    status, _ = await call(
        boss,
        "PATCH",
        f"{server.url}/api/counselors/{server.ids['suzuki']}",
        {"presence": "offline"},
    )
    assert status == 200


async def _consulter_writes(http: aiohttp.ClientSession, server: Server, body: str) -> Any:
    ws, _ = await chat(http, server)
    answer = await say(ws, body)
    assert answer["type"] == "ack", answer
    return ws


async def _open_first(page: Page) -> None:
    item = page.get_by_test_id("queue-item").first
    await expect(item).to_be_visible(timeout=10_000)
    await item.click()
    await expect(page.get_by_test_id("conv-messages")).not_to_be_empty(timeout=10_000)


async def test_a_canned_reply_is_inserted_by_keyboard_and_sent(
    server: Server, browser: Browser, boss: aiohttp.ClientSession, http: aiohttp.ClientSession
) -> None:
    await _only_sato_takes_work(server, boss)
    ws = await _consulter_writes(http, server, "今、家にいるのがこわいです")
    page = await console_page(browser, server.url, "sato")
    await _open_first(page)
    box = page.get_by_test_id("reply-input")
    await box.focus()

    # "/" in the empty box opens the picker; typing filters; Enter inserts
    await page.keyboard.press("/")
    dialog = page.get_by_test_id("canned-dialog")
    await expect(dialog).to_be_visible()
    await expect(page.get_by_test_id("canned-option")).to_have_count(len(CANNED_REPLIES))
    await page.keyboard.type("安全")
    await expect(page.get_by_test_id("canned-option")).to_have_count(1)
    await page.keyboard.press("Enter")
    await expect(dialog).to_be_hidden()
    await expect(box).to_have_value(SAFETY_BODY)
    await expect(box).to_be_focused()

    # Ctrl+/ inside text: the chosen text goes where the cursor is
    await box.press("End")
    await page.keyboard.type(" ")
    await page.keyboard.press("Control+/")
    await expect(dialog).to_be_visible()
    await expect(page.get_by_test_id("canned-option")).to_have_count(len(CANNED_REPLIES))
    await page.keyboard.type("終わり")
    await expect(page.get_by_test_id("canned-option")).to_have_count(1)  # filtered: then Enter
    await page.keyboard.press("ArrowDown")  # one match only: stays on it
    await page.keyboard.press("Enter")
    await expect(box).to_have_value(f"{SAFETY_BODY} {CLOSING_BODY}")

    await page.keyboard.press("Control+Enter")
    sent = page.get_by_test_id("conv-message").filter(has_text="安全な場所にいますか")
    await expect(sent).to_be_visible(timeout=10_000)
    await expect(sent).to_contain_text("自分")  # her own reply, named, never "ID 2"
    await expect(box).to_have_value("")
    # the consulter gets exactly that text
    async with asyncio.timeout(10):
        while True:
            frame = await ws.receive_json()
            if frame.get("type") == "message" and frame["message"]["direction"] == "outbound":
                break
    assert frame["message"]["body"] == f"{SAFETY_BODY} {CLOSING_BODY}"
    await ws.close()
    await page.context.close()


async def test_a_supervisor_edits_a_canned_reply_and_the_counselor_sees_it(
    server: Server, browser: Browser, boss: aiohttp.ClientSession, http: aiohttp.ClientSession
) -> None:
    await _only_sato_takes_work(server, boss)
    ws = await _consulter_writes(http, server, "相談があります")
    supervisor = await console_page(browser, server.url, "boss")
    await supervisor.get_by_test_id("canned-editor-open").click()
    editor = supervisor.get_by_test_id("canned-editor")
    await expect(editor).to_be_visible()
    rows = supervisor.get_by_test_id("canned-row")
    await expect(rows).to_have_count(len(CANNED_REPLIES))

    # a bad draft names its field
    await supervisor.get_by_test_id("canned-add").click()
    await supervisor.get_by_test_id("canned-body_ja").fill("本文だけ")
    await supervisor.get_by_test_id("canned-save").click()
    await expect(supervisor.get_by_test_id("canned-form-error")).to_contain_text(
        "入力内容を確認してください"
    )
    await expect(supervisor.get_by_test_id("canned-title_ja")).to_have_attribute(
        "aria-invalid", "true"
    )
    await expect(supervisor.get_by_test_id("canned-title_ja")).to_be_focused()
    await supervisor.get_by_test_id("canned-title_ja").fill("窓口の時間")
    await supervisor.get_by_test_id("canned-save").click()
    await expect(rows).to_have_count(len(CANNED_REPLIES) + 1, timeout=10_000)

    # edit the first
    first = rows.first
    await first.get_by_test_id("canned-edit").click()
    await supervisor.get_by_test_id("canned-body_ja").fill("はじめまして。編集した本文です。")
    await supervisor.get_by_test_id("canned-save").click()
    await expect(first).to_contain_text("編集した本文です", timeout=10_000)
    await expect(first).to_contain_text("最終更新：Boss")

    # delete the last (confirmed)
    supervisor.once("dialog", lambda d: asyncio.ensure_future(d.accept()))
    await rows.last.get_by_test_id("canned-delete").click()
    await expect(rows).to_have_count(len(CANNED_REPLIES), timeout=10_000)
    await expect(editor).not_to_contain_text("窓口の時間")

    counselor = await console_page(browser, server.url, "sato")
    await _open_first(counselor)
    await counselor.get_by_test_id("canned-open").click()
    options = counselor.get_by_test_id("canned-option")
    await expect(options.first).to_contain_text("編集した本文です", timeout=10_000)
    await expect(options).to_have_count(len(CANNED_REPLIES))
    # a counselor has no editor
    await expect(counselor.get_by_test_id("canned-editor-open")).to_be_hidden()
    await ws.close()
    await supervisor.context.close()
    await counselor.context.close()


async def test_tags_are_edited_and_shown_as_words_in_both_languages(
    server: Server, browser: Browser, boss: aiohttp.ClientSession, http: aiohttp.ClientSession
) -> None:
    await _only_sato_takes_work(server, boss)
    ws = await _consulter_writes(http, server, "もう死にたい")  # triage: urgent, suicide_risk
    page = await console_page(browser, server.url, "sato")
    await _open_first(page)
    tags = page.get_by_test_id("tag-list")
    await expect(tags).to_contain_text("緊急")
    await expect(tags).to_contain_text("自殺の危険")

    await page.get_by_test_id("tag-edit").click()  # the controls fold away (a phone's room)
    await page.get_by_test_id("tag-choose").select_option(label="DV")
    await page.get_by_test_id("tag-choose-add").click()
    await expect(tags).to_contain_text("DV", timeout=10_000)
    await page.get_by_test_id("tag-free").fill("  ｼｪﾙﾀｰ希望 ")
    await page.get_by_test_id("tag-free").press("Enter")
    await expect(tags).to_contain_text("シェルター希望", timeout=10_000)
    await expect(page.get_by_test_id("tag-free")).to_have_value("")
    queue = page.get_by_test_id("queue")
    await expect(queue).to_contain_text("自殺の危険", timeout=10_000)
    await expect(queue).to_contain_text("DV")

    # remove the free tag by its button (named for the tag)
    await page.get_by_role("button", name="タグ「シェルター希望」を外す").click()
    await expect(tags).not_to_contain_text("シェルター希望", timeout=10_000)
    # triage's labels cannot be removed
    system = page.get_by_test_id("tag").filter(has_text="緊急")
    await expect(system.get_by_role("button")).to_have_count(0)
    await assert_accessible(page, "desk-tags-ja")

    await page.get_by_test_id("lang-toggle").click()
    await expect(tags).to_contain_text("Urgent")
    await expect(tags).to_contain_text("Suicide risk")
    await expect(tags).to_contain_text("Domestic violence")
    await expect(queue).to_contain_text("Suicide risk")
    for raw in ("suicide_risk", "urgent"):
        await expect(page.locator("body")).not_to_contain_text(raw)
    await assert_accessible(page, "desk-tags-en")

    async with await sign_in(server.url, "sato") as sato:
        _, body = await call(sato, "GET", f"{server.url}/api/conversations")
    assert sorted(body["conversations"][0]["tags"]) == ["dv", "suicide_risk", "urgent"]
    await ws.close()
    await page.context.close()


async def test_presence_switch_and_her_load_in_the_header(
    server: Server, browser: Browser, boss: aiohttp.ClientSession, http: aiohttp.ClientSession
) -> None:
    await _only_sato_takes_work(server, boss)
    page = await console_page(browser, server.url, "sato")
    load = page.get_by_test_id("desk-load")
    await expect(load).to_contain_text("0 / 3件")
    ws = await _consulter_writes(http, server, "こんばんは")
    await expect(load).to_contain_text("1 / 3件", timeout=10_000)  # live, from the event feed
    await expect(page.get_by_test_id("user-name")).to_contain_text("Sato")

    presence = page.get_by_label("在席状況")
    await expect(presence).to_have_value("available")
    await presence.select_option("away")
    async with asyncio.timeout(10):
        while True:
            _, me = await call(boss, "GET", f"{server.url}/api/supervision")
            sato = next(c for c in me["counselors"] if c["id"] == server.ids["sato"])
            if sato["presence"] == "away":
                break
            await page.wait_for_timeout(100)
    await expect(page.get_by_role("status").filter(has_text="離席中")).to_be_attached()
    await ws.close()
    await page.context.close()


@pytest.mark.parametrize("lang", sorted(LOCALES))
async def test_desk_screens(
    server: Server,
    browser: Browser,
    boss: aiohttp.ClientSession,
    http: aiohttp.ClientSession,
    lang: str,
) -> None:
    """The header, the tag editor, the picker and the editor: screenshots and axe-core."""
    await _only_sato_takes_work(server, boss)
    ws = await _consulter_writes(http, server, "相談したいことがあります")
    page = await console_page(browser, server.url, "sato", lang)
    await _open_first(page)
    await expect(page.get_by_test_id("desk-load")).to_contain_text("1 / 3", timeout=10_000)
    await assert_accessible(page, f"desk-conversation-{lang}")
    await page.set_viewport_size({"width": 390, "height": 844})
    # On a phone her tools (presence, sign-out) fold into the top bar's menu.
    await expect(page.get_by_test_id("presence-select")).to_be_hidden()
    await page.get_by_test_id("topbar-menu-toggle").click()
    await expect(page.get_by_test_id("presence-select")).to_be_visible()
    await assert_accessible(page, f"desk-conversation-{lang}-phone")
    await page.get_by_test_id("topbar-menu-toggle").click()
    await page.set_viewport_size({"width": 1200, "height": 800})
    await page.get_by_test_id("canned-open").click()
    await expect(page.get_by_test_id("canned-option").first).to_be_visible(timeout=10_000)
    await assert_accessible(page, f"desk-canned-picker-{lang}")
    await page.keyboard.press("Escape")
    await expect(page.get_by_test_id("canned-dialog")).to_be_hidden()

    supervisor = await console_page(browser, server.url, "boss", lang)
    await supervisor.get_by_test_id("canned-editor-open").click()
    await expect(supervisor.get_by_test_id("canned-row").first).to_be_visible(timeout=10_000)
    await assert_accessible(supervisor, f"desk-canned-editor-{lang}")
    await supervisor.get_by_test_id("canned-row").first.get_by_test_id("canned-edit").click()
    await supervisor.get_by_test_id("canned-title_ja").fill("")
    await supervisor.get_by_test_id("canned-title_en").fill("")
    await supervisor.get_by_test_id("canned-save").click()
    await expect(supervisor.get_by_test_id("canned-form-error")).to_be_visible()
    await assert_accessible(supervisor, f"desk-canned-editor-error-{lang}")
    await supervisor.get_by_test_id("canned-editor-back").click()
    await expect(supervisor.get_by_test_id("queue")).to_be_visible()
    await ws.close()
    await page.context.close()
    await supervisor.context.close()
