"""The on-call supervisor: who gets an urgent conversation nobody on duty can take, and the
e-mail that wakes her. The mail says only that there is one and where to look: no text of the
consulter's, no address, nothing a shared inbox should not show."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from channels.mail_auto import LOOP_HEADER
from channels.mail_smtp import SmtpSettings, send_mail
from inbox.core.errors import ChannelError
from inbox.core.model import ConversationId
from inbox.wakeup import woken

log = logging.getLogger(__name__)
RETRY_S = 30.0


def on_call_mail(
    *, sender: str, to: str, conversations: Sequence[int], console_url: str
) -> EmailMessage:
    ids = ", ".join(f"#{c}" for c in conversations)
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = "【緊急】対応が必要な相談があります / Urgent conversation waiting"
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    msg["Auto-Submitted"] = "auto-generated"
    msg[LOOP_HEADER] = "on-call"
    msg.set_content(
        f"担当できる相談員がいない緊急の相談を、あなたに割り当てました: {ids}\n"
        f"コンソールで確認してください: {console_url}\n\n"
        f"An urgent conversation had no one on duty and was given to you: {ids}\n"
        f"Please open the console: {console_url}\n"
    )
    return msg


class OnCallMailer:
    """Feed it `given` (the router's on-call assignments); run `run()` in the TaskGroup. A
    failed send is retried every RETRY_S until it goes through: this mail must arrive."""

    def __init__(self, smtp: SmtpSettings, *, sender: str, to: str, console_url: str) -> None:
        self._smtp = smtp
        self._sender = sender
        self._to = to
        self._console_url = console_url
        self._pending: list[ConversationId] = []
        self._wake = asyncio.Event()

    def given(self, conversations: Sequence[ConversationId]) -> None:
        self._pending.extend(conversations)
        self._wake.set()

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._pending and not await self.send_pending():
                # retried after a pause, or sooner when another urgent conversation arrives
                await woken(self._wake, RETRY_S)
                self._wake.set()

    async def send_pending(self) -> bool:
        batch, self._pending = self._pending, []
        msg = on_call_mail(
            sender=self._sender, to=self._to, conversations=batch, console_url=self._console_url
        )
        try:
            await send_mail(self._smtp, msg, sender=self._sender, recipients=[self._to])
        except ChannelError as exc:
            self._pending = batch + self._pending
            log.error(
                f"on-call mail not sent, retrying in {RETRY_S:.0f} s: {exc}",
                extra={"action": "on_call_mail_failed", "count": len(batch)},
            )
            return False
        log.info("on-call mail sent", extra={"action": "on_call_mailed", "count": len(batch)})
        return True
