"""channels.mail_imap against a real Dovecot: intake steps, IDLE, TLS, and every failure mode."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator
from email.message import EmailMessage
from email.policy import SMTP
from typing import Any

import pytest

from channels.mail_imap import HANDLED_FLAG, ImapMailbox, ImapSettings
from inbox.core.errors import ChannelError
from tests import skips
from tests.mailservers import Dovecot, MailAccount

pytestmark = pytest.mark.mail


def settings(account: MailAccount, **overrides: Any) -> ImapSettings:
    values: dict[str, Any] = {
        "host": account.host,
        "port": account.port,
        "security": "plain",
        "username": account.user,
        "password": account.password,
        "timeout_s": 5.0,
    }
    return ImapSettings(**(values | overrides))


def tls_context(account: MailAccount) -> ssl.SSLContext:
    if account.cafile is None:
        skips.skip_or_fail(
            "openssl is missing, so Dovecot has no certificate", "apt-get install openssl"
        )
    return ssl.create_default_context(cafile=str(account.cafile))


def mail(n: int, extra: str = "") -> bytes:
    msg = EmailMessage()
    msg["From"] = "相談者 <sodan@example.jp>"
    msg["To"] = "inbox@example.jp"
    msg["Subject"] = f"相談 {n}"
    msg.set_content(f"本文 {n}\n{extra}", charset="iso-2022-jp", cte="7bit")
    return msg.as_bytes(policy=SMTP)  # CRLF line ends, as on the wire


@pytest.fixture
async def mailbox(mail_account: MailAccount) -> AsyncIterator[ImapMailbox]:
    async with ImapMailbox(settings(mail_account)) as box:
        yield box


async def fetch_all(box: ImapMailbox, uids: list[int], chunk: int = 200) -> list[tuple[int, bytes]]:
    return [item async for item in box.fetch(uids, chunk=chunk)]


async def test_login_and_uidvalidity_is_stable(mail_account: MailAccount) -> None:
    box = ImapMailbox(settings(mail_account))
    await box.connect()
    first = box.uidvalidity
    assert box.has_idle
    await box.close()
    await box.close()  # twice is fine
    async with ImapMailbox(settings(mail_account)) as again:
        assert again.uidvalidity == first > 0


async def test_new_mail_is_listed_and_fetched_byte_exact(
    mailbox: ImapMailbox, mail_account: MailAccount
) -> None:
    raws = [mail(n) for n in range(3)]
    uids = mail_account.deliver_many(raws)

    assert await mailbox.uids_after(0) == uids
    got = await fetch_all(mailbox, uids)
    assert got == list(zip(uids, raws, strict=True))
    assert b"\r\n" in got[0][1] and b"\x1b$B" in got[0][1]  # CRLF and ISO-2022-JP kept as is
    assert await mailbox.uids_after(uids[-1]) == []  # the server still answers with the last UID
    assert "\\Seen" not in mail_account.flags(uids[0])  # BODY.PEEK


async def test_many_messages_per_fetch_with_tricky_bodies(
    mailbox: ImapMailbox, mail_account: MailAccount
) -> None:
    # bodies that look like IMAP responses must not confuse the literal parsing
    tricky = "* 1 FETCH (UID 99 BODY[] {3}\r\n)\r\nA1 OK done\r\n(((\r\n"
    raws = [mail(n, tricky if n % 2 else "") for n in range(25)]
    uids = mail_account.deliver_many(raws)

    got = await fetch_all(mailbox, [*reversed(uids), 9999], chunk=7)

    assert got == list(zip(uids, raws, strict=True))


async def test_mark_handled_with_a_flag(mailbox: ImapMailbox, mail_account: MailAccount) -> None:
    uids = mail_account.deliver_many([mail(n) for n in range(3)])

    await mailbox.mark_handled(uids[:2], how="flag")

    assert await mailbox.uids_unhandled() == uids[2:]
    assert HANDLED_FLAG in mail_account.flags(uids[0])
    assert "\\Seen" not in mail_account.flags(uids[0])
    assert await mailbox.uids_after(0) == uids  # flagged mail stays in the folder


@pytest.mark.parametrize("server_has_move", [True, False])
async def test_mark_handled_by_moving(
    mail_account: MailAccount, monkeypatch: pytest.MonkeyPatch, server_has_move: bool
) -> None:
    if not server_has_move:  # Dovecot has MOVE; pretend it does not to run COPY+EXPUNGE
        monkeypatch.setattr(ImapMailbox, "has_move", property(lambda self: False))
    uids = mail_account.deliver_many([mail(n) for n in range(3)])
    async with ImapMailbox(settings(mail_account)) as box:
        await box.mark_handled(uids[:2], how="move")
        await box.mark_handled(uids[2:], how="move")  # the folder exists by now

        assert await box.uids_after(0) == []
    # Dovecot's Maildir++ delimiter is ".", so "Tsunagu/Stored" became "Tsunagu.Stored"
    assert len(mail_account.uids("Tsunagu.Stored")) == 3
    async with ImapMailbox(settings(mail_account)) as box:  # a new connection: ALREADYEXISTS
        uid = mail_account.deliver(mail(4))
        await box.mark_handled([uid], how="move")
    assert len(mail_account.uids("Tsunagu.Stored")) == 4


async def test_idle_wakes_on_a_delivery(mailbox: ImapMailbox, mail_account: MailAccount) -> None:
    assert await mailbox.uids_after(0) == []
    started = time.monotonic()
    waiting = asyncio.ensure_future(mailbox.wait_for_new(10))
    await asyncio.sleep(0.2)  # let IDLE start; a delivery before it is caught too, see below

    uid = await asyncio.to_thread(mail_account.deliver, mail(1))

    assert await waiting is True
    assert time.monotonic() - started < 4
    assert await mailbox.uids_after(0) == [uid]


async def test_wait_for_new_times_out(mailbox: ImapMailbox) -> None:
    started = time.monotonic()
    assert await mailbox.wait_for_new(0.5) is False
    assert time.monotonic() - started < 2
    assert await mailbox.uids_after(0) == []  # still usable after IDLE ended


async def test_mail_that_came_between_commands_is_not_missed(
    mailbox: ImapMailbox, mail_account: MailAccount
) -> None:
    await mailbox.uids_after(0)
    mail_account.deliver(mail(1))  # no IDLE running: the EXISTS rides on a later reply

    started = time.monotonic()
    assert await mailbox.wait_for_new(10) is True
    assert time.monotonic() - started < 1
    assert await mailbox.wait_for_new(0.3) is False  # reported once


async def test_polling_when_the_server_has_no_idle(
    mail_account: MailAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ImapMailbox, "has_idle", property(lambda self: False))
    async with ImapMailbox(settings(mail_account, poll_interval_s=0.1)) as box:
        assert await box.wait_for_new(0.3) is False
        waiting = asyncio.ensure_future(box.wait_for_new(10))
        await asyncio.to_thread(mail_account.deliver, mail(1))
        assert await waiting is True


async def test_wrong_password_is_not_retryable(private_dovecot: Dovecot) -> None:
    # Retrying cannot fix a wrong password and may lock the account: the operator must act.
    mail_account = private_dovecot.add_user()
    box = ImapMailbox(settings(mail_account, password="wrong-password"))
    with pytest.raises(ChannelError) as caught:
        await box.connect()
    assert caught.value.retryable is False
    assert "AUTHENTICATIONFAILED" in str(caught.value)
    assert mail_account.user not in str(caught.value)
    assert "wrong-password" not in str(caught.value)
    assert not box.connected


async def test_missing_folder_is_not_retryable(mail_account: MailAccount) -> None:
    with pytest.raises(ChannelError) as caught:
        await ImapMailbox(settings(mail_account, folder="相談/受付")).connect()
    assert caught.value.retryable is False
    assert "SELECT" in str(caught.value)


async def test_dovecot_restart_is_retryable_and_reconnect_works(
    dovecot: Dovecot, mail_account: MailAccount
) -> None:
    box = ImapMailbox(settings(mail_account))
    await box.connect()
    try:
        idling = asyncio.ensure_future(box.wait_for_new(30))
        await asyncio.sleep(0.2)
        await asyncio.to_thread(dovecot.restart)  # the loop runs on and sees the drop

        with pytest.raises(ChannelError) as during_idle:
            await asyncio.wait_for(idling, 5)
        assert during_idle.value.retryable is True
        assert not box.connected

        with pytest.raises(ChannelError) as next_call:
            await box.uids_after(0)
        assert next_call.value.retryable is True

        await box.connect()
        uid = mail_account.deliver(mail(1))
        assert await box.uids_after(0) == [uid]
    finally:
        await box.close()


async def test_a_restart_between_calls_is_retryable(
    dovecot: Dovecot, mail_account: MailAccount
) -> None:
    async with ImapMailbox(settings(mail_account)) as box:
        dovecot.restart()  # blocks the loop: the drop is noticed only by the next call
        with pytest.raises(ChannelError) as caught:
            await box.uids_after(0)
        assert caught.value.retryable is True
        await box.connect()
        assert await box.uids_after(0) == []


async def test_connection_refused_is_retryable(mail_account: MailAccount) -> None:
    with pytest.raises(ChannelError) as caught:
        await ImapMailbox(settings(mail_account, port=1)).connect()
    assert caught.value.retryable is True


async def test_plain_to_a_remote_host_is_refused(mail_account: MailAccount) -> None:
    with pytest.raises(ChannelError) as caught:
        await ImapMailbox(settings(mail_account, host="192.0.2.10")).connect()
    assert caught.value.retryable is False
    assert "tls" in str(caught.value)


async def test_implicit_tls(mail_account: MailAccount) -> None:
    context = tls_context(mail_account)
    tls = settings(mail_account, security="tls", port=mail_account.tls_port, ssl_context=context)
    async with ImapMailbox(tls) as box:
        uid = mail_account.deliver(mail(1))
        assert [u for u, _ in await fetch_all(box, await box.uids_after(0))] == [uid]


async def test_starttls(mail_account: MailAccount) -> None:
    context = tls_context(mail_account)
    async with ImapMailbox(settings(mail_account, security="starttls", ssl_context=context)) as box:
        assert box.has_move  # capabilities were asked again after TLS and after login
        assert await box.uids_after(0) == []


async def test_untrusted_certificate_is_not_retryable(mail_account: MailAccount) -> None:
    tls_context(mail_account)  # skips without a certificate
    untrusted = settings(mail_account, security="tls", port=mail_account.tls_port)
    with pytest.raises(ChannelError) as caught:
        await ImapMailbox(untrusted).connect()
    assert caught.value.retryable is False
