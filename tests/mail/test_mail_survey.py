"""The satisfaction survey by e-mail: closing her conversation mails the question with a
single-use link (an HMAC token: only its hash is stored, nothing of it in the logs); the link
opens a one-page form without sign-in under a strict CSP, in Japanese and English (axe-core,
screenshots); her answer counts once, and a second use says it was answered."""

from __future__ import annotations

import asyncio
import email
import email.policy
import io
import re
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Browser, expect

from storage.sqlite.store import SqliteStore
from tests.mail.test_mail_channel import jis_mail
from tests.mail.test_mail_server import mail_server_config, poll
from tests.mailservers import MailAccount, SmtpSink
from tests.web import conftest as web_conftest
from tests.web.conftest import add_staff, running, sign_in
from tests.web.screens import LOCALES, assert_accessible

pytestmark = pytest.mark.mail
browser = web_conftest.browser
captured_logs = web_conftest.captured_logs
LINK = re.compile(r"https?://\S+(/survey/[A-Za-z0-9_=-]+)(\?lang=en)?")


async def _mailed(sink: SmtpSink, count: int) -> email.message.EmailMessage:
    async with asyncio.timeout(10):
        while True:  # the outbox sends on its own schedule
            if len(sink.envelopes) >= count:
                break
            await asyncio.sleep(0.1)
    raw = sink.envelopes[count - 1].original_content or b""
    found = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(found, email.message.EmailMessage)
    return found


async def test_the_survey_is_answered_on_the_mailed_form(
    tmp_path: Path,
    mail_account: MailAccount,
    smtp_sink: SmtpSink,
    browser: Browser,
    captured_logs: io.StringIO,
) -> None:
    cfg = mail_server_config(tmp_path, mail_account, smtp_sink, charset="utf-8")
    await add_staff(cfg)
    mail_account.deliver(jis_mail("in-1@example.jp", "相談です", "話を聞いてください。\n"))
    async with running(cfg) as url, await sign_in(url, "sato") as sato:
        queue = await poll(sato, f"{url}/api/conversations", lambda d: d["conversations"])
        (conv,) = queue["conversations"]
        async with sato.post(
            f"{url}/api/conversations/{conv['id']}/close", json={"outcome": "listened"}
        ) as r:
            assert r.status == 200, await r.text()
        mailed = await _mailed(smtp_sink, 1)
        text = mailed.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert text.startswith("今回の相談はいかがでしたか？")
        found = LINK.search(text)
        assert found is not None
        path = found[1]
        token = path.rsplit("/", 1)[1]
        assert len(token) == 24  # an HMAC: nothing of the conversation in it
        # her counselor's copy of the question has no link
        async with sato.get(f"{url}/api/conversations/{conv['id']}") as r:
            stored = [m["body"] for m in (await r.json())["messages"]]
        assert all(token not in b for b in stored) and any("いかがでしたか" in b for b in stored)

        for lang in ("ja", "en"):
            context = await browser.new_context(locale=LOCALES[lang])
            page = await context.new_page()
            answer = await page.goto(f"{url}{path}")
            assert answer is not None and answer.status == 200
            csp = (await answer.all_headers())["content-security-policy"]
            assert "default-src 'none'" in csp and "script-src" not in csp
            await expect(page.locator("html")).to_have_attribute("lang", lang)
            question = "今回の相談はいかがでしたか？" if lang == "ja" else "How was your"
            await expect(page.locator("legend")).to_contain_text(question)
            await expect(page.get_by_role("radio")).to_have_count(4)
            await assert_accessible(page, f"survey-form-{lang}")
            if lang == "en":
                await page.get_by_role("radio", name="Somewhat satisfied").check()
                await page.get_by_test_id("survey-send").click()
                said = page.get_by_test_id("survey-said")
                await expect(said).to_have_text("Thank you for your answer.")
                await assert_accessible(page, "survey-form-thanks-en")
            await context.close()

        async with aiohttp.ClientSession() as http:
            async with http.post(f"{url}{path}", data={"answer": "1"}) as r:
                assert r.status == 410
                assert "回答済みか、期限が過ぎています" in await r.text()
            async with http.get(f"{url}{path}?lang=en") as r:
                assert r.status == 410 and "answered already or has expired" in await r.text()
            async with http.get(f"{url}/survey/{'A' * 24}") as r:  # forged
                assert r.status == 410
    assert token not in captured_logs.getvalue()
    assert cfg.database.sqlite_path is not None
    async with SqliteStore(cfg.database.sqlite_path) as store:
        today = datetime.now(UTC).astimezone(cfg.routing.timezone).date()
        assert await store.survey_counts(today, today) == {1: 0, 2: 1, 3: 0, 4: 0}
