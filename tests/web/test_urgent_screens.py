"""Urgency in headless Chromium: a consulter writes "死にたい" in the web chat; she receives the
safety message, her counselor and a supervisor (two more browsers) see the banner, the queue
shows her conversation first, in words, and the counselor's tab title counts what waits for
her. Screenshots in Japanese and English, and no axe-core violation."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Browser, Page, expect

from inbox.core.decisions import DeadlineChange
from inbox.core.model import ConversationId
from storage.sqlite.store import SqliteStore
from tests.web.conftest import Server, console_page, sign_in
from tests.web.screens import LOCALES, assert_accessible

WORDS = {
    "ja": {"badge": "緊急：自殺の危険", "alert": "緊急のメッセージ（自殺の危険）"},
    "en": {"badge": "Urgent: Suicide risk", "alert": "Urgent message (Suicide risk)"},
}
TITLE = {"ja": "つなぐ 相談員コンソール", "en": "Tsunagu counselor console"}


async def write(browser: Browser, server: Server, text: str, lang: str = "ja") -> Page:
    page = await (await browser.new_context(locale=LOCALES[lang])).new_page()
    await page.goto(f"{server.url}/chat")
    await page.get_by_test_id("chat-input").fill(text)
    await page.get_by_test_id("chat-send").click()
    mine = page.get_by_test_id("chat-message").filter(has_text=text)
    await expect(mine).to_have_attribute("data-state", "sent", timeout=10_000)
    return page


async def _only_sato_on_duty(server: Server) -> None:
    """suzuki is off: the conversations go to sato, and the supervisor watches."""
    async with (
        await sign_in(server.url, "boss") as boss,
        boss.patch(
            f"{server.url}/api/counselors/{server.ids['suzuki']}", json={"presence": "offline"}
        ) as r,
    ):
        assert r.status == 200, await r.text()


@pytest.mark.parametrize("lang", sorted(LOCALES))
async def test_an_urgent_message_is_seen_by_her_counselor_and_a_supervisor(
    server: Server, browser: Browser, lang: str
) -> None:
    await _only_sato_on_duty(server)
    sato = await console_page(browser, server.url, "sato", lang)
    supervisor = await console_page(browser, server.url, "boss", lang)
    # before: nothing waits, the title is plain; the alert controls are there, sound off
    await expect(sato).to_have_title(TITLE[lang])
    await expect(sato.get_by_test_id("sound-toggle")).not_to_be_checked()
    await expect(sato.get_by_test_id("notify-button")).to_be_visible()

    calm = await write(browser, server, "相談したいことがあります")
    await expect(sato.get_by_test_id("queue-item")).to_have_count(1, timeout=10_000)
    # a calm message raises no banner and no badge
    await expect(supervisor.get_by_test_id("queue-item")).to_have_count(1, timeout=10_000)
    for page in (sato, supervisor):
        await expect(page.get_by_test_id("urgent-banner")).to_have_count(0)
        await expect(page.get_by_test_id("urgency-badge")).to_have_count(0)
    consulter = await write(browser, server, "もう死にたい", lang)

    # she has the safety message at once
    safety = consulter.get_by_test_id("chat-message").filter(has_text="0120-279-338")
    await expect(safety).to_have_attribute("data-direction", "outbound", timeout=10_000)
    await expect(safety).to_contain_text("よりそいホットライン")
    await assert_accessible(consulter, f"chat-safety-message-{lang}")

    for page, who in ((sato, "counselor"), (supervisor, "supervisor")):
        banner = page.get_by_test_id("urgent-banner").first
        await expect(banner).to_be_visible(timeout=10_000)
        await expect(banner).to_have_attribute("role", "alert")
        await expect(banner).to_contain_text(WORDS[lang]["alert"])
        # the urgent conversation stands first, in words, never as suicide_risk
        first = page.get_by_test_id("queue-item").first
        await expect(first.get_by_test_id("urgency-badge")).to_have_text(WORDS[lang]["badge"])
        await expect(page.get_by_test_id("queue")).not_to_contain_text("suicide_risk")
        await expect(page.get_by_test_id("queue-item")).to_have_count(2)
        await expect(page.get_by_test_id("queue-item").nth(1)).not_to_contain_text(
            WORDS[lang]["badge"]
        )
        await assert_accessible(page, f"console-urgent-{who}-{lang}")

    # her tab title counts what waits for her: both conversations are hers
    await expect(sato).to_have_title(re.compile(r"^\(2\) " + re.escape(TITLE[lang])))
    await expect(supervisor).to_have_title(TITLE[lang])  # nothing unassigned waits

    # the banner leads to the conversation; dismissed, it is gone
    await sato.get_by_test_id("urgent-open").first.click()
    await expect(sato.get_by_test_id("conv-messages")).to_contain_text("もう死にたい")
    await expect(sato.get_by_test_id("conv-messages")).to_contain_text("0120-279-338")
    await expect(sato.get_by_test_id("urgent-banner")).to_have_count(0)
    await assert_accessible(sato, f"console-urgent-opened-{lang}")
    await supervisor.get_by_test_id("urgent-dismiss").first.click()
    await expect(supervisor.get_by_test_id("urgent-banner")).to_have_count(0)
    for page in (calm, consulter, sato, supervisor):
        await page.context.close()


# A stand-in for the browser's Notification and AudioContext that records what the page asks
# of them (headless Chromium shows no notification and plays no sound).
RECORDERS = """
window.__notes = [];
window.__tones = 0;
class FakeNotification {
  static permission = "default";
  static async requestPermission() { FakeNotification.permission = "granted"; return "granted"; }
  constructor(title, options) { window.__notes.push({ title, body: options.body }); }
  close() {}
}
window.Notification = FakeNotification;
class FakeAudio {
  constructor() { this.currentTime = 0; this.destination = {}; }
  resume() { return Promise.resolve(); }
  createGain() {
    const ramp = () => {};
    return { gain: { setValueAtTime: ramp, exponentialRampToValueAtTime: ramp },
             connect: (x) => x };
  }
  createOscillator() {
    return { frequency: {}, connect: (x) => x, start: () => { window.__tones += 1; }, stop() {} };
  }
}
window.AudioContext = FakeAudio;
"""


async def test_notification_and_tone_when_she_asked_for_them(
    server: Server, browser: Browser
) -> None:
    page = await console_page(browser, server.url, "sato", init_script=RECORDERS)
    # nothing is asked on load; her click asks, and the button goes once granted
    assert await page.evaluate("Notification.permission") == "default"
    await page.get_by_test_id("notify-button").click()
    await expect(page.get_by_test_id("notify-button")).to_be_hidden()
    await page.get_by_test_id("sound-toggle").check()
    tones = await page.evaluate("window.__tones")
    assert tones == 2  # she hears what she turned on: two short tones
    consulter = await write(browser, server, "助けて、殴られた")
    await expect(page.get_by_test_id("urgent-banner")).to_have_count(1, timeout=10_000)
    await expect(page.get_by_test_id("urgent-banner")).to_contain_text("差し迫った危険")
    notes = await page.evaluate("window.__notes")
    alias = await page.get_by_test_id("queue-item").first.locator(".qi-alias").text_content()
    # the alias and the kind of alert, never what she wrote
    assert notes == [{"title": "つなぐ：至急ご確認ください", "body": f"{alias}・差し迫った危険"}]
    assert await page.evaluate("window.__tones") == tones + 2
    # the choice of sound is remembered, and off by default for anyone else
    await page.reload()
    await expect(page.get_by_test_id("sound-toggle")).to_be_checked(timeout=10_000)
    for p in (page, consulter):
        await p.context.close()


BREACH = {"ja": "応答目標の時間を過ぎています", "en": "Response target missed"}


@pytest.mark.parametrize("lang", sorted(LOCALES))
async def test_a_missed_response_target_raises_a_banner(
    server: Server, browser: Browser, lang: str
) -> None:
    await _only_sato_on_duty(server)
    sato = await console_page(browser, server.url, "sato", lang)
    supervisor = await console_page(browser, server.url, "boss", lang)
    consulter = await write(browser, server, "返事がまだ来ません")
    item = sato.get_by_test_id("queue-item").first
    await expect(item).to_be_visible(timeout=10_000)
    await item.click()  # she opened it: it stays hers when the target is missed
    await expect(sato.get_by_test_id("conv-messages")).to_contain_text("返事がまだ来ません")
    (conv,) = [
        int(c)
        for c in await sato.get_by_test_id("queue-item").evaluate_all(
            "items => items.map(i => i.dataset.conversationId)"
        )
    ]
    # the deadline watcher's write, as another process would make it: the feed finds it
    assert server.cfg.database.sqlite_path is not None
    async with SqliteStore(server.cfg.database.sqlite_path) as store:
        now = datetime.now(UTC)
        change = DeadlineChange(
            conversation_id=ConversationId(conv),
            first_response_due=now - timedelta(minutes=1),
            next_response_due=None,
            alarm="breach",
        )
        assert await store.apply_deadlines([change], urgent_priority=100, now=now)
    for page, who in ((sato, "counselor"), (supervisor, "supervisor")):
        banner = page.get_by_test_id("urgent-banner")
        await expect(banner).to_contain_text(BREACH[lang], timeout=15_000)
        await expect(banner).to_have_attribute("data-kind", "breach")
        await assert_accessible(page, f"console-breach-{who}-{lang}")
    for p in (sato, supervisor, consulter):
        await p.context.close()
