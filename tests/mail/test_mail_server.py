"""The server with [mail] enabled: a mail in Dovecot becomes a conversation a counselor sees
and answers, and her answer reaches the SMTP sink in the consulter's thread."""

from __future__ import annotations

import asyncio
import email
import email.policy
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from inbox.config import Config
from tests.mail.test_mail_channel import jis_mail
from tests.mailservers import MailAccount, SmtpSink
from tests.web.conftest import add_staff, make_config, running, sign_in

pytestmark = pytest.mark.mail


async def poll(session: aiohttp.ClientSession, url: str, ok: Any, timeout_s: float = 15) -> Any:
    """GET until `ok(json)` holds: the mail reader runs on its own schedule."""
    async with asyncio.timeout(timeout_s):
        while True:
            async with session.get(url) as r:
                data = await r.json()
            if ok(data):
                return data
            await asyncio.sleep(0.2)


def mail_server_config(
    tmp_path: Path, account: MailAccount, sink: SmtpSink, **mail: object
) -> Config:
    """A server config with [mail] reading `account` on the test Dovecot and sending to `sink`."""
    return make_config(
        tmp_path,
        mail={
            "enabled": True,
            "address": "soudan@city.example.jp",
            "imap_host": account.host,
            "imap_port": account.port,
            "imap_security": "plain",
            "imap_username": account.user,
            "imap_password": account.password,
            "smtp_host": sink.host,
            "smtp_port": sink.port,
            "smtp_security": "plain",
            **mail,
        },
    )


async def test_mail_in_reply_out_through_the_server(
    tmp_path: Path, mail_account: MailAccount, smtp_sink: SmtpSink
) -> None:
    cfg = mail_server_config(tmp_path, mail_account, smtp_sink, charset="utf-8")
    await add_staff(cfg)
    mail_account.deliver(
        jis_mail("in-1@example.jp", "はじめて相談します", "よろしくお願いします。\n")
    )
    async with running(cfg) as url, await sign_in(url, "sato") as sato:
        queue = await poll(sato, f"{url}/api/conversations", lambda d: d["conversations"])
        (conv,) = queue["conversations"]
        assert conv["channel"] == "mail" and conv["contact_alias"].startswith("相談者-")
        async with sato.get(f"{url}/api/conversations/{conv['id']}") as r:
            body = (await r.json())["messages"][0]["body"]
        assert body == "件名 / Subject: はじめて相談します\n\nよろしくお願いします。"
        async with sato.post(
            f"{url}/api/conversations/{conv['id']}/replies", json={"body": "お返事します。"}
        ) as r:
            assert r.status == 201
        async with asyncio.timeout(10):
            while True:  # the outbox sends on its own schedule
                if smtp_sink.envelopes:
                    break
                await asyncio.sleep(0.1)
    (envelope,) = smtp_sink.envelopes
    sent = email.message_from_bytes(envelope.original_content or b"", policy=email.policy.default)
    assert envelope.rcpt_tos == ["hanako@example.jp"]
    assert str(sent["Subject"]) == "Re: はじめて相談します"
    assert sent["In-Reply-To"] == "<in-1@example.jp>"
    # After a restart she answers from another address: our Message-ID's keyed token, made with
    # a key derived from the identity key in the data directory, still finds her conversation.
    mail_account.deliver(
        jis_mail(
            "in-2@example.jp",
            "Re: はじめて相談します",
            "職場からです。\n",
            sender="h@work.example.jp",
        ).replace(b"MIME-Version", f"In-Reply-To: {sent['Message-ID']}\r\nMIME-Version".encode())
    )
    async with running(cfg) as url, await sign_in(url, "sato") as sato:
        detail = f"{url}/api/conversations/{conv['id']}"
        found = await poll(sato, detail, lambda d: len(d["messages"]) == 3)
        assert found["messages"][2]["body"].startswith("件名 / Subject: Re: はじめて相談します")
        async with sato.get(f"{url}/api/conversations") as r:
            assert [c["id"] for c in (await r.json())["conversations"]] == [conv["id"]]


def test_mail_config_names_what_is_missing(tmp_path: Path) -> None:
    from inbox.config import load_config
    from inbox.core.errors import ConfigError

    path = tmp_path / "c.toml"
    path.write_text('[mail]\nenabled = true\naddress = "soudan@example.jp"\n')
    with pytest.raises(ConfigError, match=r"mail\.imap_username: required"):
        load_config(path, env={})
    path.write_text(
        '[mail]\nenabled = true\naddress = "soudan@example.jp"\nimap_username = "soudan"\n'
    )
    with pytest.raises(
        Exception,
        match=r"mail\.imap_password_env: the environment variable TSUNAGU_IMAP_PASSWORD is not set",
    ):
        load_config(path, env={})
    cfg = load_config(path, env={"TSUNAGU_IMAP_PASSWORD": "pw"})
    assert cfg.mail.imap_password == "pw" and "pw" not in repr(cfg)


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ('imap_host = "mail.example.jp"\nimap_security = "plain"', r'mail\.imap_security: "plain"'),
        (
            'smtp_host = "smtp.example.jp"\nsmtp_security = "plain"\nsmtp_username = "u"',
            r'mail\.smtp_security: "plain" with a username',
        ),
    ],
)
def test_plain_to_a_remote_host_stops_start_up(tmp_path: Path, extra: str, error: str) -> None:
    from inbox.config import load_config
    from inbox.core.errors import ConfigError

    path = tmp_path / "c.toml"
    path.write_text(
        f'[mail]\nenabled = true\naddress = "soudan@example.jp"\nimap_username = "s"\n{extra}\n'
    )
    env = {"TSUNAGU_IMAP_PASSWORD": "pw", "TSUNAGU_SMTP_PASSWORD": "pw"}
    with pytest.raises(ConfigError, match=error):
        load_config(path, env=env)
    loopback = (
        path.read_text()
        .replace("mail.example.jp", "127.0.0.1")
        .replace("smtp.example.jp", "localhost")
    )
    path.write_text(loopback)
    assert load_config(path, env=env).mail.enabled
