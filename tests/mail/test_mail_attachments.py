"""Mail attachments end to end: a real Dovecot, the real intake and store (SQLite; the contract
suite holds attachments on both), and the real server. An attachment within
[mail].max_attachment_bytes is kept and downloadable; a larger one is listed as not stored,
with a note for the counselor in the body."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import quote

import pytest

from inbox.core.errors import NotFound
from inbox.core.model import Attachment
from inbox.pipeline import Intake
from storage.base import Store
from tests.mail.test_mail_channel import KEY, Rig, settings
from tests.mail.test_mail_server import mail_server_config, poll
from tests.mailservers import MailAccount, SmtpSink
from tests.web.conftest import add_staff, running, sign_in

pytestmark = pytest.mark.mail
LIMIT = 1000  # [mail].max_attachment_bytes in these tests
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 2 + b"\n%%EOF\n"  # 530 bytes, every byte value
BIG = b"x" * 5000


def mail_with_attachments(message_id: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"] = "hanako@example.jp", "soudan@city.example.jp"
    msg["Subject"], msg["Message-ID"] = "書類を送ります", f"<{message_id}>"
    msg.set_content("診断書と写真を添付します。")
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="診断書.pdf")
    msg.add_attachment(BIG, maintype="image", subtype="jpeg", filename="写真.jpg")
    return msg.as_bytes()


@pytest.fixture
async def rig(store: Store, mail_account: MailAccount, smtp_sink: SmtpSink) -> AsyncIterator[Rig]:
    intake = Intake(store, KEY, queue_max=1000, batch_max=500, ack_timeout_s=10)
    async with asyncio.TaskGroup() as tg:
        writer = tg.create_task(intake.run_writer())
        config = settings(mail_account, smtp_sink, max_attachment_bytes=LIMIT)
        yield Rig(store, intake, mail_account, smtp_sink, config)
        writer.cancel()


async def test_small_attachment_is_kept_and_a_large_one_listed_with_a_note(rig: Rig) -> None:
    mail = mail_with_attachments("files@example.jp")
    rig.account.deliver_many([mail, mail])  # delivered twice: stored once, contents too
    assert await rig.catch_up() == 1
    (msg,) = await rig.inbound()
    assert msg.attachments == (
        Attachment(
            filename="診断書.pdf", content_type="application/pdf", size_bytes=len(PDF), stored=True
        ),
        Attachment(filename="写真.jpg", content_type="image/jpeg", size_bytes=5000, stored=False),
    )
    assert await rig.store.attachment(msg.id, 0) == (msg.attachments[0], PDF)
    with pytest.raises(NotFound):
        await rig.store.attachment(msg.id, 1)
    assert msg.body.startswith("件名 / Subject: 書類を送ります\n\n診断書と写真を添付します。")
    note = msg.body.split("[tsunagu] ", 1)[1]
    assert "写真.jpg" in note and "not kept" in note
    rig.account.deliver(mail)  # and once more, in a later catch-up
    assert await rig.catch_up() == 0
    assert await rig.store.attachment(msg.id, 0) == (msg.attachments[0], PDF)


async def test_attachment_downloads_through_the_server(
    tmp_path: Path, mail_account: MailAccount, smtp_sink: SmtpSink
) -> None:
    cfg = mail_server_config(tmp_path, mail_account, smtp_sink, max_attachment_bytes=LIMIT)
    await add_staff(cfg)
    mail_account.deliver(mail_with_attachments("server@example.jp"))
    async with running(cfg) as url, await sign_in(url, "boss") as boss:
        queue = await poll(boss, f"{url}/api/conversations", lambda d: d["conversations"])
        (conv,) = queue["conversations"]
        async with boss.get(f"{url}/api/conversations/{conv['id']}") as r:
            (msg,) = (await r.json())["messages"]
        small, big = msg["attachments"]
        assert small == {
            "filename": "診断書.pdf",
            "content_type": "application/pdf",
            "size_bytes": len(PDF),
            "stored": True,
            "download_url": f"/api/messages/{msg['id']}/attachments/0",
        }
        assert (big["filename"], big["stored"], big["download_url"]) == ("写真.jpg", False, None)
        assert "[tsunagu]" in msg["body"] and "写真.jpg" in msg["body"]

        async with boss.get(url + small["download_url"]) as r:
            assert r.status == 200
            assert await r.read() == PDF
            assert r.headers["Content-Type"] == "application/pdf"
            disposition = r.headers["Content-Disposition"]
            assert disposition.startswith("attachment;")
            assert f"filename*=UTF-8''{quote('診断書.pdf')}" in disposition
            assert r.headers["X-Content-Type-Options"] == "nosniff"
            assert r.headers["Cache-Control"] == "no-store"
        async with boss.get(f"{url}/api/messages/{msg['id']}/attachments/1") as r:
            assert r.status == 404  # refused: listed, never stored
            assert (await r.json())["error"]["code"] == "not_found"
