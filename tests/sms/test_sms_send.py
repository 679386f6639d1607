"""A counselor's SMS reply through the real server and outbox to the Twilio stand-in: what it
receives, a permanent refusal shown to the counselor, a rate limit retried, and an opted-out
number that receives nothing."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from inbox.core.model import DeliveryStatus, MessageId
from inbox.outbox import OPTED_OUT_ERROR
from tests.sms import outbound
from tests.sms.outbound import (
    FROM,
    HER,
    SID,
    TOKEN,
    call,
    opt_out,
    sms_conversation,
    until,
)
from tests.twilio_fake import TwilioFake
from tests.web import conftest as web_conftest
from tests.web.conftest import Site, sign_in

captured_logs = web_conftest.captured_logs  # the web tests' fixture: the server's JSON log lines

REPLY = "ご連絡ありがとうございます。担当の者からお返事します。"


fake = outbound.fake_twilio
sms_site = outbound.outbound_site  # the server with [sms] on, aimed at `fake`


@pytest.fixture
async def boss(sms_site: Site) -> AsyncIterator[aiohttp.ClientSession]:
    async with await sign_in(sms_site.url, "boss") as session:
        yield session


async def reply(site: Site, boss: aiohttp.ClientSession, conv: int) -> int:
    url = f"{site.url}/api/conversations/{conv}/replies"
    status, data = await call(boss, "POST", url, {"body": REPLY})
    assert status == 201, data
    return int(data["message"]["id"])


async def settled(site: Site, message_id: int) -> DeliveryStatus | None:
    """The reply's delivery once the outbox is done with it (None while pending)."""
    msg = await site.store.get_message(MessageId(message_id))
    return None if msg.delivery_status is DeliveryStatus.PENDING else msg.delivery_status


async def shown(site: Site, boss: aiohttp.ClientSession, conv: int) -> dict[str, Any]:
    status, data = await call(boss, "GET", f"{site.url}/api/conversations/{conv}")
    assert status == 200, data
    return dict(data)


@pytest.mark.both_stores
async def test_a_reply_reaches_twilio_with_the_status_callback(
    sms_site: Site, boss: aiohttp.ClientSession, fake: TwilioFake, captured_logs: io.StringIO
) -> None:
    conv = await sms_conversation(sms_site)
    message_id = await reply(sms_site, boss, conv)
    assert await until(lambda: settled(sms_site, message_id)) is DeliveryStatus.SENT
    (seen,) = fake.requests
    assert seen.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    base_url = sms_site.server.cfg.server.base_url
    # the callback URL names the outbox row, so a callback that beats mark_sent finds it
    callback = seen.form.pop("StatusCallback")
    prefix = f"{base_url}/webhooks/twilio/sms/status?outbox="
    assert callback.startswith(prefix) and callback.removeprefix(prefix).isdigit()
    assert seen.form == {"To": HER, "From": FROM, "Body": REPLY}
    assert seen.authorization.startswith("Basic ")
    msg = await sms_site.store.get_message(MessageId(message_id))
    assert msg.external_id == fake.sids[0]  # Twilio's SID: what the status callbacks name
    data = await shown(sms_site, boss, conv)
    assert data["conversation"]["opted_out"] is False
    (sent,) = [m for m in data["messages"] if m["id"] == message_id]
    assert (sent["delivery_status"], sent["failure_reason"]) == ("sent", None)
    logs = captured_logs.getvalue()
    for secret in (HER, HER.removeprefix("+81"), REPLY, TOKEN):
        assert secret not in logs


@pytest.mark.both_stores
async def test_an_unsubscribed_number_fails_for_good_with_the_reason_shown(
    sms_site: Site, boss: aiohttp.ClientSession, fake: TwilioFake, captured_logs: io.StringIO
) -> None:
    conv = await sms_conversation(sms_site)
    fake.fail_next(400, 21610)
    message_id = await reply(sms_site, boss, conv)
    assert await until(lambda: settled(sms_site, message_id)) is DeliveryStatus.FAILED
    assert len(fake.requests) == 1  # not retried
    (failed,) = [
        m for m in (await shown(sms_site, boss, conv))["messages"] if m["id"] == message_id
    ]
    assert failed["delivery_status"] == "failed"
    assert failed["failure_reason"] == (
        "[sms] twilio 21610: unsubscribed (the recipient sent STOP)"
    )
    events = [e for e in await sms_site.store.list_events() if e.kind == "reply_failed"]
    assert [e.data["error"] for e in events] == [failed["failure_reason"]]
    # She told the carrier STOP: her number is opted out here too, and the console says so.
    assert (await shown(sms_site, boss, conv))["conversation"]["opted_out"] is True
    assert HER not in captured_logs.getvalue() and "9012345678" not in failed["failure_reason"]


async def test_a_rate_limit_is_retried_until_it_goes(
    sms_site: Site, boss: aiohttp.ClientSession, fake: TwilioFake
) -> None:
    conv = await sms_conversation(sms_site)
    fake.fail_next(429, 20429)
    fake.fail_next(500)
    message_id = await reply(sms_site, boss, conv)
    assert await until(lambda: settled(sms_site, message_id)) is DeliveryStatus.SENT
    assert len(fake.requests) == 3 and len(fake.sids) == 1
    (sent,) = [m for m in (await shown(sms_site, boss, conv))["messages"] if m["id"] == message_id]
    assert (sent["delivery_status"], sent["failure_reason"]) == ("sent", None)


@pytest.mark.both_stores
async def test_nothing_is_sent_to_an_opted_out_number(
    sms_site: Site, boss: aiohttp.ClientSession, fake: TwilioFake
) -> None:
    conv = await sms_conversation(sms_site)
    other = await sms_conversation(sms_site, "+819087654321")
    await opt_out(sms_site, conv)
    data = await shown(sms_site, boss, conv)
    assert data["conversation"]["opted_out"] is True
    assert (await shown(sms_site, boss, other))["conversation"]["opted_out"] is False

    message_id = await reply(sms_site, boss, conv)
    assert await until(lambda: settled(sms_site, message_id)) is DeliveryStatus.FAILED
    (failed,) = [
        m for m in (await shown(sms_site, boss, conv))["messages"] if m["id"] == message_id
    ]
    assert failed["failure_reason"] == OPTED_OUT_ERROR
    # the other consulter's reply still goes, and hers never reached Twilio
    other_id = await reply(sms_site, boss, other)
    assert await until(lambda: settled(sms_site, other_id)) is DeliveryStatus.SENT
    assert [r.form["To"] for r in fake.requests] == ["+819087654321"]


async def test_the_console_is_told_the_segment_limit(sms_site: Site) -> None:
    async with await sign_in(sms_site.url, "sato") as sato:
        status, me = await call(sato, "GET", f"{sms_site.url}/api/me")
    assert status == 200
    assert me["sms"] == {"enabled": True, "max_segments": 5}
