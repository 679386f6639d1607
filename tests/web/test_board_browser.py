"""The board on screen (board.html, board/*.js), in Japanese and English, on a laptop and a phone:
counselors' cards, the queue, the conversations to move, alerts; a supervisor pauses a channel
and acknowledges an alert; a new message shows up without a reload."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import aiohttp
import pytest
from playwright.async_api import Browser, Page, expect

from inbox.core.model import IntakeLabels
from tests.web.conftest import Site, staff_page
from tests.web.screens import assert_accessible
from tests.web.test_supervision import call, everyone_away, now_inbound, seed
from tests.web.test_webchat import chat, say

pytestmark = pytest.mark.browser


async def a_desk(site: Site, boss: aiohttp.ClientSession) -> dict[str, int]:
    """Two waiting conversations (one urgent, with its alert), one of sato's, a warning."""
    await everyone_away(site, boss)
    urgent = dataclasses.replace(
        now_inbound("urgent@example.jp"),
        labels=IntakeLabels(priority=100, tags=frozenset({"suicide_risk"}), alert="suicide_risk"),
    )
    waiting, urgent_id, hers = await seed(
        site, now_inbound("a@example.jp"), urgent, now_inbound("b@example.jp")
    )
    status, _ = await call(
        boss, "POST", f"{site.url}/api/conversations/{hers}/assign", {"user_id": site.id("sato")}
    )
    assert status == 200
    await site.store.record_event("deadline_warning", now=datetime.now(UTC), conversation_id=hers)
    return {"waiting": waiting, "urgent": urgent_id, "hers": hers}


async def board_page(site: Site, browser: Browser, lang: str, *, width: int = 1280) -> Page:
    page = await staff_page(browser, site.url, "boss", "/board", lang, width=width)
    await expect(page.get_by_test_id("board-status")).to_have_attribute(
        "data-state", "connected", timeout=10_000
    )
    return page


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_the_board_shows_the_desk(
    site: Site, boss: aiohttp.ClientSession, browser: Browser, lang: str
) -> None:
    ids = await a_desk(site, boss)
    page = await board_page(site, browser, lang)
    cards = page.locator("li.board-counselor")
    await expect(cards).to_have_count(2)
    sato = page.locator(f"li.board-counselor[data-counselor-id='{site.id('sato')}']")
    await expect(sato.locator("div.board-counselor-actions")).to_have_count(1)
    await expect(
        sato.locator(f"li.board-conv[data-conversation-id='{ids['hers']}']")
    ).to_have_count(1)
    rows = page.get_by_test_id("board-waiting").locator("li.board-conv")
    await expect(rows).to_have_count(2)
    await expect(rows.first).to_have_attribute("data-conversation-id", str(ids["urgent"]))
    await expect(rows.first).to_have_attribute("draggable", "true")
    await expect(rows.first.locator("input.board-select")).to_have_count(1)
    await expect(page.get_by_test_id("board-alerts").locator("li")).to_have_count(2)
    await expect(page.get_by_test_id("board-queue").locator("tbody tr")).to_have_count(2)
    await expect(page.get_by_test_id("board-waits")).to_contain_text("3")
    await assert_accessible(page, f"board-{lang}")
    phone = await board_page(site, browser, lang, width=390)
    await expect(phone.locator("li.board-counselor")).to_have_count(2)
    await assert_accessible(phone, f"board-phone-{lang}")


async def test_a_supervisor_pauses_a_channel_and_acknowledges_an_alert(
    site: Site, boss: aiohttp.ClientSession, browser: Browser
) -> None:
    await a_desk(site, boss)
    page = await board_page(site, browser, "en")
    mail = page.get_by_test_id("board-channels").locator("tr[data-channel='mail']")
    await mail.get_by_test_id("channel-toggle-mail").click()
    await expect(mail).to_contain_text("Paused by Boss since")
    await expect(mail.get_by_test_id("channel-toggle-mail")).to_have_text("Resume")
    assert {c.value for c in await site.store.paused_channels()} == {"mail"}

    alerts = page.get_by_test_id("board-alerts").locator("li")
    await expect(alerts).to_have_count(2)
    await alerts.first.get_by_test_id("alert-ack").click()
    await expect(alerts).to_have_count(1)
    done = page.get_by_test_id("board-alerts-done")
    await expect(done).to_be_visible()
    await done.locator("summary").click()
    await expect(done.locator("li")).to_contain_text("Acknowledged by Boss")
    await assert_accessible(page, "board-acknowledged-en")

    await mail.get_by_test_id("channel-toggle-mail").click()
    await expect(mail).to_contain_text("Routing")


async def test_a_new_message_shows_up_without_a_reload(
    site: Site, boss: aiohttp.ClientSession, browser: Browser, http: aiohttp.ClientSession
) -> None:
    await everyone_away(site, boss)
    page = await board_page(site, browser, "ja")
    rows = page.get_by_test_id("board-waiting").locator("li.board-conv")
    await expect(rows).to_have_count(0)
    chat_ws, _ = await chat(http, site.server)
    await say(chat_ws, "はじめまして")
    await expect(rows).to_have_count(1, timeout=5_000)
    await expect(page.get_by_test_id("board-queue").locator("tbody tr")).to_have_count(1)
    await chat_ws.close()
