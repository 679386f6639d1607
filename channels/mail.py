"""The e-mail channel: IMAP intake (aioimaplib) and SMTP replies (aiosmtplib).

Intake reads a mailbox by UID from where it stopped (the cursor is stored with its UIDVALIDITY),
hands each fetch to the intake as one delivery, and only after the intake says "stored" marks
the mails handled on the server and moves the cursor. A crash in between re-fetches them, and
the idempotent intake recognizes each by its Message-ID. A flaky server never stops the
service: every drop reconnects with capped backoff. Nor does one mail: a mail the store refuses
is stored in a reduced form, or set aside, left unmarked, and the cursor moves past it.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol, Self

from channels.base import Intake
from channels.mail_compose import compose_reply, conversation_token, make_message_id
from channels.mail_imap import ImapMailbox, ImapSettings
from channels.mail_intake import OurThreads, reduced, sort_mail
from channels.mail_parse import parse_mail
from channels.mail_smtp import SmtpSettings, send_mail
from inbox.core.errors import ChannelError, IntakeBusy, StorageError, Unstorable
from inbox.core.model import (
    ChannelKind,
    ConversationId,
    InboundMessage,
    MailCursor,
    MailThread,
    MessageId,
    OutboundMessage,
    StoredInbound,
)

log = logging.getLogger(__name__)
Wanted = tuple[int, InboundMessage, MailThread | None]  # a mail to store: UID, message, thread


class MailState(Protocol):
    """What the mail channel keeps in the database (the Store implements it)."""

    async def mail_cursor(self, mailbox: str) -> MailCursor | None: ...

    async def save_mail_cursor(
        self, mailbox: str, cursor: MailCursor, *, now: datetime
    ) -> None: ...

    async def mail_thread(self, conversation_id: ConversationId) -> MailThread | None: ...

    async def save_mail_threads(
        self, threads: Sequence[tuple[ConversationId, MailThread]], *, now: datetime
    ) -> None: ...

    async def mark_bounced(
        self, provider_ids: Sequence[str], *, now: datetime
    ) -> list[MessageId]: ...

    async def record_event(
        self, kind: str, *, now: datetime, data: dict[str, object] | None = None
    ) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class MailSettings:
    imap: ImapSettings
    smtp: SmtpSettings
    address: str  # the program's mailbox: From of replies, e.g. soudan@city.example.jp
    from_name: str = "相談窓口"
    domain: str = "tsunagu.invalid"  # right-hand side of our Message-IDs
    charset: Literal["utf-8", "iso-2022-jp"] = "iso-2022-jp"
    mark: Literal["flag", "move"] = "flag"  # how a stored mail is marked handled on the server
    max_attachment_bytes: int = 5 * 1024 * 1024
    neutral_name: str = "お知らせ"  # with discretion: nothing that names the program
    neutral_subject: str = "ご連絡"
    default_subject: str = "ご相談について"  # when the consulter's mail had no subject
    loop_token: str = field(default="tsunagu", repr=False)
    # Keys the conversation token in our Message-IDs. The server derives it from the identity
    # key, so replies to mail sent before a restart still find their conversation.
    thread_key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    fetch_batch: int = 100
    reconnect_max_s: float = 60.0

    @property
    def mailbox_key(self) -> str:
        """The cursor's name: one per account and folder."""
        return f"{self.imap.username}@{self.imap.host}:{self.imap.port}/{self.imap.folder}"


class MailIntake:
    """Run `run()` in the service's TaskGroup; it returns only when cancelled."""

    def __init__(
        self,
        settings: MailSettings,
        intake: Intake,
        state: MailState,
        *,
        clock: Callable[[], datetime],
        wait_s: float = 300.0,
    ) -> None:
        self._s = settings
        self._intake = intake
        self._state = state
        self._clock = clock
        self._wait_s = wait_s

    async def run(self) -> None:
        delay_s = 1.0
        while True:
            box = ImapMailbox(self._s.imap)
            try:
                await box.connect()
                delay_s = 1.0
                log.info("mailbox connected", extra={"action": "mail_connected"})
                while True:
                    await self.catch_up(box)
                    await box.wait_for_new(self._wait_s)
            except (ChannelError, IntakeBusy, StorageError) as exc:  # the cursor is in the store
                # A message names the step and the server, never mail contents or addresses.
                log.warning(
                    f"mail intake interrupted, reconnecting in {delay_s:.0f} s: {exc}",
                    extra={"action": "mail_reconnect", "retry_in_s": delay_s},
                )
            finally:
                await box.close()
            await asyncio.sleep(delay_s)
            delay_s = min(self._s.reconnect_max_s, delay_s * 2)

    async def catch_up(self, box: ImapMailbox) -> int:
        """Store everything after the cursor; return how many new mails were stored."""
        key = self._s.mailbox_key
        cursor = await self._state.mail_cursor(key)
        last = cursor.last_uid if cursor and cursor.uidvalidity == box.uidvalidity else 0
        uids = await box.uids_after(last)
        stored = 0
        for start in range(0, len(uids), self._s.fetch_batch):
            chunk = uids[start : start + self._s.fetch_batch]
            stored += await self._take(box, chunk)
            cursor = MailCursor(uidvalidity=box.uidvalidity, last_uid=max(chunk))
            await self._state.save_mail_cursor(key, cursor, now=self._clock())
        return stored

    async def _take(self, box: ImapMailbox, uids: Sequence[int]) -> int:
        now = self._clock()
        limit = self._s.max_attachment_bytes
        ours = OurThreads(self._s.domain, self._s.thread_key)
        fetched = [
            (
                uid,
                sort_mail(parse_mail(raw, max_attachment_bytes=limit), received_at=now, ours=ours),
            )
            async for uid, raw in box.fetch(uids)
        ]
        sorted_mails = [m for _, m in fetched]
        wanted = [(uid, m.inbound, m.thread) for uid, m in fetched if m.inbound is not None]
        new = 0
        unmarked: set[int] = set()
        if wanted:
            answers = await self._intake.submit_each([inbound for _, inbound, _ in wanted])
            unmarked = await self._store_refused(wanted, answers)
            # A mail that joined from another address leaves the thread as it was: our next
            # reply goes to the conversation's own address and must not carry the other
            # mail's subject or Message-ID (which may name, say, her workplace's domain).
            threads = [
                (a.conversation_id, thread)
                for (uid, _, thread), a in zip(wanted, answers, strict=True)
                if thread is not None
                and isinstance(a, StoredInbound)
                and not a.other_address
                and uid not in unmarked
            ]
            await self._state.save_mail_threads(threads, now=now)
            new = sum(isinstance(a, StoredInbound) and not a.duplicate for a in answers)
        bounced = [m.bounced for m in sorted_mails if m.bounced]
        if bounced:
            failed = await self._state.mark_bounced(bounced, now=now)
            log.info("bounces recorded", extra={"action": "mail_bounced", "count": len(failed)})
        # Only now, with everything stored, does the server learn that these were handled.
        await box.mark_handled([u for u in uids if u not in unmarked], how=self._s.mark)
        skipped = len(sorted_mails) - len(wanted)
        log.info(
            "mail fetched",
            extra={"action": "mail_fetched", "count": len(uids), "new": new, "skipped": skipped},
        )
        return new

    async def _store_refused(
        self, wanted: list[Wanted], answers: list[StoredInbound | Unstorable]
    ) -> set[int]:
        """Store each mail the store refused in its reduced form instead, in `answers`' place,
        and set aside one refused even so. Return the UIDs of both: they stay unmarked in the
        mailbox, where the note says the original is, and the cursor moves past them."""
        refused = [i for i, a in enumerate(answers) if isinstance(a, Unstorable)]
        if not refused:
            return set()
        now = self._clock()
        notes = [reduced(wanted[i][1], uid=wanted[i][0]) for i in refused]
        for i, answer in zip(refused, await self._intake.submit_each(notes), strict=True):
            answers[i] = answer
            uid = wanted[i][0]
            if isinstance(answer, StoredInbound):
                log.warning("mail stored reduced", extra={"action": "mail_reduced", "uid": uid})
                continue
            log.error("mail set aside", extra={"action": "mail_set_aside", "uid": uid})
            try:
                await self._state.record_event(
                    "mail_set_aside", now=now, data={"mailbox": self._s.imap.folder, "uid": uid}
                )
            except StorageError:
                log.error("set-aside not recorded", extra={"action": "mail_set_aside_unrecorded"})
        return {wanted[i][0] for i in refused}


class MailChannel:
    """Replies by SMTP, in the consulter's thread, with the discretion flag honoured."""

    kind = ChannelKind.MAIL

    def __init__(self, settings: MailSettings, state: MailState) -> None:
        self._s = settings
        self._state = state

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def send(self, msg: OutboundMessage) -> str:
        thread = await self._state.mail_thread(msg.conversation_id)
        s = self._s
        token = conversation_token(s.thread_key, msg.conversation_id)
        email = compose_reply(
            from_addr=s.address,
            from_name=s.from_name,
            to_addr=msg.recipient,
            subject=(thread.subject if thread and thread.subject else s.default_subject),
            body=msg.body,
            # The same outbound message always gets the same Message-ID, so a resend after a
            # crash is recognizably the same mail; mark_bounced finds it by this id.
            message_id=make_message_id(token, f"m{msg.message_id}", s.domain),
            in_reply_to=thread.last_message_id if thread else None,
            references=thread.references if thread else (),
            charset=s.charset,
            discretion=msg.discreet,
            neutral_name=s.neutral_name,
            neutral_subject=s.neutral_subject,
            auto_submitted=msg.automatic,
            loop_token=s.loop_token,
        )
        return await send_mail(s.smtp, email, sender=s.address, recipients=[msg.recipient])
