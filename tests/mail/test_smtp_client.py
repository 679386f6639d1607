"""channels.mail_smtp against an in-loop aiosmtpd sink: delivery and failure classification."""

from __future__ import annotations

import asyncio
import email
from collections.abc import AsyncIterator
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest

from channels.mail_smtp import SmtpSettings, send_mail
from inbox.core.errors import ChannelError
from tests.mailservers import HOST, SinkStage, SmtpSink, free_port

SENDER = "inbox@example.jp"
RECIPIENT = "sodan@example.jp"


def settings(sink: SmtpSink, **overrides: Any) -> SmtpSettings:
    values: dict[str, Any] = {
        "host": sink.host,
        "port": sink.port,
        "security": "plain",
        "timeout_s": 5.0,
    }
    return SmtpSettings(**(values | overrides))


def reply(message_id: str | None = "<reply-1@example.jp>") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"つなぐ相談窓口 <{SENDER}>"
    msg["To"] = RECIPIENT
    msg["Subject"] = "Re: ご相談の件"
    if message_id:
        msg["Message-ID"] = message_id
    msg.set_content("ご連絡ありがとうございます。\nお話を伺います。\n")
    return msg


def assert_private(error: ChannelError) -> None:
    """Nothing that names a person or the body, in the message or in a chained cause."""
    for text in (str(error), repr(error.__cause__), repr(error.__context__)):
        for secret in (RECIPIENT, SENDER, "someone@example.jp", "ご連絡"):
            assert secret not in text


async def test_delivered_bytes_parse_back(smtp_sink: SmtpSink) -> None:
    message_id = await send_mail(
        settings(smtp_sink), reply(), sender=SENDER, recipients=[RECIPIENT]
    )

    assert message_id == "<reply-1@example.jp>"
    [envelope] = smtp_sink.envelopes
    assert envelope.mail_from == SENDER
    assert envelope.rcpt_tos == [RECIPIENT]
    assert isinstance(envelope.content, bytes)
    got = email.message_from_bytes(envelope.content, policy=default)
    assert isinstance(got, EmailMessage)
    assert got["Subject"] == "Re: ご相談の件"
    assert got["Message-ID"] == message_id
    assert (
        got.get_content().replace("\r\n", "\n")
        == "ご連絡ありがとうございます。\nお話を伺います。\n"
    )


async def test_a_message_id_is_added_when_missing(smtp_sink: SmtpSink) -> None:
    msg = reply(message_id=None)
    message_id = await send_mail(settings(smtp_sink), msg, sender=SENDER, recipients=[RECIPIENT])

    assert message_id.startswith("<") and message_id.endswith("@example.jp>")
    content = smtp_sink.envelopes[0].content
    assert isinstance(content, bytes)
    assert email.message_from_bytes(content, policy=default)["Message-ID"] == message_id


@pytest.mark.parametrize(
    ("stage", "code", "retryable"),
    [
        ("data", 451, True),
        ("data", 554, False),
        ("rcpt", 450, True),
        ("rcpt", 550, False),
        ("mail", 421, True),
        ("mail", 553, False),
    ],
)
async def test_refusals_are_classified_by_code(
    smtp_sink: SmtpSink, stage: SinkStage, code: int, retryable: bool
) -> None:
    smtp_sink.fail_next(1, code, stage=stage)

    with pytest.raises(ChannelError) as caught:
        await send_mail(settings(smtp_sink), reply(), sender=SENDER, recipients=[RECIPIENT])

    assert caught.value.retryable is retryable
    assert str(code) in str(caught.value)
    assert_private(caught.value)
    assert smtp_sink.envelopes == []
    # the sink is back to normal: the retry a scheduler would make goes through
    await send_mail(settings(smtp_sink), reply(), sender=SENDER, recipients=[RECIPIENT])
    assert len(smtp_sink.envelopes) == 1


async def test_some_recipients_refused_counts_as_sent(smtp_sink: SmtpSink) -> None:
    smtp_sink.fail_next(1, 550, stage="rcpt")
    others = ["second@example.jp"]

    await send_mail(settings(smtp_sink), reply(), sender=SENDER, recipients=[RECIPIENT, *others])

    assert smtp_sink.envelopes[0].rcpt_tos == others


async def test_connection_refused_is_retryable() -> None:
    unused = SmtpSettings(host=HOST, port=free_port(), security="plain", timeout_s=2.0)
    with pytest.raises(ChannelError) as caught:
        await send_mail(unused, reply(), sender=SENDER, recipients=[RECIPIENT])
    assert caught.value.retryable is True


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """Accepts connections and never says a word (a hung server)."""
    writers: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)

    server = await asyncio.start_server(hold, HOST, 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_a_silent_server_times_out_retryably(silent_server: int) -> None:
    hung = SmtpSettings(host=HOST, port=silent_server, security="plain", timeout_s=0.3)
    with pytest.raises(ChannelError) as caught:
        await send_mail(hung, reply(), sender=SENDER, recipients=[RECIPIENT])
    assert caught.value.retryable is True


async def test_a_password_is_never_sent_in_plain_to_a_remote_host() -> None:
    remote = SmtpSettings(
        host="192.0.2.25", port=25, security="plain", username="inbox", password="secret"
    )
    with pytest.raises(ChannelError) as caught:
        await send_mail(remote, reply(), sender=SENDER, recipients=[RECIPIENT])
    assert caught.value.retryable is False
