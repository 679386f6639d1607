"""The supervisor's actions on the board, in headless Chromium, in Japanese and English: she
moves a conversation by dragging it onto a counselor's card and another by keyboard alone, and
both counselors' consoles follow (the giver loses it, the receiver is told, with the note);
she takes a counselor off shift; she edits a capacity and a shift and the board shows it.
Each screen: screenshot and axe-core."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from inbox.core.model import ChannelKind, ConversationId, ConversationStatus, Presence, UserId
from tests.factories import inbound
from tests.web.conftest import Site, console_page, sign_in, staff_page
from tests.web.screens import LOCALES, assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("lang", sorted(LOCALES))]
WORDS = {
    "ja": {
        "moved_one": "1件をSuzukiさんに移しました。",
        "given": "Bossさんが {alias} の相談をあなたの担当にしました",
        "note": "引き継ぎメモ: {note}",
        "drained": (
            "Satoさん: 2件を待ち行列に戻し、0件は担当のままです。在席状況は「オフライン」です。"
        ),
        "kept": "Suzukiさん: 0件を待ち行列に戻し、0件は担当のままです。在席状況は「離席中」です。",
        "saved": "Suzukiさんのプロフィールを保存しました。",
        "bad_monday": "月曜日: 09:00-17:00 の形で、重ならないように入れてください。",
        "load": "0 / 5 件",
        "webchat": "Webチャット 0/2",
    },
    "en": {
        "moved_one": "Moved 1 to Suzuki.",
        "given": "Boss gave you the conversation with {alias}",
        "note": "Handover note: {note}",
        "drained": "Sato: 2 handed back to the queue, 0 kept with her. Presence: Offline.",
        "kept": "Suzuki: 0 handed back to the queue, 0 kept with her. Presence: Away.",
        "saved": "Saved Suzuki's profile.",
        "bad_monday": "Monday: Enter times like 09:00-17:00 that do not overlap.",
        "load": "0 of 5",
        "webchat": "Web chat 0/2",
    },
}


async def _satos_two(site: Site) -> tuple[ConversationId, ConversationId]:
    """Two e-mail conversations of sato's."""
    sato = UserId(site.id("sato"))
    now = datetime.now(UTC)
    ids = []
    for sender, body in (("a@example.jp", "一つ目の相談"), ("b@example.jp", "二つ目の相談")):
        (stored,) = await site.store.save_inbound_batch(
            [inbound(sender, channel=ChannelKind.MAIL, body=body, received_at=now)]
        )
        await site.store.assign(stored.conversation_id, sato, actor_id=sato, now=now, capacity=None)
        ids.append(stored.conversation_id)
    return ids[0], ids[1]


def _row(page: Page, conv: int) -> Locator:
    return page.locator(f'li.board-conv[data-conversation-id="{conv}"]')


def _card(page: Page, site: Site, name: str) -> Locator:
    return page.locator(f'li.board-counselor[data-counselor-id="{site.id(name)}"]')


async def _queue_has(console: Page, conv: int, present: bool) -> None:
    item = console.locator(f'[data-testid="queue-item"][data-conversation-id="{conv}"]')
    await expect(item).to_have_count(1 if present else 0, timeout=10_000)


async def test_she_moves_by_drag_and_by_keyboard_and_both_consoles_follow(
    site: Site, browser: Browser, lang: str
) -> None:
    first, second = await _satos_two(site)
    words = WORDS[lang]
    sato = await console_page(browser, site.url, "sato", lang)
    suzuki = await console_page(browser, site.url, "suzuki", lang)
    await _queue_has(sato, first, True)
    board = await staff_page(browser, site.url, "boss", "/board", lang)
    await expect(_row(board, first)).to_be_visible(timeout=10_000)
    await expect(_card(board, site, "suzuki")).to_be_visible()

    # By drag: the row onto suzuki's card opens the dialog with her chosen, the note next.
    await _row(board, first).drag_to(_card(board, site, "suzuki"))
    dialog = board.get_by_test_id("move-dialog")
    await expect(dialog).to_be_visible()
    await expect(board.get_by_test_id("move-to")).to_have_value(str(site.id("suzuki")))
    await expect(board.get_by_test_id("move-note")).to_be_focused()
    note = "DVの件。明日の朝いちばんに返信をお願いします。"
    await board.get_by_test_id("move-note").fill(note)
    await assert_accessible(board, f"actions-board-move-dialog-{lang}")
    await board.get_by_test_id("move-confirm").click()
    await expect(dialog).to_be_hidden()
    await expect(board.get_by_test_id("board-action-live")).to_have_text(words["moved_one"])
    moved = await site.store.get_conversation(first)
    assert moved.assignee_id == site.id("suzuki")

    # The giver loses it; the receiver has it, and is told who gave it, with the note.
    await _queue_has(sato, first, False)
    await _queue_has(suzuki, first, True)
    notice = suzuki.get_by_test_id("handover-notice")
    await expect(notice).to_contain_text(words["given"].format(alias=moved.contact_alias))
    await expect(suzuki.get_by_test_id("handover-note")).to_have_text(
        words["note"].format(note=note)
    )
    await assert_accessible(suzuki, f"actions-board-receiver-{lang}")

    # By keyboard: tick the row (Space), M, the counselor from the list, Enter.
    box = _row(board, second).locator("input.board-select")
    await box.focus()
    await board.keyboard.press("Space")
    await expect(box).to_be_checked()
    await expect(board.get_by_test_id("board-selection-count")).not_to_be_empty()
    await board.keyboard.press("m")
    await expect(dialog).to_be_visible()
    chooser = board.get_by_test_id("move-to")
    await expect(chooser).to_be_focused()
    await chooser.select_option(str(site.id("suzuki")))
    await chooser.press("Enter")
    await expect(dialog).to_be_hidden()
    await expect(board.get_by_test_id("board-action-live")).to_have_text(words["moved_one"])
    assert (await site.store.get_conversation(second)).assignee_id == site.id("suzuki")
    await _queue_has(sato, second, False)
    await _queue_has(suzuki, second, True)
    await expect(suzuki.get_by_test_id("handover-notice")).to_have_count(2)
    await assert_accessible(board, f"actions-board-moved-{lang}")


async def test_she_takes_a_counselor_off_shift(site: Site, browser: Browser, lang: str) -> None:
    first, second = await _satos_two(site)
    async with await sign_in(site.url, "boss") as boss:  # no one takes what sato hands back
        url = f"{site.url}/api/counselors/{site.id('suzuki')}"
        async with boss.patch(url, json={"presence": "away"}) as r:
            assert r.status == 200
    board = await staff_page(browser, site.url, "boss", "/board", lang)
    button = _card(board, site, "sato").get_by_test_id("counselor-drain")
    await expect(button).to_be_visible(timeout=10_000)
    await button.click()
    dialog = board.get_by_test_id("drain-dialog")
    await expect(dialog).to_be_visible()
    await expect(board.get_by_test_id("drain-what")).to_contain_text("2")
    await expect(board.get_by_test_id("drain-requeue")).to_be_checked()
    await board.get_by_test_id("drain-note").fill("本日分の引き継ぎです。")
    await assert_accessible(board, f"actions-board-drain-dialog-{lang}")
    await board.get_by_test_id("drain-confirm").click()
    await expect(dialog).to_be_hidden()
    await expect(board.get_by_test_id("board-action-live")).to_have_text(WORDS[lang]["drained"])
    await expect(button).to_be_focused()
    for conv in (first, second):
        back = await site.store.get_conversation(conv)
        assert (back.status, back.assignee_id) == (ConversationStatus.QUEUED, None)
    assert (await site.store.get_user(site.id("sato"))).presence is Presence.OFFLINE
    await assert_accessible(board, f"actions-board-drained-{lang}")

    # Keeping her work: no note to write, only her presence changes.
    await _card(board, site, "suzuki").get_by_test_id("counselor-drain").click()
    await expect(dialog).to_be_visible()
    await board.get_by_test_id("drain-keep").check()
    await expect(board.get_by_test_id("drain-note")).to_be_disabled()
    await board.get_by_test_id("drain-presence").select_option("away")
    await board.get_by_test_id("drain-confirm").click()
    await expect(dialog).to_be_hidden()
    await expect(board.get_by_test_id("board-action-live")).to_have_text(WORDS[lang]["kept"])


async def test_she_edits_a_capacity_and_a_shift(site: Site, browser: Browser, lang: str) -> None:
    words = WORDS[lang]
    board = await staff_page(browser, site.url, "boss", "/board", lang)
    card = _card(board, site, "suzuki")
    await expect(card).to_be_visible(timeout=10_000)
    await card.get_by_test_id("counselor-profile").click()
    dialog = board.get_by_test_id("profile-dialog")
    await expect(dialog).to_be_visible()
    await expect(board.get_by_test_id("profile-capacity")).to_have_value("3")
    await expect(board.get_by_test_id("profile-has-shift")).not_to_be_checked()
    await board.get_by_test_id("profile-capacity").fill("5")
    await board.get_by_test_id("profile-channel-webchat").fill("2")
    await board.get_by_test_id("profile-skills").fill("dv, 法律")
    await board.get_by_test_id("profile-has-shift").check()
    await expect(board.get_by_test_id("profile-timezone")).to_have_value("Asia/Tokyo")
    monday = board.get_by_test_id("profile-day-monday")
    await monday.fill("9-17")
    await board.get_by_test_id("profile-save").click()
    # The server refuses it; the error names the field, which is marked and focused.
    await expect(board.get_by_test_id("profile-error")).to_have_text(words["bad_monday"])
    await expect(monday).to_have_attribute("aria-invalid", "true")
    await expect(monday).to_be_focused()
    await assert_accessible(board, f"actions-board-profile-error-{lang}")
    await monday.fill("09:00-12:00, 13:00-17:30")
    await board.get_by_test_id("profile-day-saturday").fill("10:00-15:00")
    await board.get_by_test_id("profile-save").click()
    await expect(dialog).to_be_hidden()
    await expect(board.get_by_test_id("board-action-live")).to_have_text(words["saved"])
    stored = await site.store.get_user(site.id("suzuki"))
    assert stored.capacity == 5
    assert dict(stored.channel_capacity) == {ChannelKind.WEBCHAT: 2}
    assert stored.skills == frozenset({"dv", "法律"})
    assert stored.shift is not None and stored.shift.tz == "Asia/Tokyo"
    assert [len(day) for day in stored.shift.weekly] == [2, 0, 0, 0, 0, 1, 0]
    # The board shows her new capacity, in all and per channel.
    await expect(card).to_contain_text(words["load"], timeout=10_000)
    await expect(card).to_contain_text(words["webchat"])
    await assert_accessible(board, f"actions-board-profile-saved-{lang}")

    # Opened again, the editor shows what was saved.
    await card.get_by_test_id("counselor-profile").click()
    await expect(board.get_by_test_id("profile-day-monday")).to_have_value(
        "09:00-12:00, 13:00-17:30"
    )
    await expect(board.get_by_test_id("profile-channel-webchat")).to_have_value("2")
    await board.get_by_test_id("profile-cancel").click()
    await expect(dialog).to_be_hidden()


async def test_she_moves_a_selection_and_is_told_what_could_not_move(
    site: Site, browser: Browser, lang: str
) -> None:
    first, second = await _satos_two(site)
    board = await staff_page(browser, site.url, "boss", "/board", lang)
    for conv in (first, second):
        await expect(_row(board, conv)).to_be_visible(timeout=10_000)
        await _row(board, conv).locator("input.board-select").check()
    count = board.get_by_test_id("board-selection-count")
    await expect(count).to_have_text({"ja": "2件を選択中", "en": "2 selected"}[lang])
    await board.get_by_test_id("board-move").click()
    dialog = board.get_by_test_id("move-dialog")
    await expect(dialog).to_be_visible()
    await expect(board.get_by_test_id("move-what")).to_contain_text(
        {"ja": "（2件）", "en": "(2)"}[lang]
    )
    # Nobody chosen: said, nothing sent.
    await board.get_by_test_id("move-confirm").click()
    await expect(board.get_by_test_id("move-error")).to_have_text(
        {"ja": "移す先の相談員を選んでください。", "en": "Choose the counselor to move to."}[lang]
    )
    await expect(board.get_by_test_id("move-to")).to_be_focused()
    # Meanwhile the second is closed: the first moves, the second is listed with why.
    async with await sign_in(site.url, "boss") as boss:
        close = f"{site.url}/api/conversations/{second}/close"
        async with boss.post(close, json={"outcome": "other"}) as r:
            assert r.status == 200, await r.text()
    await board.get_by_test_id("move-to").select_option(str(site.id("suzuki")))
    await board.get_by_test_id("move-confirm").click()
    failures = board.get_by_test_id("move-failures")
    await expect(failures.locator("li")).to_have_count(1)
    await expect(failures.locator("li")).to_have_attribute("data-conversation-id", str(second))
    await expect(dialog).to_be_visible()
    said = {
        "ja": "1件をSuzukiさんに移しました。1件は移せませんでした。",
        "en": "Moved 1 to Suzuki. 1 could not be moved.",
    }[lang]
    await expect(board.get_by_test_id("board-action-live")).to_have_text(said)
    await expect(board.get_by_test_id("move-error")).to_have_text(said)
    assert (await site.store.get_conversation(first)).assignee_id == site.id("suzuki")
    await assert_accessible(board, f"actions-board-move-failed-{lang}")
    await board.get_by_test_id("move-cancel").click()
    await expect(dialog).to_be_hidden()
    await expect(count).to_contain_text(
        {"ja": "移す相談をチェックで選ぶか", "en": "Tick conversations to move"}[lang]
    )
