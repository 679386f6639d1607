"""The on-call e-mail: says that an urgent conversation waits and where, nothing more; a failed
send is retried until it goes through."""

from __future__ import annotations

import email
import email.policy

from channels.mail_smtp import SmtpSettings
from inbox.core.model import ConversationId
from inbox.oncall import OnCallMailer
from tests.mailservers import SmtpSink


async def test_on_call_mail_names_the_conversations_and_nothing_else(smtp_sink: SmtpSink) -> None:
    smtp = SmtpSettings(host=smtp_sink.host, port=smtp_sink.port, security="plain", timeout_s=5)
    mailer = OnCallMailer(
        smtp, sender="soudan@city.example.jp", to="oncall@city.example.jp",
        console_url="https://inbox.city.example.jp/console",
    )  # fmt: skip
    smtp_sink.fail_next(1, 451)
    mailer.given([ConversationId(12), ConversationId(15)])
    assert not await mailer.send_pending()  # 4xx: kept for the retry
    assert await mailer.send_pending()
    (envelope,) = smtp_sink.envelopes
    assert envelope.rcpt_tos == ["oncall@city.example.jp"]
    msg = email.message_from_bytes(envelope.original_content or b"", policy=email.policy.default)
    text = msg.get_content()
    assert "#12, #15" in text and "https://inbox.city.example.jp/console" in text
    assert msg["Auto-Submitted"] == "auto-generated"
    assert "緊急" in str(msg["Subject"])
