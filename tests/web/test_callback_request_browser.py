"""A counselor asks the phone desk to call her back, from the console, in headless Chromium, in
Japanese and English, at a laptop's and a phone's width: from her web chat, with a weekday
lunch window, the callback is on phone staff's list with that window, and the number is left
nowhere (not in the page, not in the browser's console); a bad number is said next to the
number field; a number on another consulter's record is refused in the dialog; and nothing is
offered on a phone conversation. Each screen: screenshot and axe-core."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest
from playwright.async_api import Browser, Page, expect

from inbox.core.model import ConversationId, UserId
from tests.web.conftest import Site, console_page, sign_in
from tests.web.screens import assert_accessible
from tests.web.test_supervision import call, everyone_away, now_inbound, seed

pytestmark = pytest.mark.browser
NUMBER = "080-2468-1357"  # not the hint's example (090-1234-5678)
DIGITS = ("8024681357", "2468-1357", "24681357")  # her number in any format: none may show
WORDS = {
    "ja": {
        "open": "折り返し電話を依頼",
        "safety": "本人が安全に電話に出られる時間だけを入力してください。",
        "done": "折り返しを依頼しました（電話窓口の一覧に入りました）。",
        "other": "この番号は別の相談者の記録のものです",
        "bad": "電話番号を確認してください",
    },
    "en": {
        "open": "Request a callback",
        "safety": "Only times she said she can safely talk.",
        "done": "Callback requested (it is on the phone desk's list).",
        "other": "This number belongs to another consulter's record",
        "bad": "Check the phone number",
    },
}


@pytest.fixture
async def phone(site: Site) -> AsyncIterator[aiohttp.ClientSession]:
    async with await sign_in(site.url, "phone") as session:
        yield session


async def sato_chat(site: Site, body: str) -> ConversationId:
    """A web chat of sato's, stored behind the server's back."""
    (chat,) = await seed(site, now_inbound(f"chat-{body}", body=body))
    sato = UserId(site.id("sato"))
    await site.store.assign(chat, sato, actor_id=sato, now=datetime.now(UTC), capacity=None)
    return chat


async def console_at(browser: Browser, site: Site, who: str, lang: str, width: int) -> Page:
    page = await console_page(browser, site.url, who, lang, height=900)
    if width < 1200:
        await page.set_viewport_size({"width": width, "height": 844})
    return page


async def open_conversation(page: Page, conv: int, text: str) -> None:
    await page.locator(f'[data-testid="queue-item"][data-conversation-id="{conv}"]').click()
    await expect(page.get_by_test_id("conv-messages")).to_contain_text(text)


def listened(page: Page) -> list[str]:
    """Everything the page writes to the browser's console, as it comes."""
    lines: list[str] = []
    page.on("console", lambda msg: lines.append(msg.text))
    return lines


async def no_number_in(page: Page, console_lines: list[str]) -> None:
    html = await page.content()
    number_value = await page.get_by_test_id("callback-number").input_value()
    for digits in DIGITS:
        assert digits not in html and digits not in number_value
        assert not any(digits in line for line in console_lines)


@pytest.mark.parametrize(("lang", "width"), [("ja", 1280), ("en", 390)])
async def test_a_counselor_requests_a_callback_with_a_weekday_lunch_window(
    site: Site,
    boss: aiohttp.ClientSession,
    phone: aiohttp.ClientSession,
    browser: Browser,
    lang: str,
    width: int,
) -> None:
    await everyone_away(site, boss)
    chat = await sato_chat(site, "電話で話したいです")
    words = WORDS[lang]
    page = await console_at(browser, site, "sato", lang, width)
    lines = listened(page)
    await open_conversation(page, chat, "電話で話したいです")
    button = page.get_by_test_id("callback-button")
    await expect(button).to_have_text(words["open"])
    await button.click()
    dialog = page.get_by_test_id("callback-dialog")
    await expect(dialog).to_be_visible()
    await expect(page.get_by_test_id("callback-safety")).to_have_text(words["safety"])
    number = page.get_by_test_id("callback-number")
    await expect(number).to_be_focused()
    await expect(number).to_have_attribute("type", "tel")
    await expect(number).to_have_attribute("autocomplete", "off")
    # the picker's defaults: weekdays, 12:00-13:00
    await expect(page.get_by_test_id("callback-when-window")).to_be_checked()
    await expect(page.get_by_test_id("callback-days-weekdays")).to_be_checked()
    await expect(page.get_by_test_id("callback-day-monday")).to_be_disabled()
    await expect(page.get_by_test_id("callback-range")).to_have_count(1)
    await expect(page.get_by_test_id("callback-start")).to_have_value(str(12 * 60))
    await expect(page.get_by_test_id("callback-end")).to_have_value(str(13 * 60))
    await expect(page.get_by_test_id("callback-remove")).to_be_hidden()

    await number.fill(NUMBER)
    await page.get_by_test_id("callback-note").fill("昼休みなら一人で話せる")
    await assert_accessible(page, f"callback-dialog-{lang}-{width}")
    await page.get_by_test_id("callback-confirm").click()

    await expect(page.locator("#toast-text")).to_have_text(words["done"])
    await expect(page.get_by_test_id("console-error")).to_have_class("toast toast-ok")
    await expect(dialog).to_be_hidden()
    await expect(number).to_have_value("")
    await assert_accessible(page, f"callback-requested-{lang}-{width}")
    await no_number_in(page, lines)

    status, listed = await call(phone, "GET", f"{site.url}/api/callbacks")
    assert status == 200, listed
    (cb,) = listed["callbacks"]
    assert cb["window"] == {"weekdays": ["12:00-13:00"]}
    assert cb["tries"] == 0 and cb["status"] in ("queued", "assigned")
    for digits in DIGITS:
        assert digits not in str(listed)
    # the note went to the phone conversation, for phone staff
    status, read = await call(boss, "GET", f"{site.url}/api/conversations/{cb['conversation']}")
    assert status == 200, read
    assert [m["body"] for m in read["messages"]] == ["昼休みなら一人で話せる"]


@pytest.mark.parametrize(("lang", "width"), [("ja", 390), ("en", 1280)])
async def test_a_bad_number_or_another_consulters_number_is_said_in_the_dialog(
    site: Site,
    boss: aiohttp.ClientSession,
    phone: aiohttp.ClientSession,
    browser: Browser,
    lang: str,
    width: int,
) -> None:
    await everyone_away(site, boss)
    # the number is already another consulter's: a call phone staff logged by hand
    logged = {
        "direction": "inbound",
        "started_at": datetime.now(UTC).isoformat(),
        "duration_s": 60,
        "number": NUMBER,
        "withheld": False,
        "outcome": "reached",
        "note": "",
        "referrals": [],
        "follow_up": None,
        "conversation": None,
    }
    assert (await call(phone, "POST", f"{site.url}/api/calls", logged))[0] == 201
    chat = await sato_chat(site, "夜は電話に出られません")
    words = WORDS[lang]
    page = await console_at(browser, site, "sato", lang, width)
    lines = listened(page)
    await open_conversation(page, chat, "夜は電話に出られません")
    await page.get_by_test_id("callback-button").click()
    number = page.get_by_test_id("callback-number")
    await number.fill("12")
    await page.get_by_test_id("callback-when-any").check()  # any time within the desk's hours
    await expect(page.get_by_test_id("callback-window")).to_be_hidden()
    await page.get_by_test_id("callback-confirm").click()

    error = page.get_by_test_id("callback-error")
    await expect(error).to_contain_text(words["bad"])
    await expect(number).to_have_attribute("aria-invalid", "true")
    await expect(number).to_be_focused()
    # said just after the number's own field, not at the foot of the form
    after_field = number.locator(
        "xpath=ancestor::div[contains(concat(' ', @class, ' '), ' field ')][1]"
        "/following-sibling::*[1]"
    )
    await expect(after_field).to_have_attribute("data-testid", "callback-error")
    await assert_accessible(page, f"callback-bad-number-{lang}-{width}")
    assert (await call(phone, "GET", f"{site.url}/api/callbacks"))[1]["callbacks"] == []

    # a number already on another consulter's record: refused in the dialog, nothing changed
    # (a supervisor links the two records first: her discretion and window must not be lost)
    await number.fill(NUMBER)
    await page.get_by_test_id("callback-confirm").click()
    await expect(error).to_contain_text(words["other"])
    await expect(page.get_by_test_id("callback-dialog")).to_be_visible()
    await assert_accessible(page, f"callback-other-record-{lang}-{width}")
    await page.get_by_test_id("callback-cancel").click()
    await expect(page.get_by_test_id("callback-dialog")).to_be_hidden()
    await expect(number).to_have_value("")
    await no_number_in(page, lines)
    assert (await call(phone, "GET", f"{site.url}/api/callbacks"))[1]["callbacks"] == []


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_nothing_is_offered_on_a_phone_conversation(
    site: Site, boss: aiohttp.ClientSession, browser: Browser, lang: str
) -> None:
    await everyone_away(site, boss)
    (chat,) = await seed(site, now_inbound("chat-boss", body="折り返してください"))
    url = f"{site.url}/api/conversations/{chat}/callback"
    status, asked = await call(boss, "POST", url, {"number": NUMBER, "window": None})
    assert status == 201, asked
    phone_conv = asked["conversation"]
    page = await console_page(browser, site.url, "boss", lang, height=900)
    # a supervisor is offered it on the web chat...
    await open_conversation(page, chat, "折り返してください")
    await expect(page.get_by_test_id("callback-button")).to_have_text(WORDS[lang]["open"])
    # ...and not on the phone conversation the callback is
    await page.locator(f'[data-testid="queue-item"][data-conversation-id="{phone_conv}"]').click()
    await expect(page.locator("#conv-view")).to_have_attribute(
        "data-conversation-id", str(phone_conv)
    )
    await expect(page.locator("#conv-meta .cm-channel")).to_have_text(
        {"ja": "電話", "en": "Phone"}[lang]
    )
    await expect(page.get_by_test_id("callback-button")).to_be_hidden()
    await assert_accessible(page, f"callback-not-on-phone-{lang}")
