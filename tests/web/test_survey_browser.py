"""The satisfaction survey in the consulter's chat, in headless Chromium: when her counselor
closes the conversation its question comes with four buttons (again after a reload while it is
open), her click is thanked and counted once, apart from her; in Japanese and English, checked
by axe-core with screenshots."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.async_api import Browser, Page, expect

from storage.sqlite.store import SqliteStore
from tests.web.conftest import Server, sign_in
from tests.web.screens import LOCALES, assert_accessible

WORDS = {
    "ja": ("今回の相談はいかがでしたか？", "満足", "ありがとうございました"),
    "en": ("How was your consultation today?", "Satisfied", "Thank you for your answer"),
}


async def _write(page: Page, text: str) -> None:
    await page.get_by_test_id("chat-input").fill(text)
    await page.get_by_test_id("chat-send").click()
    mine = page.get_by_test_id("chat-message").filter(has_text=text)
    await expect(mine).to_have_attribute("data-state", "sent", timeout=10_000)


async def _close_hers(server: Server, page: Page) -> None:
    """Her counselor (routing gives it to sato or suzuki) closes her open conversation."""
    for _ in range(100):
        for name in ("sato", "suzuki"):
            async with await sign_in(server.url, name) as staff:
                async with staff.get(f"{server.url}/api/conversations") as r:
                    found = (await r.json())["conversations"]
                mine = [c["id"] for c in found if c["status"] != "closed"]
                if mine:
                    async with staff.post(
                        f"{server.url}/api/conversations/{mine[0]}/close",
                        json={"outcome": "listened"},
                    ) as r:
                        assert r.status == 200, await r.text()
                    return
        await page.wait_for_timeout(100)
    raise AssertionError("her conversation was never given to a counselor")


async def test_the_survey_is_answered_in_her_chat(server: Server, browser: Browser) -> None:
    for lang in ("ja", "en"):
        question, best, thanks = WORDS[lang]
        context = await browser.new_context(locale=LOCALES[lang])
        page = await context.new_page()
        await page.goto(f"{server.url}/chat")
        await _write(page, f"相談です / consultation {lang}")
        await _close_hers(server, page)
        asked = page.get_by_test_id("chat-message").filter(has_text=question)
        survey = asked.get_by_test_id("chat-survey")
        await expect(survey.get_by_role("button")).to_have_count(4, timeout=10_000)
        await expect(survey.get_by_role("button").first).to_have_text(best)
        await expect(survey).to_have_attribute(
            "aria-label",
            "今回の相談の満足度"
            if lang == "ja"
            else "How satisfied you were with this consultation",
        )
        if lang == "ja":  # still open: her history shows the buttons again
            await page.reload()
            await expect(survey.get_by_role("button")).to_have_count(4, timeout=10_000)
        await assert_accessible(page, f"chat-survey-asked-{lang}")
        await survey.get_by_role("button", name=best, exact=True).click()
        said = survey.get_by_test_id("chat-survey-said")
        await expect(said).to_contain_text(thanks, timeout=10_000)
        await expect(survey.get_by_role("button")).to_have_count(0)
        await assert_accessible(page, f"chat-survey-thanks-{lang}")
        await page.reload()  # answered: no buttons any more
        await expect(asked).to_have_count(1, timeout=10_000)
        await expect(asked.get_by_test_id("chat-survey")).to_have_count(0)
        await context.close()
    assert server.cfg.database.sqlite_path is not None
    async with SqliteStore(server.cfg.database.sqlite_path) as store:
        today = datetime.now(UTC).astimezone(server.cfg.routing.timezone).date()
        assert await store.survey_counts(today, today) == {1: 2, 2: 0, 3: 0, 4: 0}
