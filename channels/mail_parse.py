"""Inbound e-mail as the inbox needs it: ids for threading, the new text, attachments, and
whether a machine sent it. Pure (bytes in, value out) and total: a malformed message is kept
with warnings, never lost, because a consulter's mail that vanishes is worse than an ugly one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parseaddr, parsedate_to_datetime

from channels.mail_auto import LOOP_HEADER, AutoKind, bounced_message_id, classify
from channels.mail_jis import ESCAPED_BYTE, decode_header_text, decode_unlabeled
from channels.mail_mime import RawHeaders, read_tree
from channels.mail_text import split_quoted, squash_spaces
from channels.mail_walk import MailAttachment, Walk
from inbox.core.text import storable

__all__ = ["LOOP_HEADER", "AutoKind", "MailAttachment", "ParsedMail", "parse_mail"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedMail:
    message_id: str  # without angle brackets; synthetic (sha256 of the raw bytes) if missing
    in_reply_to: str | None
    references: tuple[str, ...]
    sender: str  # lowercase addr-spec, "" if none
    sender_name: str
    subject: str
    date: datetime | None  # aware UTC
    body: str  # the new text of the message, LF line ends, never HTML
    quoted: str  # the quoted history split off the body
    attachments: tuple[MailAttachment, ...]
    warnings: tuple[str, ...]
    auto: AutoKind
    bounced_message_id: str | None  # for a bounce: the Message-ID of the mail that bounced


_MSG_ID = re.compile(r"<([^<>]*)>")
_NUMERIC_ZONE = re.compile(r"[+-]\d{4}")
_JST = re.compile(r"\bJST\b")


def _ids(value: str | None) -> list[str]:
    """Message-ids of a header; bare tokens when a mailer forgot the angle brackets."""
    if not value:
        return []
    found = _MSG_ID.findall(value) or value.split()
    ids = ("".join(token.split()) for token in found)  # folding inside an id is not part of it
    return list(dict.fromkeys(i for i in ids if i))


def _sender(headers: RawHeaders) -> tuple[str, str]:
    """(display name, lowercase address). The address is split off before decoding the name,
    so a decoded name with a comma or '<' cannot be mistaken for another address."""
    for name in ("From", "Sender", "Return-Path"):
        value = headers.get(name)
        if value:
            if ESCAPED_BYTE.search(value):
                value = decode_unlabeled(value.encode("ascii", errors="surrogateescape"))
            display, addr = parseaddr(value)
            return squash_spaces(decode_header_text(display)), addr.strip().lower()
    return "", ""


def _date(headers: RawHeaders, warnings: list[str]) -> datetime | None:
    value = headers.get("Date")
    if not value:
        return None
    if not _NUMERIC_ZONE.search(value):
        value = _JST.sub("+0900", value)  # the stdlib knows only US zone names
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        warnings.append(f"unreadable Date header {value[:60]!r}")
        return None
    # "-0000" (zone unknown) parses naive; RFC 5322 says the time is then UTC
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _synthetic_id(raw: bytes) -> str:
    """Stable for the same bytes, so a redelivered message is still recognized as a duplicate."""
    return f"sha256-{hashlib.sha256(raw).hexdigest()}@tsunagu.invalid"


def _parse(raw: bytes, limit: int) -> ParsedMail:
    tree = read_tree(raw)
    headers = RawHeaders(tree.root)
    warnings: list[str] = []
    message_ids = _ids(headers.get("Message-ID"))
    if not message_ids:
        warnings.append("no Message-ID; using a synthetic id")
    subject = squash_spaces(decode_header_text(headers.get("Subject") or ""))
    sender_name, sender = _sender(headers)
    date = _date(headers, warnings)
    walk = Walk(tree=tree, limit=limit)
    walk.visit(tree.root)
    body, quoted = split_quoted("\n".join(walk.plain) if walk.plain else "\n".join(walk.html))
    auto = classify(tree, headers, subject=subject, sender=sender)
    in_reply_to = _ids(headers.get("In-Reply-To"))
    all_warnings = [*warnings, *walk.warnings, *walk.defects()]
    return ParsedMail(
        message_id=message_ids[0] if message_ids else _synthetic_id(raw),
        in_reply_to=in_reply_to[0] if in_reply_to else None,
        references=tuple(_ids(headers.get("References"))),
        sender=sender,
        sender_name=sender_name,
        subject=subject,
        date=date,
        body=body,
        quoted=quoted,
        attachments=tuple(walk.attachments),
        warnings=tuple(dict.fromkeys(all_warnings)),
        auto=auto,
        bounced_message_id=bounced_message_id(tree) if auto is AutoKind.BOUNCE else None,
    )


def _unparsed(raw: bytes, error: Exception) -> ParsedMail:
    """The last resort: the whole mail as text, so a counselor can still read it."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    looped = re.search(rb"(?im)^" + LOOP_HEADER.encode() + rb"\s*:", head) is not None
    return ParsedMail(
        message_id=_synthetic_id(raw),
        in_reply_to=None,
        references=(),
        sender="",
        sender_name="",
        subject="",
        date=None,
        body=decode_unlabeled(raw).replace("\r\n", "\n"),
        quoted="",
        attachments=(),
        warnings=(f"could not parse the message ({type(error).__name__}); kept as raw text",),
        auto=AutoKind.LOOP if looped else AutoKind.NONE,
        bounced_message_id=None,
    )


def _storable(mail: ParsedMail) -> ParsedMail:
    """Every text of the mail as both databases take it (inbox.core.text): an encoded word may
    decode to a NUL (`=?utf-8?b?YQBi?=`), and a byte no charset placed stays surrogate-escaped
    in a header; either would fail the mail's transaction, and with it its whole fetch."""
    return dataclasses.replace(
        mail,
        message_id=storable(mail.message_id),
        in_reply_to=None if mail.in_reply_to is None else storable(mail.in_reply_to),
        references=tuple(storable(r) for r in mail.references),
        sender=storable(mail.sender),
        sender_name=storable(mail.sender_name),
        subject=storable(mail.subject),
        body=storable(mail.body),
        quoted=storable(mail.quoted),
        attachments=tuple(
            dataclasses.replace(
                a, filename=storable(a.filename), content_type=storable(a.content_type)
            )
            for a in mail.attachments
        ),
        warnings=tuple(storable(w) for w in mail.warnings),
        bounced_message_id=(
            None if mail.bounced_message_id is None else storable(mail.bounced_message_id)
        ),
    )


def parse_mail(raw: bytes, *, max_attachment_bytes: int) -> ParsedMail:
    """Parse one RFC 5322 message. Never raises on malformed input: what cannot be read is
    reported in `warnings`, and an attachment over the limit is listed without its content.
    Every text in it is storable (inbox.core.text)."""
    try:
        parsed = _parse(raw, max_attachment_bytes)
    except Exception as error:  # noqa: BLE001 - a consulter's mail must never be dropped
        parsed = _unparsed(raw, error)
    parsed = _storable(parsed)
    if not parsed.message_id:  # a Message-ID of nothing a database takes (a NUL, say)
        parsed = dataclasses.replace(parsed, message_id=_synthetic_id(raw))
    return parsed
