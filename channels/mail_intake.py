"""From a parsed mail to what the inbox stores: pure, so each case is a table test.

Auto-replies, bounces and our own mail coming back never open a conversation and never trigger
an auto-reply of ours: they are sorted out here, before the intake. A mail the parser had
trouble with is still stored, with its warnings appended for the counselor, never dropped.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from channels.mail_auto import AutoKind
from channels.mail_compose import MAX_REFERENCES, answered_conversation
from channels.mail_parse import ParsedMail
from inbox.core.model import Attachment, ChannelKind, ConversationId, InboundMessage, MailThread

WARNING_MARK = "[tsunagu]"


@dataclass(frozen=True, slots=True, kw_only=True)
class Sorted:
    """One fetched mail, sorted: to store (with its thread), a bounce, or to skip."""

    inbound: InboundMessage | None = None
    thread: MailThread | None = None
    bounced: str | None = None  # the Message-ID of our mail that bounced
    skipped: str | None = None  # why it was not stored (for counts in the logs, never content)


def external_id(parsed: ParsedMail) -> str:
    """The idempotency key: the Message-ID together with (a hash of) the sender, so a stranger
    who learns a Message-ID cannot make her mail count as someone else's duplicate."""
    sender = hashlib.sha256(parsed.sender.encode()).hexdigest()[:12]
    return f"{parsed.message_id}#{sender}"


def body_text(parsed: ParsedMail) -> str:
    """What the counselor reads: the subject, the new text, and any parser warnings."""
    parts = []
    if parsed.subject.strip():
        parts.append(f"件名 / Subject: {parsed.subject.strip()}")
    text = parsed.body.strip()
    if text:
        parts.append(text)
    elif parsed.quoted.strip():
        parts.append(parsed.quoted.strip())  # a reply with nothing new: show what she quoted
    if parsed.warnings:
        parts.append(f"{WARNING_MARK} " + "\n".join(parsed.warnings))
    return "\n\n".join(parts) or "（本文なし / no text）"


def thread_of(parsed: ParsedMail) -> MailThread:
    refs = list(parsed.references)
    if parsed.in_reply_to and parsed.in_reply_to not in refs:
        refs.append(parsed.in_reply_to)
    return MailThread(
        subject=parsed.subject.strip(), last_message_id=parsed.message_id, references=tuple(refs)
    )


@dataclass(frozen=True, slots=True)
class OurThreads:
    """How to recognize a reply to our own mail: the right-hand side of our Message-IDs and the
    key their conversation tokens are made with (see mail_compose.conversation_token)."""

    domain: str
    key: bytes = field(repr=False)

    def answered(self, parsed: ParsedMail) -> ConversationId | None:
        """The conversation the mail answers, closest first: In-Reply-To, then References
        from the newest. None when it quotes none of our mails (or only forged ids)."""
        # The newest references only: each id costs an HMAC, and a mail can list thousands.
        newest = parsed.references[::-1][:MAX_REFERENCES]
        ids = [*([parsed.in_reply_to] if parsed.in_reply_to else []), *newest]
        found = answered_conversation(ids, self.domain, self.key)
        return None if found is None else ConversationId(found)


def sort_mail(parsed: ParsedMail, *, received_at: datetime, ours: OurThreads) -> Sorted:
    if parsed.auto is AutoKind.BOUNCE:
        return Sorted(bounced=parsed.bounced_message_id, skipped="bounce")
    if parsed.auto is not AutoKind.NONE:
        return Sorted(skipped=parsed.auto.value)  # auto-reply, or our own mail looping back
    if not parsed.sender:
        return Sorted(skipped="no_sender")
    # The content goes to the store with the message; a refused one (over the size limit) only
    # as its name and size, and the parser's warning in the body tells the counselor why.
    attachments = tuple(
        Attachment(
            filename=a.filename,
            content_type=a.content_type,
            size_bytes=a.size_bytes,
            content=None if a.refused else a.content,
        )
        for a in parsed.attachments
    )
    inbound = InboundMessage(
        channel=ChannelKind.MAIL,
        external_id=external_id(parsed),
        sender=parsed.sender,
        body=body_text(parsed),
        received_at=received_at,
        conversation_hint=ours.answered(parsed),
        attachments=attachments,
    )
    return Sorted(inbound=inbound, thread=thread_of(parsed))


REDUCED_NOTE = (
    f"{WARNING_MARK} このメールは受信したままの形では保存できませんでした。原本はメールボックスに"
    "未処理のまま残っています (IMAP UID {uid})。\n"
    "This mail could not be stored as it came; the original is left unmarked in the mailbox "
    "(IMAP UID {uid})."
)


def reduced(inbound: InboundMessage, *, uid: int) -> InboundMessage:
    """What is stored of a mail the store refused as it came: who sent it, when, and where the
    original is. Its text, headers, attachments and thread are left out, since one of them was
    what the database refused; the id is derived, so a refetch is still a duplicate."""
    digest = hashlib.sha256(inbound.external_id.encode("utf-8", "surrogatepass")).hexdigest()
    return InboundMessage(
        channel=ChannelKind.MAIL,
        external_id=f"reduced-{digest[:40]}",
        sender=inbound.sender,
        body=REDUCED_NOTE.format(uid=uid),
        received_at=inbound.received_at,
    )
