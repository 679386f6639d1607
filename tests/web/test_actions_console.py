"""The supervisor's actions as the console shows them, in headless Chromium, in Japanese and
English: a supervisor reveals a pseudonymous e-mail consulter's address with a reason (audited;
nothing offered for a web chat, nor to a counselor), and a counselor is told, with the note,
when a supervisor gives her a conversation. Each screen: screenshot and axe-core."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.async_api import Browser, expect

from inbox.core.model import ChannelKind, ConversationId, CounselorUpdate, Presence, UserId
from tests.factories import inbound
from tests.web.conftest import Site, console_page, sign_in
from tests.web.screens import LOCALES, assert_accessible

pytestmark = pytest.mark.parametrize("lang", sorted(LOCALES))
WORDS = {
    "ja": {
        "reveal": "連絡先を表示",
        "shown": "連絡先: hanako@example.jp",
        "given": "Bossさんが {alias} の相談をあなたの担当にしました",
        "note": "引き継ぎメモ: 夜勤の鈴木さんへ。住まいの件で、明日の朝に返信を。",
    },
    "en": {
        "reveal": "Reveal address",
        "shown": "Address: hanako@example.jp",
        "given": "Boss gave you the conversation with {alias}",
        "note": "Handover note: 夜勤の鈴木さんへ。住まいの件で、明日の朝に返信を。",
    },
}


async def _mail_and_chat(site: Site) -> tuple[ConversationId, ConversationId]:
    """An e-mail (pseudonymous by default) and a web chat, both sato's."""
    sato = UserId(site.id("sato"))
    now = datetime.now(UTC)
    (mail,) = await site.store.save_inbound_batch(
        [inbound("hanako@example.jp", channel=ChannelKind.MAIL, body="メールで相談します")]
    )
    (chat,) = await site.store.save_inbound_batch([inbound("chat-key", body="チャットです")])
    for conv in (mail, chat):
        await site.store.assign(conv.conversation_id, sato, actor_id=sato, now=now, capacity=None)
    return mail.conversation_id, chat.conversation_id


async def _reveals(site: Site) -> list[str]:
    return [
        str(e.data.get("reason"))
        for e in await site.store.list_events()
        if e.kind == "address_revealed"
    ]


async def test_a_supervisor_reveals_an_address_with_a_reason(
    site: Site, browser: Browser, lang: str
) -> None:
    mail, chat = await _mail_and_chat(site)
    words = WORDS[lang]
    page = await console_page(browser, site.url, "boss", lang, height=900)

    # A web chat has no address: nothing is offered.
    await page.locator(f'[data-testid="queue-item"][data-conversation-id="{chat}"]').click()
    await expect(page.get_by_test_id("conv-messages")).to_contain_text("チャットです")
    await page.wait_for_load_state("networkidle")
    await expect(page.get_by_test_id("reveal-button")).to_be_hidden()

    await page.locator(f'[data-testid="queue-item"][data-conversation-id="{mail}"]').click()
    await expect(page.get_by_test_id("conv-messages")).to_contain_text("メールで相談します")
    button = page.get_by_test_id("reveal-button")
    await expect(button).to_have_text(words["reveal"])
    await expect(page.get_by_test_id("conv-revealed")).to_be_hidden()
    await button.click()
    dialog = page.get_by_test_id("reveal-dialog")
    await expect(dialog).to_be_visible()
    await expect(page.get_by_test_id("reveal-reason")).to_be_focused()
    await page.get_by_test_id("reveal-confirm").click()  # no reason: said, nothing sent
    await expect(page.get_by_test_id("reveal-error")).to_be_visible()
    assert await _reveals(site) == []
    await page.get_by_test_id("reveal-reason").fill("緊急の安否確認のため")
    await assert_accessible(page, f"actions-console-reveal-dialog-{lang}")
    await page.get_by_test_id("reveal-confirm").click()
    await expect(dialog).to_be_hidden()
    shown = page.get_by_test_id("conv-revealed")
    await expect(shown).to_contain_text(words["shown"])
    await expect(shown).to_be_focused()
    await expect(button).to_be_hidden()
    assert await _reveals(site) == ["緊急の安否確認のため"]
    await assert_accessible(page, f"actions-console-revealed-{lang}")

    # Shown once: another conversation and back, and it is gone (a new reveal, a new record).
    await page.locator(f'[data-testid="queue-item"][data-conversation-id="{chat}"]').click()
    await expect(shown).to_be_hidden()
    await page.locator(f'[data-testid="queue-item"][data-conversation-id="{mail}"]').click()
    await expect(button).to_be_visible()
    await expect(shown).to_be_hidden()

    # Her counselor's role may not reveal: nothing is offered to her.
    sato = await console_page(browser, site.url, "sato", lang)
    await sato.locator(f'[data-testid="queue-item"][data-conversation-id="{mail}"]').click()
    await expect(sato.get_by_test_id("conv-messages")).to_contain_text("メールで相談します")
    await sato.wait_for_load_state("networkidle")
    await expect(sato.get_by_test_id("reveal-button")).to_be_hidden()
    assert len(await _reveals(site)) == 1


async def test_a_counselor_is_told_of_a_conversation_moved_to_her(
    site: Site, browser: Browser, lang: str
) -> None:
    mail, _chat = await _mail_and_chat(site)
    words = WORDS[lang]
    suzuki = await console_page(browser, site.url, "suzuki", lang)
    await expect(suzuki.get_by_test_id("queue-item")).to_have_count(0)
    note = "夜勤の鈴木さんへ。住まいの件で、明日の朝に返信を。"
    async with (
        await sign_in(site.url, "boss") as boss,
        boss.post(
            f"{site.url}/api/conversations/move",
            json={"conversation_ids": [mail], "to_user_id": site.id("suzuki"), "note": note},
        ) as r,
    ):
        assert r.status == 200, await r.text()
        assert (await r.json())["moved"] == [mail]
    notice = suzuki.get_by_test_id("handover-notice")
    await expect(notice).to_have_count(1, timeout=10_000)
    alias = (await site.store.get_conversation(mail)).contact_alias
    await expect(notice).to_contain_text(words["given"].format(alias=alias))
    await expect(suzuki.get_by_test_id("handover-note")).to_have_text(words["note"])
    item = suzuki.locator(f'[data-testid="queue-item"][data-conversation-id="{mail}"]')
    await expect(item).to_be_visible()  # her queue has it
    await assert_accessible(suzuki, f"actions-console-handover-{lang}")
    await suzuki.get_by_test_id("handover-open").click()
    await expect(notice).to_have_count(0)
    await expect(suzuki.get_by_test_id("conv-title")).to_have_text(alias)
    await expect(suzuki.get_by_test_id("conv-messages")).to_contain_text(note)


async def test_no_notice_when_she_takes_one_herself(
    site: Site, browser: Browser, lang: str
) -> None:
    # Both counselors away, so that no router round offers it to either while she claims it.
    for name in ("sato", "suzuki"):
        who = UserId(site.id(name))
        away = CounselorUpdate(presence=Presence.AWAY)
        await site.store.update_counselor(who, away, actor_id=who, now=datetime.now(UTC))
    (conv,) = await site.store.save_inbound_batch([inbound("chat-key", body="チャットです")])
    sato = await console_page(browser, site.url, "sato", lang)
    item = sato.locator(
        f'[data-testid="queue-item"][data-conversation-id="{conv.conversation_id}"]'
    )
    await item.click()
    await sato.get_by_test_id("claim-button").click()
    await expect(sato.get_by_test_id("claim-button")).to_be_hidden()
    await sato.wait_for_timeout(500)
    await expect(sato.get_by_test_id("handover-notice")).to_have_count(0)
