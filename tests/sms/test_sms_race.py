"""Through the real server, its outbox and the Twilio stand-in: Twilio's status callback that
arrives before its answer to create (the callback URL carries the outbox id), and a STOP that
no automatic reply follows."""

from __future__ import annotations

import aiohttp
import pytest

from inbox.core.model import DeliveryStatus, MessageId
from tests.sms import outbound
from tests.sms.outbound import HER, TOKEN, call, sms_conversation, until
from tests.sms.signing import Fields, twilio_signature
from tests.twilio_fake import TwilioFake
from tests.web.conftest import Site, sign_in

SMS_PATH = "/webhooks/twilio/sms"


fake = outbound.fake_twilio
sms_site = outbound.outbound_site  # the server with [sms] on, aimed at `fake`


async def post_signed(site: Site, path: str, fields: Fields) -> int:
    """POST as Twilio does to `path` (with its query), signed for the public URL."""
    url = site.server.cfg.server.base_url + path
    headers = {"X-Twilio-Signature": twilio_signature(TOKEN, url, fields)}
    async with (
        aiohttp.ClientSession() as http,
        http.post(site.url + path, data=list(fields), headers=headers) as r,
    ):
        return r.status


@pytest.mark.both_stores
async def test_a_failure_callback_before_twilio_answers_leaves_the_reply_failed(
    sms_site: Site, fake: TwilioFake
) -> None:
    base = sms_site.server.cfg.server.base_url

    async def call_back_first(form: dict[str, str], sid: str) -> None:
        # Twilio's status callback, before its 201 reaches the server: no SID is stored yet
        callback = form["StatusCallback"].removeprefix(base)
        fields = [("MessageSid", sid), ("MessageStatus", "undelivered"), ("ErrorCode", "30005")]
        assert await post_signed(sms_site, callback, fields) == 200

    fake.before_answer = call_back_first
    conv = await sms_conversation(sms_site)
    async with await sign_in(sms_site.url, "boss") as boss:
        url = f"{sms_site.url}/api/conversations/{conv}/replies"
        status, data = await call(boss, "POST", url, {"body": "お返事です"})
        assert status == 201, data
    message_id = MessageId(int(data["message"]["id"]))

    async def recorded() -> bool | None:
        msg = await sms_site.store.get_message(message_id)
        return True if msg.external_id is not None else None  # mark_sent has run

    await until(recorded)
    (seen,) = [r for r in fake.requests if r.form.get("Body") == "お返事です"]
    assert seen.form["StatusCallback"].startswith(f"{base}/webhooks/twilio/sms/status?outbox=")
    msg = await sms_site.store.get_message(message_id)
    assert msg.delivery_status is DeliveryStatus.FAILED  # never SENT
    assert msg.external_id == fake.sids[-1]


@pytest.mark.both_stores
async def test_no_automatic_reply_follows_a_stop(sms_site: Site, fake: TwilioFake) -> None:
    other = "+819012340002"
    stop = [("MessageSid", "SMstop1"), ("From", HER), ("To", "+815012345678"), ("Body", "STOP")]
    assert await post_signed(sms_site, SMS_PATH, stop) == 200
    urgent = [
        ("MessageSid", "SMhi1"),
        ("From", other),
        ("To", "+815012345678"),
        ("Body", "死にたい"),
    ]
    assert await post_signed(sms_site, SMS_PATH, urgent) == 200

    # The other sender's urgent text gets its automatic safety message at once; by then the
    # STOP, stored before it, has had every chance to get an automatic reply too.
    async def replied() -> bool | None:
        return True if any(r.form.get("To") == other for r in fake.requests) else None

    await until(replied)
    assert [r for r in fake.requests if r.form.get("To") == HER] == []
