"""channels.sms against the local Twilio stand-in: what is sent, and how refusals are read."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest

from channels.sms import SmsSettings, TwilioSmsChannel
from inbox.core.errors import ChannelError
from inbox.core.model import ChannelKind, ConversationId, MessageId, OutboundMessage
from tests.twilio_fake import TwilioFake, twilio_fake

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "tok-5e1d"
TO = "+819012345678"
FROM = "+815012345678"
CALLBACK = "https://inbox.example.jp/webhooks/twilio/sms/status"


@pytest.fixture
async def fake() -> AsyncIterator[TwilioFake]:
    async with twilio_fake() as f:
        yield f


def reply(
    body: str = "ご連絡ありがとうございます。", *, automatic: bool = False, discreet: bool = False
) -> OutboundMessage:
    return OutboundMessage(
        message_id=MessageId(1),
        conversation_id=ConversationId(1),
        channel=ChannelKind.SMS,
        recipient=TO,
        body=body,
        automatic=automatic,
        discreet=discreet,
    )


def channel(fake: TwilioFake) -> TwilioSmsChannel:
    return TwilioSmsChannel(
        SmsSettings(
            account_sid=SID,
            auth_token=TOKEN,
            from_number=FROM,
            status_callback_url=CALLBACK,
            api_url=fake.url,
        )
    )


async def test_sends_with_the_status_callback_and_returns_the_sid(fake: TwilioFake) -> None:
    async with channel(fake) as sms:
        sid = await sms.send(reply())
    assert [sid] == fake.sids and sid.startswith("SM") and len(sid) == 34
    (seen,) = fake.requests
    assert seen.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert seen.form == {
        "To": TO,
        "From": FROM,
        "Body": "ご連絡ありがとうございます。",
        "StatusCallback": CALLBACK,
    }
    assert seen.authorization == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (21610, "unsubscribed"),
        (21614, "not a mobile"),
        (21211, "not a valid phone number"),
        (21408, "region"),
        (21612, "cannot be reached"),
        (30006, "landline"),
    ],
)
async def test_permanent_refusals_name_the_cause_not_the_number(
    fake: TwilioFake, code: int, words: str
) -> None:
    fake.fail_next(400, code)
    async with channel(fake) as sms:
        with pytest.raises(ChannelError) as info:
            await sms.send(reply())
    assert not info.value.retryable
    assert f"twilio {code}: " in str(info.value) and words in str(info.value)
    assert "9012345678" not in str(info.value)


@pytest.mark.parametrize(("status", "code"), [(429, 20429), (429, None), (500, None), (503, None)])
async def test_rate_limits_and_server_errors_are_retryable(
    fake: TwilioFake, status: int, code: int | None
) -> None:
    fake.fail_next(status, code)
    async with channel(fake) as sms:
        with pytest.raises(ChannelError) as info:
            await sms.send(reply())
        assert info.value.retryable
        assert (await sms.send(reply())).startswith("SM")  # the next answer is a success


async def test_unreachable_api_is_retryable() -> None:
    closed = TwilioSmsChannel(
        SmsSettings(
            account_sid=SID,
            auth_token=TOKEN,
            from_number=FROM,
            status_callback_url=CALLBACK,
            api_url="http://127.0.0.1:9",  # discard port: nothing listens
        )
    )
    async with closed as sms:
        with pytest.raises(ChannelError) as info:
            await sms.send(reply())
    assert info.value.retryable and "unreachable" in str(info.value)


async def test_other_refusals_are_permanent_without_twilio_text(fake: TwilioFake) -> None:
    fake.fail_next(400, 21602)  # e.g. "Message body is required"
    async with channel(fake) as sms:
        with pytest.raises(ChannelError) as info:
            await sms.send(reply())
    assert not info.value.retryable and str(info.value) == "[sms] twilio 21602: refused"


async def test_no_automatic_text_to_a_discreet_consulter(fake: TwilioFake) -> None:
    async with channel(fake) as sms:
        with pytest.raises(ChannelError) as info:
            await sms.send(reply(automatic=True, discreet=True))
        assert not info.value.retryable
        await sms.send(reply(discreet=True))  # a counselor's own reply still goes
    assert len(fake.requests) == 1
