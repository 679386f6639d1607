"""The phone desk's page (phone.html, phone/*.js) in headless Chromium, in Japanese and English,
on a laptop and a phone: phone staff log a call by hand with a referral and a follow-up (it is in
her recent calls, in either language, and never shows the number); the callback list shows a
callback, and the call screen warns of her discretion before any number is shown; an unanswered
callback says when the next try is; a counselor is refused the page. Each screen: screenshot and
axe-core."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from playwright.async_api import Browser, Page, Route, expect

from inbox.core.model import Role
from tests.sms.signing import Fields, twilio_signature
from tests.twilio_fake import TwilioFake, twilio_fake
from tests.voice.conftest import (
    DIALED_PATH,
    PROGRAM,
    PUBLIC_URL,
    STATUS_PATH,
    TOKEN,
    VOICE_PATH,
    voice_config,
)
from tests.web.conftest import (
    PASSWORD,
    Site,
    console_page,
    make_config,
    served_site,
    sign_in,
    staff_page,
)
from tests.web.screens import assert_accessible
from tests.web.test_supervision import call, everyone_away, now_inbound, seed

pytestmark = pytest.mark.browser

TOKYO = ZoneInfo("Asia/Tokyo")
NUMBER = "080-2468-1357"
WORDS = {
    "ja": {
        "logged": "通話を記録しました。",
        "next": "次回",
        "withheld": "非通知",
        "warning": "留守電にメッセージを残さない・団体名を名乗らない",
        "now": "いまかけられます",
        "later": "次にかけられるのは",
        "fix_number": "「相手の番号」を確認してください。",
        "need_outcome": "結果を選んでください。",
        "minutes": "7分",
        "scheduled": "折り返しの電話を",
        "suggested": "案内した窓口（メモ）",
        "record": "連携の記録（報告の連携件数に入ります）",
    },
    "en": {
        "logged": "Call logged.",
        "next": "Next try",
        "withheld": "Withheld",
        "warning": "Do not leave a voicemail, do not name the program",
        "now": "Can call now",
        "later": "Next allowed",
        "fix_number": "Check “Caller's number”.",
        "need_outcome": "Choose an outcome.",
        "minutes": "7 min",
        "scheduled": "Callback scheduled for",
        "suggested": "Suggested contacts (note only)",
        "record": "Referral record (counted in the report)",
    },
}
OTHER = {"ja": "en", "en": "ja"}


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Site]:
    """The server on SQLite, where phone staff may reveal a number (with a reason, audited)."""
    reveal_roles = frozenset({Role.SUPERVISOR, Role.PHONE_STAFF})
    async with served_site(make_config(tmp_path, privacy={"reveal_roles": reveal_roles})) as site:
        yield site


STAFF_PHONE = "0"  # the desk phone (an id of desk_phones) the desk rings first: 携帯
STAFF_E164 = "+819055556666"
HER_E164 = "+818024681357"  # NUMBER's: never on the page
HER_NATIONAL = "8024681357"


@pytest.fixture
async def voice_desk(tmp_path: Path) -> AsyncIterator[tuple[Site, TwilioFake]]:
    """The server with [voice] on, behind a stand-in TLS proxy (Twilio signs for PUBLIC_URL),
    its Twilio client aimed at the local stand-in (tests/voice/conftest.py's settings)."""
    async with twilio_fake() as fake:
        cfg = voice_config(
            tmp_path,
            fake,
            forward_to=("+815011112222",),
            staff_phones=(f"携帯={STAFF_E164}", "+815099998888"),
        )
        async with served_site(cfg) as site:
            yield site, fake


async def _settings_of(site: Site) -> dict[str, Any]:
    async with await sign_in(site.url, "phone") as phone:
        return await _settings(site, phone)


@pytest.fixture
async def phone(desk: Site) -> AsyncIterator[aiohttp.ClientSession]:
    async with await sign_in(desk.url, "phone") as session:
        yield session


async def _settings(site: Site, phone: aiohttp.ClientSession) -> dict[str, Any]:
    status, body = await call(phone, "GET", f"{site.url}/api/phone/settings")
    assert status == 200, body
    return dict(body)


def _word(choices: list[dict[str, Any]], choice_id: str, lang: str) -> str:
    return str(next(c for c in choices if c["id"] == choice_id)[lang])


async def _counselors_away(site: Site) -> None:
    """Callbacks are phone staff's: no counselor on duty takes one from the queue meanwhile."""
    async with await sign_in(site.url, "boss") as boss:
        await everyone_away(site, boss)


async def _callback(site: Site, *, discretion: bool) -> int:
    """A callback asked for from an e-mail conversation, open any time (her window: all day)."""
    await _counselors_away(site)
    async with await sign_in(site.url, "boss") as boss:
        (mail,) = await seed(site, now_inbound("hanako@example.jp"))
        if discretion:
            url = f"{site.url}/api/conversations/{mail}/discretion"
            status, body = await call(boss, "POST", url, {"discretion": True})
            assert status == 200, body
        status, body = await call(
            boss,
            "POST",
            f"{site.url}/api/conversations/{mail}/callback",
            {"number": NUMBER, "window": {"everyday": ["00:00-24:00"]}, "note": ""},
        )
        assert status == 201, body
        return int(body["conversation"])


async def _callbacks(site: Site, phone: aiohttp.ClientSession) -> list[dict[str, Any]]:
    status, body = await call(phone, "GET", f"{site.url}/api/callbacks")
    assert status == 200, body
    return list(body if isinstance(body, list) else body["callbacks"])


async def _log_call(page: Page) -> dict[str, Any]:
    """Press the log form's button; the server's answer."""
    async with page.expect_response(
        lambda r: r.url.endswith("/api/calls") and r.request.method == "POST"
    ) as answer:
        await page.get_by_test_id("log-submit").click()
    response = await answer.value
    assert response.status == 201, await response.text()
    return dict(await response.json())


@pytest.mark.parametrize(("lang", "width"), [("ja", 1280), ("en", 390)])
async def test_phone_staff_log_a_call_by_hand_with_a_referral_and_a_follow_up(
    desk: Site, phone: aiohttp.ClientSession, browser: Browser, lang: str, width: int
) -> None:
    await _counselors_away(desk)
    settings = await _settings(desk, phone)
    referral = settings["referrals"][0]["id"]
    reached = next(o["id"] for o in settings["outcomes"] if o["reached"])
    words = WORDS[lang]
    page = await staff_page(browser, desk.url, "phone", "/phone", lang, width=width)
    await expect(page.get_by_test_id("phone-status")).to_have_attribute(
        "data-state", "connected", timeout=10_000
    )
    await expect(page.get_by_test_id("recent-empty")).to_be_visible()

    # Nothing chosen: said next to the outcomes, which are marked; nothing is sent.
    await page.get_by_test_id("log-number").fill(NUMBER)
    await page.get_by_test_id("log-submit").click()
    error = page.get_by_test_id("log-error")
    await expect(error).to_have_text(words["need_outcome"])
    outcomes = page.get_by_test_id("log-outcomes")
    await expect(outcomes).to_have_attribute("aria-invalid", "true")
    assert await error.evaluate("e => e.previousElementSibling.id") == "log-outcomes"

    # A number the server cannot read: its error is said next to the number.
    await page.get_by_test_id(f"log-outcome-{reached}").check()
    await page.get_by_test_id("log-number").fill("12")
    async with page.expect_response(lambda r: r.url.endswith("/api/calls")) as refused:
        await page.get_by_test_id("log-submit").click()
    assert (await refused.value).status == 400
    await expect(error).to_have_text(words["fix_number"])
    await expect(page.get_by_test_id("log-number")).to_have_attribute("aria-invalid", "true")
    await assert_accessible(page, f"phone-log-error-{lang}-{width}")

    follow_up = (datetime.now(TOKYO) + timedelta(days=1)).date().isoformat()
    await page.get_by_test_id("log-number").fill(NUMBER)
    await page.get_by_test_id("log-duration").fill("7")
    await page.get_by_test_id("log-note").fill("住まいの相談。来週また。")
    await page.get_by_test_id(f"log-referral-{referral}").check()
    await page.get_by_test_id("log-topic-housing").check()  # casework: the call's topics
    await page.get_by_test_id("log-age").select_option("40s")  # and her age group
    # the quick labels are a note; only the referral record counts in the report
    await expect(page.get_by_test_id("log-referrals").locator("legend")).to_have_text(
        words["suggested"]
    )
    await expect(page.get_by_test_id("log-agency-referral").locator("legend")).to_have_text(
        words["record"]
    )
    await page.get_by_test_id("log-follow-up").fill(follow_up)
    answer = await _log_call(page)
    logged = answer["call"]
    assert (logged["outcome"], logged["referrals"], logged["follow_up"]) == (
        reached,
        [referral],
        follow_up,
    )
    assert logged["duration_s"] == 7 * 60 and logged["withheld"] is False
    notice = page.get_by_test_id("phone-notice")
    await expect(notice).to_contain_text(words["logged"])
    assert await desk.store.call_topics(logged["id"]) == ("housing",)  # saved once logged
    await expect(page.get_by_test_id("log-topic-housing")).not_to_be_checked()
    contact = (await desk.store.get_call(logged["id"])).contact_id
    assert contact is not None and await desk.store.age_group_of(contact) == "40s"
    await expect(page.get_by_test_id("log-age")).to_have_value("unknown")
    assert answer["callback"]["status"] == "retry"  # the follow-up: a callback on that day
    await expect(notice).to_contain_text(words["scheduled"])
    await expect(error).to_be_hidden()
    await expect(page.get_by_test_id("log-number")).to_have_value("")

    recent = page.get_by_test_id("recent-list").locator("li")
    await expect(recent).to_have_count(1)
    alias = str(logged["contact_alias"])
    await expect(recent.first).to_contain_text(alias)
    await expect(recent.first).to_contain_text(_word(settings["outcomes"], reached, lang))
    await expect(recent.first).to_contain_text(_word(settings["referrals"], referral, lang))
    await expect(recent.first).to_contain_text(words["minutes"])
    # a follow-up keeps her conversation open as a callback for that day
    await expect(page.get_by_test_id("callback-list")).to_contain_text(alias)
    await assert_accessible(page, f"phone-logged-{lang}-{width}")

    # A withheld number: the call alone, shown as withheld.
    await page.get_by_test_id("log-withheld").check()
    await expect(page.get_by_test_id("log-number")).to_be_disabled()
    await expect(page.get_by_test_id("log-age")).to_be_hidden()  # no contact to keep it on
    await page.get_by_test_id(f"log-outcome-{reached}").check()
    withheld = await _log_call(page)
    assert withheld["call"]["withheld"] is True and withheld["call"]["contact_alias"] is None
    await expect(recent).to_have_count(2)
    await expect(recent.first).to_contain_text(words["withheld"])

    # In the other language, the same calls in its words; her number is nowhere on the page.
    await page.get_by_test_id("lang-toggle").click()
    other = OTHER[lang]
    await expect(recent.nth(1)).to_contain_text(_word(settings["outcomes"], reached, other))
    await expect(recent.nth(1)).to_contain_text(_word(settings["referrals"], referral, other))
    await expect(recent.first).to_contain_text(WORDS[other]["withheld"])
    body = await page.locator("body").inner_text()
    assert "2468" not in body and "1357" not in body
    await assert_accessible(page, f"phone-logged-{other}-{width}")

    status, mine = await call(phone, "GET", f"{desk.url}/api/calls?mine=1")
    assert status == 200
    calls = mine if isinstance(mine, list) else mine["calls"]
    assert [c["id"] for c in calls] == [withheld["call"]["id"], logged["id"]]


@pytest.mark.parametrize(("lang", "width"), [("ja", 390), ("en", 1280)])
async def test_a_callback_warns_of_discretion_before_the_number_and_says_the_next_try(
    desk: Site, phone: aiohttp.ClientSession, browser: Browser, lang: str, width: int
) -> None:
    conv = await _callback(desk, discretion=True)
    (item,) = [c for c in await _callbacks(desk, phone) if c["conversation"] == conv]
    assert item["discretion"] is True
    words = WORDS[lang]
    page = await staff_page(browser, desk.url, "phone", "/phone", lang, width=width)
    row = page.get_by_test_id(f"callback-{conv}")
    await expect(row).to_contain_text(str(item["contact_alias"]))
    await expect(row.get_by_test_id("callback-discretion")).to_be_visible()
    await expect(row).to_contain_text(words["now"] if item["callable_now"] else words["later"])
    await expect(page.get_by_test_id("call-screen")).to_be_hidden()
    await assert_accessible(page, f"phone-callbacks-{lang}-{width}")

    await row.click()
    screen = page.get_by_test_id("call-screen")
    warning = page.get_by_test_id("call-discretion")
    await expect(warning).to_be_visible()
    await expect(warning).to_contain_text(words["warning"])
    await expect(warning).to_have_attribute("role", "alert")
    reveal = page.get_by_test_id("call-reveal")
    await expect(reveal).to_be_visible()
    await expect(page.get_by_test_id("call-number")).to_be_hidden()
    # the warning comes first: before the way to the number, on screen and to a screen reader
    warning_box, reveal_box = await warning.bounding_box(), await reveal.bounding_box()
    assert warning_box is not None and reveal_box is not None
    assert warning_box["y"] + warning_box["height"] <= reveal_box["y"]
    order = await screen.evaluate(
        "s => [...s.querySelectorAll('[data-testid]')].map(e => e.dataset.testid)"
    )
    assert order.index("call-discretion") < order.index("call-reveal")
    assert order.index("call-discretion") < order.index("call-number")
    await assert_accessible(page, f"phone-call-{lang}-{width}")

    # The number needs a reason (audited), and is shown below the warning, which stays.
    await reveal.click()
    await page.get_by_test_id("reveal-reason").fill("折り返しの電話のため")
    await page.get_by_test_id("reveal-confirm").click()
    number = page.get_by_test_id("call-number")
    await expect(number).to_contain_text("8024681357")
    await expect(warning).to_be_visible()
    reasons = [
        e.data.get("reason")
        for e in await desk.store.list_events()
        if e.kind == "address_revealed" and e.conversation_id == conv
    ]
    assert reasons == ["折り返しの電話のため"]

    # No answer: the server says when the next try is, and the page says it.
    await page.get_by_test_id("outcome-outcome-no_answer").check()
    async with page.expect_response(
        lambda r: r.url.endswith("/api/calls") and r.request.method == "POST"
    ) as answer:
        await page.get_by_test_id("outcome-submit").click()
    body = await (await answer.value).json()
    assert body["call"]["conversation"] == conv
    assert body["callback"]["status"] == "retry", body
    await expect(page.get_by_test_id("phone-notice")).to_contain_text(words["next"])
    await expect(screen).to_be_hidden()
    await expect(page.get_by_test_id("call-number")).to_have_text("")
    (after,) = [c for c in await _callbacks(desk, phone) if c["conversation"] == conv]
    assert after["tries"] == 1
    await expect(row).to_contain_text(words["later"] if not after["callable_now"] else words["now"])
    await assert_accessible(page, f"phone-next-try-{lang}-{width}")


async def test_the_phone_desk_is_for_phone_staff_who_land_on_it(
    desk: Site, browser: Browser
) -> None:
    """A counselor is refused it; phone staff land on it and have the console in their nav."""
    # asked to sign in for the phone desk, she stays in her console; the page itself says no
    page = await console_page(browser, desk.url, "sato", "en")
    await page.goto(f"{desk.url}/phone")
    await expect(page.get_by_test_id("page-denied")).to_contain_text("Your role does not open")
    await expect(page.get_by_test_id("phone")).to_be_hidden()
    await expect(page.get_by_test_id("callback-list").locator("li")).to_have_count(0)
    await assert_accessible(page, "phone-denied-en")

    # phone staff land on the phone desk, and the console is in their nav
    context = await browser.new_context(locale="ja-JP")
    page = await context.new_page()
    await page.goto(f"{desk.url}/console")
    await page.get_by_test_id("login-username").fill("phone")
    await page.get_by_test_id("login-password").fill(PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await page.wait_for_url(f"{desk.url}/phone")
    await expect(page.get_by_test_id("phone")).to_be_visible()
    nav = page.get_by_test_id("staff-nav")
    await expect(nav.locator("a")).to_have_count(3)  # the console, the phone desk, activities
    await nav.get_by_test_id("nav-console").click()
    await page.wait_for_url(f"{desk.url}/console")  # a reload of her session stays there
    await expect(page.get_by_test_id("user-name")).to_be_visible()


async def test_a_callback_asked_for_elsewhere_shows_up_without_a_reload(
    desk: Site, browser: Browser
) -> None:
    page = await staff_page(browser, desk.url, "phone", "/phone", "ja", width=390)
    await expect(page.get_by_test_id("phone-status")).to_have_attribute(
        "data-state", "connected", timeout=10_000
    )
    await expect(page.get_by_test_id("callbacks-empty")).to_be_visible()
    conv = await _callback(desk, discretion=False)  # the staff socket's event: no reload
    row = page.get_by_test_id(f"callback-{conv}")
    await expect(row).to_be_visible(timeout=10_000)
    await expect(row.get_by_test_id("callback-discretion")).to_have_count(0)
    await row.click()
    await expect(page.get_by_test_id("call-discretion")).to_be_hidden()
    await expect(page.get_by_test_id("call-reveal")).to_be_visible()


async def _twilio(site: Site, path: str, fields: Fields) -> None:
    """POST the form as Twilio would, signed for the public URL + path."""
    headers = {"X-Twilio-Signature": twilio_signature(TOKEN, PUBLIC_URL + path, fields)}
    async with (
        aiohttp.ClientSession() as http,
        http.post(site.url + path, data=list(fields), headers=headers) as r,
    ):
        assert r.status == 200, await r.text()


VOICE_WORDS = {
    "ja": {
        "label": "先に鳴らす窓口の電話",
        "ringing": "窓口の電話を呼び出しています",
        "on_call": "通話中",
        "ended": "通話が終わりました",
        "closed": "終了しました",
        "waiting": "結果の記録待ちの通話",
    },
    "en": {
        "label": "The desk phone to ring first",
        "ringing": "Ringing the desk phone",
        "on_call": "On the call",
        "ended": "The call ended",
        "closed": "closed",
        "waiting": "Calls waiting for an outcome",
    },
}


def _no_number(text: str) -> None:
    for part in ("2468", "1357", HER_E164, HER_NATIONAL):
        assert part not in text, part


@pytest.mark.parametrize(("lang", "width"), [("ja", 1280), ("en", 390)])
async def test_with_voice_the_desk_calls_her_phone_first_then_records_that_call(
    voice_desk: tuple[Site, TwilioFake], browser: Browser, lang: str, width: int
) -> None:
    """Where Twilio Voice is set up (Twilio's REST API: the local stand-in), the call screen
    asks for the staff member's own phone (kept on this device), the desk rings it, the page
    follows the call through Twilio's signed status callbacks to its end, and the outcome form
    then records THAT call (PATCH). An answered call in waits in its own list until someone
    records it. Her number is never on the page."""
    desk, fake = voice_desk
    words, vw = WORDS[lang], VOICE_WORDS[lang]
    conv = await _callback(desk, discretion=True)
    page = await staff_page(browser, desk.url, "phone", "/phone", lang, width=width)
    await expect(page.get_by_test_id("phone-status")).to_have_attribute(
        "data-state", "connected", timeout=10_000
    )
    await expect(page.get_by_test_id("waiting-empty")).to_be_visible()
    await page.get_by_test_id(f"callback-{conv}").click()
    warning, dial = page.get_by_test_id("call-discretion"), page.get_by_test_id("call-dial")
    mine = page.get_by_label(vw["label"])
    await expect(dial).to_be_visible()
    # only the desk's own phones, masked but for the last 4 digits: never a number typed here
    await expect(mine.locator("option")).to_have_text(["携帯 (••••6666)", "2 (••••8888)"])
    await expect(page.get_by_test_id("call-reveal")).to_be_hidden()
    warning_box, dial_box = await warning.bounding_box(), await dial.bounding_box()
    assert warning_box is not None and dial_box is not None
    assert warning_box["y"] + warning_box["height"] <= dial_box["y"]
    await assert_accessible(page, f"phone-call-voice-{lang}-{width}")

    await mine.select_option(STAFF_PHONE)
    async with page.expect_response(lambda r: r.url.endswith(f"/{conv}/dial")) as dialed:
        await dial.click()
    answer = await dialed.value
    assert answer.status == 201, await answer.text()
    call_id = int((await answer.json())["call"])
    said = page.get_by_test_id("call-said")
    await expect(said).to_contain_text(vw["ringing"])
    await expect(dial).to_be_hidden()
    await expect(page.get_by_test_id("outcome-form")).to_be_hidden()  # nothing to log yet
    kept = await page.evaluate("() => localStorage.getItem('tsunagu.phone.deskPhone')")
    assert kept == STAFF_PHONE
    (seen,) = fake.requests
    assert (seen.form["To"], seen.form["From"]) == (STAFF_E164, PROGRAM)
    _no_number(await page.locator("body").inner_text())

    # staff answered her own phone, the bridge connected them: the page follows the call
    sid = fake.sids[0]
    staff_leg = [("CallSid", sid), ("From", PROGRAM), ("To", STAFF_E164)]
    await _twilio(desk, STATUS_PATH, [*staff_leg, ("CallStatus", "in-progress")])
    await expect(said).to_contain_text(vw["on_call"], timeout=10_000)
    await assert_accessible(page, f"phone-on-call-{lang}-{width}")
    await _twilio(desk, DIALED_PATH, [*staff_leg, ("DialCallStatus", "completed")])
    await _twilio(
        desk, STATUS_PATH, [*staff_leg, ("CallStatus", "completed"), ("CallDuration", "80")]
    )
    form = page.get_by_test_id("outcome-form")
    await expect(form).to_be_visible(timeout=10_000)
    await expect(said).to_contain_text(vw["ended"])
    await expect(page.get_by_test_id("outcome-duration")).to_be_hidden()  # Twilio timed it
    settings = await _settings_of(desk)
    referral = settings["referrals"][0]["id"]
    await page.get_by_test_id("outcome-outcome-reached").check()
    await page.get_by_test_id(f"outcome-referral-{referral}").check()
    await page.get_by_test_id("outcome-note").fill("話せた")
    await assert_accessible(page, f"phone-call-ended-{lang}-{width}")
    async with page.expect_response(
        lambda r: r.url.endswith(f"/api/calls/{call_id}") and r.request.method == "PATCH"
    ) as patched:
        await page.get_by_test_id("outcome-submit").click()
    done = await patched.value
    assert done.status == 200, await done.text()
    body = await done.json()
    assert body["call"]["outcome"] == "reached" and body["call"]["duration_s"] == 80
    assert body["callback"]["status"] == "closed"
    notice = page.get_by_test_id("phone-notice")
    await expect(notice).to_contain_text(words["logged"])
    await expect(notice).to_contain_text(vw["closed"])
    await expect(page.get_by_test_id("call-screen")).to_be_hidden()
    calls = [e for e in await desk.store.list_events() if e.kind == "call_outcome_logged"]
    assert [e.data["call_id"] for e in calls] == [call_id]
    assert not [
        e
        for e in await desk.store.list_events()
        if e.kind == "call_logged" and e.data.get("outcome")
    ]

    # a call in the desk answered: nobody's, it waits for an outcome in its own list
    her_sid = "CA" + "e" * 32
    her = [("CallSid", her_sid), ("From", HER_E164), ("To", PROGRAM), ("Direction", "inbound")]
    await _twilio(desk, VOICE_PATH, [*her, ("CallStatus", "ringing")])
    await _twilio(
        desk, DIALED_PATH, [*her, ("DialCallStatus", "completed"), ("DialCallDuration", "300")]
    )
    (answered,) = [c for c in await desk.store.recent_calls(None) if c.call_sid == her_sid]
    waiting = page.get_by_test_id(f"waiting-{answered.id}")
    await expect(waiting).to_be_visible(timeout=10_000)  # the staff socket's event: no reload
    await expect(page.get_by_test_id("waiting-list")).to_contain_text(
        words["minutes"].replace("7", "5")
    )
    await assert_accessible(page, f"phone-waiting-{lang}-{width}")
    await page.get_by_test_id(f"waiting-open-{answered.id}").click()
    await expect(page.get_by_test_id("call-screen")).to_be_visible()
    await expect(page.get_by_test_id("call-dial")).to_be_hidden()
    await page.get_by_test_id("outcome-outcome-reached").check()
    await page.get_by_test_id("outcome-age").select_option("50s")  # casework: her age group
    async with page.expect_response(
        lambda r: r.url.endswith(f"/api/calls/{answered.id}") and r.request.method == "PATCH"
    ) as patched:
        await page.get_by_test_id("outcome-submit").click()
    assert (await patched.value).status == 200
    await expect(page.get_by_test_id("waiting-empty")).to_be_visible(timeout=10_000)
    await expect(notice).to_contain_text(words["logged"])
    assert answered.contact_id is not None
    assert await desk.store.age_group_of(answered.contact_id) == "50s"
    await page.get_by_test_id("lang-toggle").click()
    await expect(page.get_by_test_id("waiting-empty")).to_contain_text(
        "No calls" if lang == "ja" else "記録待ち"
    )
    _no_number(await page.locator("body").inner_text())
    await assert_accessible(page, f"phone-waiting-done-{OTHER[lang]}-{width}")


async def test_a_dial_outside_her_window_is_said_in_her_words(
    voice_desk: tuple[Site, TwilioFake], browser: Browser
) -> None:
    desk, fake = voice_desk
    conv = await _callback(desk, discretion=False)
    page = await staff_page(browser, desk.url, "phone", "/phone", "ja", width=1280)
    await page.evaluate("() => localStorage.setItem('tsunagu.phone.deskPhone', '1')")

    async def outside(route: Route) -> None:  # the server's refusal (tests/voice test it)
        error = {"code": "outside_call_window", "message": "her call window does not allow"}
        await route.fulfill(status=409, json={"error": error})

    await page.route(f"**/api/conversations/{conv}/dial", outside)
    await page.reload()
    await page.get_by_test_id(f"callback-{conv}").click()
    await expect(page.get_by_test_id("call-staff-number")).to_have_value("1")  # her last choice
    await page.get_by_test_id("call-dial").click()
    await expect(page.get_by_test_id("call-said")).to_have_text("本人の希望する時間帯の外です")
    await expect(page.get_by_test_id("call-dial")).to_be_visible()
    assert fake.requests == []


@pytest.mark.parametrize(("lang", "width"), [("ja", 390), ("en", 1280)])
async def test_phone_staff_take_a_break_from_the_phone_desk(
    desk: Site, browser: Browser, lang: str, width: int
) -> None:
    """The router offers callbacks only to phone staff who are available: she says she is away
    on her own page, and the server has it."""
    page = await staff_page(browser, desk.url, "phone", "/phone", lang, width=width)
    if width < 700:
        await page.get_by_test_id("topbar-menu-toggle").click()
    presence = page.get_by_test_id("presence-select")
    await expect(presence).to_be_visible()
    await presence.select_option("away")
    await expect(presence).to_have_attribute("data-presence", "away")

    async def presence_now() -> str:
        return (await desk.store.get_user(desk.id("phone"))).presence.value

    deadline = asyncio.get_running_loop().time() + 30
    while await presence_now() != "away":
        assert asyncio.get_running_loop().time() < deadline, "her presence never reached the server"
        await asyncio.sleep(0.1)
    await assert_accessible(page, f"phone-presence-{lang}-{width}")
    await page.context.close()
