"""Sorting parsed mail for the intake: pure table tests."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from channels.mail_auto import AutoKind
from channels.mail_compose import MAX_REFERENCES, conversation_token, make_message_id
from channels.mail_intake import OurThreads, body_text, external_id, sort_mail, thread_of
from channels.mail_parse import MailAttachment, ParsedMail

NOW = datetime(2026, 11, 22, 1, tzinfo=UTC)
OURS = OurThreads(domain="city.example.jp", key=b"thread-key-for-tests")
BASE = ParsedMail(
    message_id="m1@example.jp",
    in_reply_to="ours@city.example.jp",
    references=("root@example.jp",),
    sender="a@example.jp",
    sender_name="A",
    subject=" 相談 ",
    date=None,
    body="本文です。",
    quoted="> 以前の文",
    attachments=(),
    warnings=(),
    auto=AutoKind.NONE,
    bounced_message_id=None,
)


def test_a_consulters_mail_is_stored_with_its_thread() -> None:
    result = sort_mail(BASE, received_at=NOW, ours=OURS)
    assert result.inbound is not None and result.inbound.received_at == NOW
    assert result.inbound.body == "件名 / Subject: 相談\n\n本文です。"
    assert result.thread is not None
    assert result.thread.references == ("root@example.jp", "ours@city.example.jp")
    assert result.thread.last_message_id == "m1@example.jp" and result.thread.subject == "相談"


def test_the_idempotency_key_binds_the_sender() -> None:
    other = dataclasses.replace(BASE, sender="b@example.jp")
    assert external_id(BASE) != external_id(other)
    assert external_id(BASE).startswith("m1@example.jp#")
    assert "a@example.jp" not in external_id(BASE)  # the key is stored: no address in it


def test_bounce_auto_reply_loop_and_senderless_mail_are_not_stored() -> None:
    bounce = dataclasses.replace(BASE, auto=AutoKind.BOUNCE, bounced_message_id="x@city")
    assert sort_mail(bounce, received_at=NOW, ours=OURS).bounced == "x@city"
    for kind in (AutoKind.AUTO_REPLY, AutoKind.LOOP):
        result = sort_mail(dataclasses.replace(BASE, auto=kind), received_at=NOW, ours=OURS)
        assert result.inbound is None and result.skipped == kind.value
    assert (
        sort_mail(dataclasses.replace(BASE, sender=""), received_at=NOW, ours=OURS).skipped
        == "no_sender"
    )


def test_body_falls_back_and_carries_warnings_and_attachments() -> None:
    quoted_only = dataclasses.replace(BASE, body="", subject="")
    assert body_text(quoted_only) == "> 以前の文"
    empty = dataclasses.replace(BASE, body="", quoted="", subject="")
    assert body_text(empty) == "（本文なし / no text）"
    warned = dataclasses.replace(BASE, warnings=("attachment 'a.pdf' was not kept",))
    assert body_text(warned).endswith("[tsunagu] attachment 'a.pdf' was not kept")
    big = MailAttachment(
        filename="a.pdf", content_type="application/pdf", size_bytes=9, content=None, refused=True
    )
    result = sort_mail(dataclasses.replace(BASE, attachments=(big,)), received_at=NOW, ours=OURS)
    assert result.inbound is not None and result.inbound.attachments[0].filename == "a.pdf"
    assert thread_of(dataclasses.replace(BASE, in_reply_to=None)).references == ("root@example.jp",)


def test_attachment_content_goes_to_the_intake_unless_refused() -> None:
    kept = MailAttachment(
        filename="a.pdf", content_type="application/pdf", size_bytes=11, content=b"%PDF-secret"
    )
    big = MailAttachment(
        filename="b.pdf", content_type="application/pdf", size_bytes=9, content=None, refused=True
    )
    result = sort_mail(
        dataclasses.replace(BASE, attachments=(kept, big)), received_at=NOW, ours=OURS
    )
    assert result.inbound is not None
    assert [(a.filename, a.content) for a in result.inbound.attachments] == [
        ("a.pdf", b"%PDF-secret"),
        ("b.pdf", None),
    ]
    assert "secret" not in repr(result.inbound)  # contents never reach a log line


def _our_id(conversation_id: int, key: bytes = OURS.key, domain: str = OURS.domain) -> str:
    return make_message_id(conversation_token(key, conversation_id), "m9", domain)


def test_a_reply_quoting_our_message_id_names_its_conversation() -> None:
    def hint(in_reply_to: str | None, *references: str) -> int | None:
        mail = dataclasses.replace(BASE, in_reply_to=in_reply_to, references=references)
        result = sort_mail(mail, received_at=NOW, ours=OURS)
        assert result.inbound is not None
        return result.inbound.conversation_hint

    assert hint(_our_id(42)) == 42
    assert hint(f"<{_our_id(42)}>") == 42
    # In-Reply-To first, then References from the newest: the closest of our mails wins.
    assert hint(_our_id(7), _our_id(5), _our_id(6)) == 7
    assert hint("theirs@example.jp", _our_id(5), _our_id(6)) == 6
    assert hint("theirs@example.jp", "root@example.jp") is None
    # Only the newest references are checked (each costs an HMAC; a mail can list thousands).
    padding = [f"r{i}@example.jp" for i in range(MAX_REFERENCES)]
    assert hint(None, _our_id(3), *padding[1:]) == 3
    assert hint(None, _our_id(3), *padding) is None
    assert hint(None) is None


def test_a_forged_or_foreign_token_names_no_conversation() -> None:
    def hint(message_id: str) -> int | None:
        result = sort_mail(
            dataclasses.replace(BASE, in_reply_to=message_id), received_at=NOW, ours=OURS
        )
        assert result.inbound is not None
        return result.inbound.conversation_hint

    assert hint(_our_id(42, key=b"another-installation")) is None  # a token made with another key
    assert hint(_our_id(42, domain="other.example.jp")) is None  # not our domain
    assert hint("tsunagu.c42.m9@city.example.jp") is None  # the old, guessable form
    token = conversation_token(OURS.key, 42)
    forged = token.replace("c42-", "c43-")  # someone else's conversation with this mac
    assert hint(f"tsunagu.{forged}.m9@city.example.jp") is None
    # A valid token later in References still counts, after a forged one in In-Reply-To.
    mail = dataclasses.replace(
        BASE, in_reply_to=f"tsunagu.{forged}.m9@city.example.jp", references=(_our_id(8),)
    )
    result = sort_mail(mail, received_at=NOW, ours=OURS)
    assert result.inbound is not None and result.inbound.conversation_hint == 8
