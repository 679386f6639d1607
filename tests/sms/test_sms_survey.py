"""The satisfaction survey by SMS, against the Twilio stand-in: closing her conversation texts
the question; her next text that is exactly a digit 1-4 is her answer, counted once and apart
(no message, no new conversation, nobody alerted); any other text, or a digit with no survey
open, is an ordinary message; a number that sent STOP is never asked; Twilio's redelivery of a
digit that answered stores nothing (no message), one of a digit stored as a message one message."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import aiohttp

from inbox.core.model import ConversationId, Direction
from inbox.web.sms_hooks import EMPTY_TWIML
from tests.sms import outbound
from tests.sms.outbound import HER, TOKEN, until
from tests.sms.signing import twilio_signature
from tests.twilio_fake import TwilioFake
from tests.web.conftest import Site, sign_in

fake = outbound.fake_twilio
sms_site = outbound.outbound_site
_sids = itertools.count(1)


async def _text(site: Site, body: str, number: str = HER, *, sid: str | None = None) -> None:
    """Her text, as Twilio posts it to the webhook (signed); `sid`: its MessageSid again."""
    fields = [
        ("MessageSid", sid or f"SM{next(_sids):032d}"),
        ("From", number),
        ("To", outbound.FROM),
        ("Body", body),
    ]
    url = site.server.cfg.server.base_url + "/webhooks/twilio/sms"
    headers = {"X-Twilio-Signature": twilio_signature(TOKEN, url, fields)}
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, data=fields, headers=headers) as r,
    ):
        assert r.status == 200, await r.text()
        assert await r.text() == EMPTY_TWIML


async def _conversations(site: Site) -> list[int]:
    return [
        int(e.conversation_id)
        for e in await site.store.list_events()
        if e.kind == "conversation_opened" and e.conversation_id is not None
    ]


async def _close(site: Site, conv_id: int) -> None:
    async with await sign_in(site.url, "boss") as boss:
        url = f"{site.url}/api/conversations/{conv_id}/close"
        async with boss.post(url, json={"outcome": "listened"}) as r:
            assert r.status == 200, await r.text()


async def _counts(site: Site) -> dict[int, int]:
    today = datetime.now(UTC).astimezone(site.server.cfg.routing.timezone).date()
    return await site.store.survey_counts(today, today)


async def _asked(fake: TwilioFake, number: str = HER) -> str:
    async def found() -> str | None:
        texts = [r.form.get("Body", "") for r in fake.requests if r.form.get("To") == number]
        return next((t for t in texts if "1〜4" in t), None)

    return await until(found)


async def test_a_digit_answers_her_open_survey_and_nothing_else_does(
    sms_site: Site, fake: TwilioFake
) -> None:
    # a digit before any survey is an ordinary message
    await _text(sms_site, "3")
    first = await until(lambda: _nth(sms_site, 1))
    inbound = await sms_site.store.list_messages(ConversationId(first))
    assert [m.body for m in inbound if m.direction is Direction.INBOUND] == ["3"]
    await _close(sms_site, first)
    asked = await _asked(fake)
    assert asked.startswith("今回の相談はいかがでしたか？") and "1 満足" in asked

    # her answer: a full-width digit counts; no message, no new conversation
    await _text(sms_site, " ２ ")
    assert await _counts(sms_site) == {1: 0, 2: 1, 3: 0, 4: 0}
    assert await _conversations(sms_site) == [first]
    # answered: the next digit is a message again (and opens a new conversation)
    await _text(sms_site, "1")
    second = await until(lambda: _nth(sms_site, 2))
    assert await _counts(sms_site) == {1: 0, 2: 1, 3: 0, 4: 0}
    await _close(sms_site, second)

    # after the second survey, words first: a message; the digit after them is one too
    async def two_asked() -> int | None:
        n = sum("1〜4" in r.form.get("Body", "") for r in fake.requests)
        return n if n == 2 else None

    await until(two_asked)
    await _text(sms_site, "ありがとう 1")
    await _text(sms_site, "4")
    third = await until(lambda: _nth(sms_site, 3))
    bodies = [
        m.body
        for m in await sms_site.store.list_messages(ConversationId(third))
        if m.direction is Direction.INBOUND
    ]
    assert bodies == ["ありがとう 1", "4"]
    assert await _counts(sms_site) == {1: 0, 2: 1, 3: 0, 4: 0}
    assert await sms_site.store.survey_state(ConversationId(second)) is False


async def _nth(site: Site, n: int) -> int | None:
    """Her n-th conversation, once there are n."""
    found = await _conversations(site)
    return found[n - 1] if len(found) >= n else None


async def test_twilio_redelivering_her_answer_stores_nothing(
    sms_site: Site, fake: TwilioFake
) -> None:
    """Twilio retries a webhook (a read timeout, two instances): the digit that answered comes
    again with its MessageSid. Counted once, and never a message or a new conversation."""
    await _text(sms_site, "相談したいです")
    first = await until(lambda: _nth(sms_site, 1))
    await _close(sms_site, first)
    await _asked(fake)
    answer_sid = f"SM{next(_sids):032d}"
    await _text(sms_site, "3", sid=answer_sid)
    await _text(sms_site, "3", sid=answer_sid)  # Twilio's retry
    assert await _counts(sms_site) == {1: 0, 2: 0, 3: 1, 4: 0}
    assert await _conversations(sms_site) == [first]
    inbound = await sms_site.store.list_messages(ConversationId(first))
    assert [m.body for m in inbound if m.direction is Direction.INBOUND] == ["相談したいです"]
    # a digit stored as a message (nothing open now), redelivered: still one message
    message_sid = f"SM{next(_sids):032d}"
    await _text(sms_site, "3", sid=message_sid)
    await _text(sms_site, "3", sid=message_sid)
    second = await until(lambda: _nth(sms_site, 2))
    inbound = await sms_site.store.list_messages(ConversationId(second))
    assert [m.body for m in inbound if m.direction is Direction.INBOUND] == ["3"]
    assert await _conversations(sms_site) == [first, second]
    assert await _counts(sms_site) == {1: 0, 2: 0, 3: 1, 4: 0}
