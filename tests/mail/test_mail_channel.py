"""The e-mail channel end to end: a real Dovecot, a real store (SQLite; the contract suite holds
the mail state on both), the real intake, replies through the outbox to an SMTP sink. Every case
the e-mail issue names."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest

from channels.mail import MailChannel, MailIntake, MailSettings
from channels.mail_imap import HANDLED_FLAG, ImapMailbox, ImapSettings
from channels.mail_smtp import SmtpSettings
from inbox.core.errors import ChannelError
from inbox.core.model import ChannelKind, DeliveryStatus, Direction, Message
from inbox.outbox import OutboxSender
from inbox.pipeline import Intake
from storage.base import Store
from tests.factories import new_user
from tests.mail.test_parse import OUTLOOK_BODY, b_word, outlook_mail, raw
from tests.mailservers import Dovecot, MailAccount, SmtpSink

pytestmark = pytest.mark.mail
KEY = b"k" * 32
US = "soudan@city.example.jp"


def settings(account: MailAccount, sink: SmtpSink, **overrides: Any) -> MailSettings:
    values: dict[str, Any] = {
        "imap": ImapSettings(
            host=account.host,
            port=account.port,
            security="plain",
            username=account.user,
            password=account.password,
            timeout_s=5.0,
        ),
        "smtp": SmtpSettings(host=sink.host, port=sink.port, security="plain", timeout_s=5.0),
        "address": US,
        "domain": "city.example.jp",
        "max_attachment_bytes": 1000,
    }
    return MailSettings(**(values | overrides))


@dataclass
class Rig:
    store: Store
    intake: Intake
    account: MailAccount
    sink: SmtpSink
    settings: MailSettings

    def mail_intake(self) -> MailIntake:
        return MailIntake(self.settings, self.intake, self.store, clock=lambda: datetime.now(UTC))

    async def catch_up(self) -> int:
        async with ImapMailbox(self.settings.imap) as box:
            return await self.mail_intake().catch_up(box)

    async def inbound(self) -> list[Message]:
        convs = await self.store.list_conversations(
            statuses=("queued", "assigned", "waiting", "closed")  # type: ignore[arg-type]
        )
        found = []
        for conv in sorted(convs, key=lambda c: c.id):
            found += [
                m
                for m in await self.store.list_messages(conv.id)
                if m.direction is Direction.INBOUND
            ]
        return found

    async def send_replies(self) -> int:
        channel = MailChannel(self.settings, self.store)
        sender = OutboxSender(
            self.store,
            {ChannelKind.MAIL: channel},
            clock=lambda: datetime.now(UTC),
            batch=10,
            max_attempts=3,
            backoff_base_s=0.01,
            backoff_max_s=0.01,
            lease_s=30,
            send_timeout_s=10,
        )
        return await sender.send_due()

    def sent(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(e.original_content or b"", policy=email.policy.default)
            for e in self.sink.envelopes
        ]


@pytest.fixture
async def rig(store: Store, mail_account: MailAccount, smtp_sink: SmtpSink) -> AsyncIterator[Rig]:
    intake = Intake(store, KEY, queue_max=1000, batch_max=500, ack_timeout_s=10)
    async with asyncio.TaskGroup() as tg:
        writer = tg.create_task(intake.run_writer())
        yield Rig(store, intake, mail_account, smtp_sink, settings(mail_account, smtp_sink))
        writer.cancel()


def jis_mail(message_id: str, subject: str, body: str, sender: str = "hanako@example.jp") -> bytes:
    return raw(
        f"From: {b_word('ISO-2022-JP', '花子'.encode('iso-2022-jp'))} <{sender}>",
        f"To: {US}",
        f"Subject: {b_word('ISO-2022-JP', subject.encode('iso-2022-jp'))}",
        f"Message-ID: <{message_id}>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=ISO-2022-JP",
        body=body.encode("iso-2022-jp"),
    )


ENCODINGS = {
    "iso-2022-jp": jis_mail("jis@example.jp", "相談です", "夫のことで相談があります。\n"),
    "outlook": outlook_mail(),
    "shift_jis": raw(
        "From: a@example.jp",
        "Subject: " + b_word("Shift_JIS", "件名テスト".encode("shift_jis")),
        "Message-ID: <sjis@example.jp>",
        "Content-Type: text/plain; charset=Shift_JIS",
        "Content-Transfer-Encoding: 8bit",
        body="ｶﾀｶﾅと漢字の本文です。\n".encode("shift_jis"),
    ),
    "euc-jp": raw(
        "From: b@example.jp",
        "Subject: euc",
        "Message-ID: <euc@example.jp>",
        "Content-Type: text/plain; charset=EUC-JP",
        "Content-Transfer-Encoding: 8bit",
        body="ＥＵＣの本文です。\n".encode("euc_jp"),
    ),
    "raw utf-8 headers": raw(
        "From: 山田 <c@example.jp>".encode(),
        "Subject: 生のUTF-8件名".encode(),
        "Message-ID: <utf8@example.jp>",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
        body="絵文字も🍀\n".encode(),
    ),
    "html only": raw(
        "From: d@example.jp",
        "Subject: html",
        "Message-ID: <html@example.jp>",
        "Content-Type: text/html; charset=utf-8",
        body="<html><body><p>助けて<br>ください</p><script>x()</script></body></html>".encode(),
    ),
}
EXPECTED = {
    "iso-2022-jp": ("件名 / Subject: 相談です", "夫のことで相談があります。"),
    "outlook": ("件名 / Subject: ㈱の件①ﾃｽﾄ～", OUTLOOK_BODY.strip()),
    "shift_jis": ("件名 / Subject: 件名テスト", "ｶﾀｶﾅと漢字の本文です。"),
    "euc-jp": ("件名 / Subject: euc", "ＥＵＣの本文です。"),
    "raw utf-8 headers": ("件名 / Subject: 生のUTF-8件名", "絵文字も🍀"),
    "html only": ("件名 / Subject: html", "助けて\nください"),
}


async def test_japanese_mail_in_every_encoding_is_stored_exactly(rig: Rig) -> None:
    uids = rig.account.deliver_many(list(ENCODINGS.values()))
    assert await rig.catch_up() == len(ENCODINGS)
    bodies = [m.body for m in await rig.inbound()]
    for name, (subject, text) in EXPECTED.items():
        match = [b for b in bodies if b.startswith(subject + "\n\n")]
        assert match and match[0].split("\n\n", 1)[1] == text, name
        assert "\ufffd" not in match[0]
    # Handled on the server only now, and the cursor moved past them.
    assert all(HANDLED_FLAG in rig.account.flags(uid) for uid in uids)
    cursor = await rig.store.mail_cursor(rig.settings.mailbox_key)
    assert cursor is not None and cursor.last_uid == max(uids)
    assert await rig.catch_up() == 0


async def test_duplicate_delivery_is_stored_once(rig: Rig) -> None:
    mail = jis_mail("twice@example.jp", "二重", "同じメールです。\n")
    rig.account.deliver_many([mail, mail])
    assert await rig.catch_up() == 1
    assert len(await rig.inbound()) == 1


async def test_crash_before_the_flag_refetches_without_loss_or_duplicate(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    uid = rig.account.deliver(jis_mail("crash@example.jp", "落ちる", "本文\n"))

    async def crash(*_: object, **__: object) -> None:
        raise ChannelError("connection lost", channel="mail", retryable=True)

    with monkeypatch.context() as m:
        m.setattr(ImapMailbox, "mark_handled", crash)
        with pytest.raises(ChannelError):
            await rig.catch_up()
    assert len(await rig.inbound()) == 1  # stored before the crash
    assert HANDLED_FLAG not in rig.account.flags(uid)
    assert await rig.catch_up() == 0  # fetched again, recognized, nothing new
    assert len(await rig.inbound()) == 1
    assert HANDLED_FLAG in rig.account.flags(uid)


async def test_reply_lands_in_her_thread_and_her_answer_in_the_conversation(rig: Rig) -> None:
    rig.account.deliver(jis_mail("first@example.jp", "相談です", "はじめまして。\n"))
    await rig.catch_up()
    (first,) = await rig.inbound()
    counselor = await rig.store.create_user(new_user("sato"), now=datetime.now(UTC))
    await rig.store.add_reply(
        first.conversation_id,
        author_id=counselor.id,
        body="ご連絡ありがとうございます。",
        now=datetime.now(UTC),
    )
    assert await rig.send_replies() == 1
    (reply,) = rig.sent()
    assert reply["In-Reply-To"] == "<first@example.jp>"
    assert str(reply["Subject"]) == "Re: 相談です"
    assert reply["From"].addresses[0].addr_spec == US
    assert rig.sink.envelopes[0].rcpt_tos == ["hanako@example.jp"]
    assert reply.get_content().replace("\r\n", "\n") == "ご連絡ありがとうございます。\n"
    # Her answer, quoting ours, threads into the same conversation.
    answer = raw(
        "From: hanako@example.jp",
        "Subject: Re: 相談です",
        "Message-ID: <second@example.jp>",
        f"In-Reply-To: {reply['Message-ID']}",
        f"References: <first@example.jp> {reply['Message-ID']}",
        "Content-Type: text/plain; charset=utf-8",
        body="ありがとうございます。\n\n> ご連絡ありがとうございます。\n".encode(),
    )
    rig.account.deliver(answer)
    assert await rig.catch_up() == 1
    second = (await rig.inbound())[-1]
    assert second.conversation_id == first.conversation_id
    assert second.body == "件名 / Subject: Re: 相談です\n\nありがとうございます。"
    thread = await rig.store.mail_thread(first.conversation_id)
    assert thread is not None and thread.last_message_id == "second@example.jp"


async def test_an_answer_from_another_address_joins_by_our_message_id(rig: Rig) -> None:
    rig.account.deliver(jis_mail("home@example.jp", "相談です", "はじめまして。\n"))
    await rig.catch_up()
    (first,) = await rig.inbound()
    counselor = await rig.store.create_user(new_user("sato"), now=datetime.now(UTC))
    await rig.store.add_reply(
        first.conversation_id, author_id=counselor.id, body="お返事です。", now=datetime.now(UTC)
    )
    assert await rig.send_replies() == 1
    (reply,) = rig.sent()
    ours = reply["Message-ID"]
    assert f"tsunagu.c{first.conversation_id}-" in ours  # keyed, see mail_compose

    def answer(sender: str, message_id: str, in_reply_to: str) -> bytes:
        return raw(
            f"From: {sender}",
            "Subject: 職場から",
            f"Message-ID: <{message_id}>",
            f"In-Reply-To: {in_reply_to}",
            "Content-Type: text/plain; charset=utf-8",
            body="職場のアドレスから失礼します。\n".encode(),
        )

    # She answers from her work address: the token in our Message-ID finds the conversation.
    rig.account.deliver(answer("hanako@work.example.jp", "work@example.jp", ours))
    # A stranger who guesses the conversation number cannot write into it.
    guessed = f"<tsunagu.c{first.conversation_id}.m1@city.example.jp>"
    rig.account.deliver(answer("stranger@example.jp", "guess@example.jp", guessed))
    assert await rig.catch_up() == 2
    work, stranger = (await rig.inbound())[1:]
    assert work.conversation_id == first.conversation_id
    assert stranger.conversation_id != first.conversation_id
    joined = [e for e in await rig.store.list_events() if e.kind == "thread_joined"]
    assert [(e.conversation_id, e.message_id) for e in joined] == [(first.conversation_id, work.id)]
    # The reply still goes to the address the conversation began with, in the thread as it
    # was: nothing of the other mail (its subject, its Message-ID's domain) goes along.
    await rig.store.add_reply(
        first.conversation_id, author_id=counselor.id, body="承知しました。", now=datetime.now(UTC)
    )
    assert await rig.send_replies() == 1
    assert rig.sink.envelopes[-1].rcpt_tos == ["hanako@example.jp"]
    second = rig.sent()[-1]
    assert second["In-Reply-To"] == "<home@example.jp>" and str(second["Subject"]) == "Re: 相談です"
    assert "work" not in str(second["References"])


async def test_malformed_and_oversized_mail_is_kept_with_a_warning(rig: Rig) -> None:
    broken = raw(
        "From: e@example.jp",
        "Subject: broken",
        "Message-ID: <broken@example.jp>",
        'Content-Type: multipart/mixed; boundary="nope"',
        body=b"no boundary ever appears\n",
    )
    big = EmailMessage()
    big["From"], big["Subject"], big["Message-ID"] = "f@example.jp", "big", "<big@example.jp>"
    big.set_content("添付します。")
    big.add_attachment(b"x" * 5000, maintype="application", subtype="pdf", filename="診断書.pdf")
    rig.account.deliver_many([broken, big.as_bytes()])
    assert await rig.catch_up() == 2
    broken_msg, big_msg = await rig.inbound()
    assert "[tsunagu]" in broken_msg.body
    assert "[tsunagu]" in big_msg.body and "診断書.pdf" in big_msg.body
    (attachment,) = big_msg.attachments
    assert (attachment.filename, attachment.size_bytes) == ("診断書.pdf", 5000)


async def test_bounce_marks_the_reply_failed(rig: Rig) -> None:
    rig.account.deliver(jis_mail("b1@example.jp", "相談", "本文\n", sender="gone@example.jp"))
    await rig.catch_up()
    (first,) = await rig.inbound()
    user = await rig.store.create_user(new_user("sato"), now=datetime.now(UTC))
    reply = await rig.store.add_reply(
        first.conversation_id, author_id=user.id, body="返信", now=datetime.now(UTC)
    )
    await rig.send_replies()
    our_id = rig.sent()[0]["Message-ID"]
    dsn = raw(
        "From: MAILER-DAEMON@example.jp",
        f"To: {US}",
        "Subject: Undelivered Mail Returned to Sender",
        "Message-ID: <dsn1@example.jp>",
        "Auto-Submitted: auto-replied",
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"',
        body=(
            "--B\nContent-Type: text/plain\n\nThe mail could not be delivered.\n"
            "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.jp\n\n"
            "Final-Recipient: rfc822; gone@example.jp\nAction: failed\nStatus: 5.1.1\n"
            f"--B\nContent-Type: text/rfc822-headers\n\nMessage-ID: {our_id}\nSubject: Re\n--B--\n"
        ).encode(),
    )
    rig.account.deliver(dsn)
    assert await rig.catch_up() == 0  # a bounce opens nothing
    messages = await rig.store.list_messages(first.conversation_id)
    sent = next(m for m in messages if m.id == reply.id)
    assert sent.delivery_status is DeliveryStatus.FAILED
    assert len(await rig.inbound()) == 1


async def test_auto_replies_never_open_a_conversation_or_loop(rig: Rig) -> None:
    ooo = raw(
        "From: busy@example.jp",
        "Subject: 自動応答: 不在のお知らせ",
        "Message-ID: <ooo@example.jp>",
        "Auto-Submitted: auto-replied",
        "Content-Type: text/plain; charset=utf-8",
        body="不在です。\n".encode(),
    )
    ours = raw(
        f"From: {US}",
        "Subject: Re: x",
        "Message-ID: <loop@city.example.jp>",
        "X-Tsunagu-Loop: tsunagu",
        body=b"our own mail came back\n",
    )
    uids = rig.account.deliver_many([ooo, ours])
    assert await rig.catch_up() == 0
    assert await rig.inbound() == []
    assert await rig.store.list_conversations(statuses=("queued",)) == []  # type: ignore[arg-type]
    assert all(HANDLED_FLAG in rig.account.flags(u) for u in uids)  # handled, not stuck


async def test_dovecot_restart_while_idle_loses_nothing(
    store: Store, private_dovecot: Dovecot, smtp_sink: SmtpSink
) -> None:
    account = private_dovecot.add_user()
    intake = Intake(store, KEY, queue_max=100, batch_max=100, ack_timeout_s=10)
    reader = MailIntake(
        settings(account, smtp_sink), intake, store, clock=lambda: datetime.now(UTC), wait_s=30
    )
    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(intake.run_writer()), tg.create_task(reader.run())]
        account.deliver(jis_mail("before@example.jp", "前", "一通目\n"))
        await wait_for(lambda: count_inbound(store, 1))
        private_dovecot.restart()  # drops the IDLE connection
        account.deliver(jis_mail("after@example.jp", "後", "二通目\n", sender="next@example.jp"))
        await wait_for(lambda: count_inbound(store, 2), timeout_s=20)
        for task in tasks:
            task.cancel()


async def count_inbound(store: Store, n: int) -> bool:
    convs = await store.list_conversations(statuses=("queued",))  # type: ignore[arg-type]
    return len(convs) >= n


async def wait_for(check: Callable[[], Awaitable[bool]], timeout_s: float = 10.0) -> None:
    """Poll the database: the mail reader has no hook to wait on, by design."""
    async with asyncio.timeout(timeout_s):
        while True:
            if await check():
                return
            await asyncio.sleep(0.1)
