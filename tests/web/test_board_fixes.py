"""The review's findings on the supervisor's screens, each where it could fail: the profile
editor keeps her closed days and sends only what changed (a presence changed meanwhile stays);
the board draws in place (an unchanged row is the same element after a frame, a checkbox click
lands while frames arrive, focus stays); acknowledging an alert moves focus to the next one;
the handover notice reads its note without a read in the audit log. Each in ja and en, with
axe-core and a screenshot."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp
import pytest
from playwright.async_api import Browser, Page, expect

from inbox.core.audit import AuditQuery
from inbox.core.model import ChannelKind, ClosedDays, Presence, UserId
from tests.factories import inbound
from tests.web.conftest import Site, console_page, sign_in, staff_page
from tests.web.screens import LOCALES, assert_accessible
from tests.web.test_board_browser import a_desk

pytestmark = [pytest.mark.browser]
BY_LANG = pytest.mark.parametrize("lang", sorted(LOCALES))

# Push `n` copies of the board shown now, as frames would come (a newer event id each).
PUSH_FRAMES = """async (n) => {
  const m = await import('/static/board/state.js');
  for (let i = 0; i < n; i += 1) {
    const b = m.getBoard();
    m.setBoard({ ...b, event_id: b.event_id + 1 });
  }
}"""


async def _board(site: Site, browser: Browser, lang: str) -> Page:
    page = await staff_page(browser, site.url, "boss", "/board", lang)
    await expect(page.get_by_test_id("board-status")).to_have_attribute(
        "data-state", "connected", timeout=10_000
    )
    return page


@BY_LANG
async def test_the_profile_keeps_her_closed_days_and_a_presence_changed_meanwhile(
    site: Site, browser: Browser, lang: str
) -> None:
    suzuki = site.id("suzuki")
    async with await sign_in(site.url, "boss") as boss:
        shift = {"timezone": "Asia/Tokyo", "weekly": {"monday": ["09:00-17:00"]}}
        body = {"presence": "available", "shift": shift | {"closed_days": "work"}}
        async with boss.patch(f"{site.url}/api/counselors/{suzuki}", json=body) as r:
            assert r.status == 200, await r.text()
    board = await _board(site, browser, lang)
    card = board.locator(f'li.board-counselor[data-counselor-id="{suzuki}"]')
    await card.get_by_test_id("counselor-profile").click()
    await expect(board.get_by_test_id("profile-dialog")).to_be_visible()
    closed = board.get_by_test_id("profile-closed-days")
    await expect(closed).to_be_checked()
    words = {"ja": "祝日・年末年始も勤務する", "en": "Works on holidays and the year-end closure"}
    await expect(board.locator("label", has=closed)).to_contain_text(words[lang])
    await assert_accessible(board, f"board-fixes-profile-{lang}")
    # Meanwhile she goes away from her own console; the supervisor changes only the capacity.
    async with await sign_in(site.url, "suzuki") as her:
        url = f"{site.url}/api/counselors/{suzuki}"
        async with her.patch(url, json={"presence": "away"}) as r:
            assert r.status == 200, await r.text()
    await board.get_by_test_id("profile-capacity").fill("4")
    sent: list[str] = []
    board.on(
        "request",
        lambda req: sent.append(req.post_data or "") if req.method == "PATCH" else None,
    )
    await board.get_by_test_id("profile-save").click()
    await expect(board.get_by_test_id("profile-dialog")).to_be_hidden()
    stored = await site.store.get_user(UserId(suzuki))
    assert stored.capacity == 4
    assert stored.presence is Presence.AWAY  # not overwritten with what the dialog opened with
    assert stored.shift is not None and stored.shift.closed_days is ClosedDays.WORK
    assert sent == ['{"capacity":4}']

    # Unticked, the whole shift goes, saying "follow".
    await card.get_by_test_id("counselor-profile").click()
    await expect(closed).to_be_checked()
    await closed.uncheck()
    await board.get_by_test_id("profile-save").click()
    await expect(board.get_by_test_id("profile-dialog")).to_be_hidden()
    stored = await site.store.get_user(UserId(suzuki))
    assert stored.shift is not None and stored.shift.closed_days is ClosedDays.FOLLOW
    assert stored.presence is Presence.AWAY and stored.capacity == 4


@BY_LANG
async def test_the_board_draws_in_place_and_clicks_land_while_frames_arrive(
    site: Site, boss: aiohttp.ClientSession, browser: Browser, lang: str
) -> None:
    ids = await a_desk(site, boss)
    page = await _board(site, browser, lang)
    row = page.locator(f'li.board-conv[data-conversation-id="{ids["waiting"]}"]')
    await expect(row).to_have_count(1, timeout=10_000)
    # The same elements after frames: rows, cards, table rows, the channel buttons.
    await page.evaluate(
        """(conv) => {
          window.__kept = [
            document.querySelector(`li.board-conv[data-conversation-id="${conv}"]`),
            document.querySelector('li.board-counselor'),
            document.querySelector('#board-channels tbody tr'),
            document.querySelector('#board-queue-table tbody tr'),
            document.querySelector('[data-testid="counselor-profile"]'),
          ];
        }""",
        ids["waiting"],
    )
    await page.evaluate(PUSH_FRAMES, 5)
    same = await page.evaluate("""() => window.__kept.map((e) => e !== null && e.isConnected)""")
    assert same == [True] * 5

    # Focus stays where it is, and is not given again by each frame.
    toggle = page.get_by_test_id("channel-toggle-mail")
    await toggle.focus()
    await page.evaluate(
        """() => {
          window.__focusins = 0;
          document.addEventListener('focusin', () => { window.__focusins += 1; });
        }"""
    )
    await page.evaluate(PUSH_FRAMES, 5)
    await expect(toggle).to_be_focused()
    assert await page.evaluate("() => window.__focusins") == 0

    # Clicks on a checkbox while frames arrive every 30 ms: each one lands.
    await page.evaluate(
        """async () => {
          const m = await import('/static/board/state.js');
          window.__frames = setInterval(() => {
            const b = m.getBoard();
            m.setBoard({ ...b, event_id: b.event_id + 1 });
          }, 30);
        }"""
    )
    box = row.locator("input.board-select")
    for i in range(10):
        await box.click(delay=80)  # held a moment, as a hand does
        if i % 2 == 0:
            await expect(box).to_be_checked()
        else:
            await expect(box).not_to_be_checked()
    await page.evaluate("() => clearInterval(window.__frames)")
    await assert_accessible(page, f"board-fixes-in-place-{lang}")


@BY_LANG
async def test_acknowledging_an_alert_moves_focus_to_the_next(
    site: Site, boss: aiohttp.ClientSession, browser: Browser, lang: str
) -> None:
    await a_desk(site, boss)
    page = await _board(site, browser, lang)
    alerts = page.get_by_test_id("board-alerts").locator("li")
    await expect(alerts).to_have_count(2)
    second = await alerts.nth(1).get_attribute("data-event-id")
    await alerts.first.get_by_test_id("alert-ack").focus()
    await page.keyboard.press("Enter")
    await expect(alerts).to_have_count(1)
    await expect(page.locator(f'[data-focus-key="ack-{second}"]')).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(alerts).to_have_count(0)
    await expect(page.locator("#board-alerts-heading")).to_be_focused()
    await assert_accessible(page, f"board-fixes-acked-{lang}")


@BY_LANG
async def test_the_handover_note_is_read_without_a_read_in_the_audit_log(
    site: Site, browser: Browser, lang: str
) -> None:
    sato, suzuki = UserId(site.id("sato")), UserId(site.id("suzuki"))
    now = datetime.now(UTC)
    (stored,) = await site.store.save_inbound_batch(
        [inbound("a@example.jp", channel=ChannelKind.MAIL, body="相談です", received_at=now)]
    )
    conv = stored.conversation_id
    await site.store.assign(conv, sato, actor_id=sato, now=now, capacity=None)
    receiver = await console_page(browser, site.url, "suzuki", lang)
    note = "明日の朝に返信をお願いします。"
    async with await sign_in(site.url, "boss") as boss:
        body = {"conversation_ids": [conv], "to_user_id": suzuki, "note": note}
        async with boss.post(f"{site.url}/api/conversations/move", json=body) as r:
            assert r.status == 200, await r.text()
    words = {"ja": "引き継ぎメモ: {note}", "en": "Handover note: {note}"}
    await expect(receiver.get_by_test_id("handover-note")).to_have_text(
        words[lang].format(note=note), timeout=10_000
    )
    await assert_accessible(receiver, f"board-fixes-handover-{lang}")
    reads = await site.store.audit_events(
        AuditQuery(actor_id=suzuki, kinds=("conversation_read",), limit=10)
    )
    assert reads == []
    # The endpoint itself: the giver, when, the note; a counselor not hers gets 404.
    handover = f"{site.url}/api/conversations/{conv}/handover"
    async with await sign_in(site.url, "suzuki") as her, her.get(handover) as r:
        assert r.status == 200
        data = await r.json()
    assert data["handover"]["by_id"] == site.id("boss")
    assert data["handover"]["note"] == note
    async with await sign_in(site.url, "sato") as giver, giver.get(handover) as r:
        assert r.status == 404
    reads = await site.store.audit_events(
        AuditQuery(actor_id=suzuki, kinds=("conversation_read",), limit=10)
    )
    assert reads == []


async def test_more_than_the_server_moves_at_once_goes_in_batches(
    site: Site, browser: Browser
) -> None:
    page = await _board(site, browser, "en")
    await expect(page.locator("li.board-counselor")).not_to_have_count(0, timeout=10_000)
    bodies: list[str] = []
    page.on(
        "request",
        lambda req: bodies.append(req.post_data or "") if req.url.endswith("/move") else None,
    )
    # 250 ids no conversation has: the server says "not found" for each, in two calls
    await page.evaluate(
        """async (to) => {
          const m = await import('/static/board/move.js');
          const ids = Array.from({ length: 250 }, (_, i) => 900000 + i);
          await m.openMove(ids, to, null);
        }""",
        site.id("suzuki"),
    )
    await page.get_by_test_id("move-confirm").click()
    failures = page.get_by_test_id("move-failures").locator("li")
    await expect(failures).to_have_count(250, timeout=10_000)
    assert [body.count(",") for body in bodies] == [200 + 1, 50 + 1]  # ids, plus two fields


@BY_LANG
async def test_waits_on_the_server_clock_targets_near_and_urgency_in_words(
    site: Site, boss: aiohttp.ClientSession, browser: Browser, lang: str
) -> None:
    ids = await a_desk(site, boss)
    page = await _board(site, browser, lang)
    row = page.locator(f'li.board-conv[data-conversation-id="{ids["waiting"]}"]')
    await expect(row).to_have_count(1, timeout=10_000)
    # The queue says the urgency in words, never the raw priority.
    urgent = page.get_by_test_id("board-queue").locator("tr.board-queue-urgent")
    await expect(urgent).to_contain_text(
        {"ja": "緊急：自殺の危険", "en": "Urgent: Suicide risk"}[lang]
    )
    await expect(urgent).not_to_contain_text("100")
    # A board whose server clock runs two hours ahead of this browser's, with the waiting row's
    # target a minute away (due_soon_s: ten minutes).
    await page.evaluate(
        """(conv) => import('/static/board/state.js').then((m) => {
          const b = m.getBoard();
          const now = new Date(Date.now() + 2 * 3600 * 1000);
          const waiting = b.waiting.map((c) => c.id === conv
            ? { ...c, waiting_since: new Date(now.getTime() - 3 * 3600 * 1000).toISOString(),
                seconds_left: 60, due: new Date(now.getTime() + 60000).toISOString() }
            : c);
          m.setBoard({ ...b, event_id: b.event_id + 1, now: now.toISOString(), waiting,
                       due_soon_s: 600 });
        })""",
        ids["waiting"],
    )
    await expect(row.locator(".board-conv-wait")).to_contain_text(
        {"ja": "3時間", "en": "3 h"}[lang]
    )
    await expect(row.locator(".board-conv-due")).to_have_class("board-conv-due board-due-soon")

    # A language switch re-words the alerts in place, announcing nothing.
    first = page.get_by_test_id("board-alerts").locator("li").first
    await page.evaluate(
        "() => { window.__alert = document.querySelector('#board-alert-list li'); }"
    )
    await page.get_by_test_id("lang-toggle").click()
    await expect(first).to_contain_text({"ja": "Acknowledge", "en": "確認済みにする"}[lang])
    assert await page.evaluate(
        "() => window.__alert === document.querySelector('#board-alert-list li')"
    )
    alerts = page.get_by_test_id("board-alerts")
    await expect(alerts).to_have_attribute("aria-live", "off")
    await expect(alerts).to_have_attribute("aria-live", "polite")
