"""Inbound e-mail as the inbox needs it: ids for threading, the new text, attachments, and
whether a machine sent it. Pure (bytes in, value out) and total: a malformed message is kept
with warnings, never lost, because a consulter's mail that vanishes is worse than an ugly one.
"""

from __future__ import annotations

import base64
import email
import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.errors import InvalidBase64LengthDefect
from email.message import Message
from email.policy import compat32
from email.utils import parseaddr, parsedate_to_datetime

from channels.mail_auto import LOOP_HEADER, AutoKind, bounced_message_id, classify, raw_header
from channels.mail_jis import decode_header_text, decode_text, decode_unlabeled
from channels.mail_text import html_to_text, split_quoted, squash_spaces

__all__ = ["LOOP_HEADER", "AutoKind", "MailAttachment", "ParsedMail", "parse_mail"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MailAttachment:
    filename: str
    content_type: str
    size_bytes: int
    content: bytes | None  # None when refused
    refused: bool = False  # larger than the limit: listed so the counselor knows it existed


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
_EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/heic": ".heic",
    "text/plain": ".txt",
    "text/html": ".html",
    "text/calendar": ".ics",
    "message/rfc822": ".eml",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NUMERIC_ZONE = re.compile(r"[+-]\d{4}")
_JST = re.compile(r"\bJST\b")


def _human_size(n: int) -> str:
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if n >= scale:
            value = n / scale
            return f"{value:.0f} {unit}" if value >= 10 or n % scale == 0 else f"{value:.1f} {unit}"
    return f"{n} bytes"


def _ids(value: str | None) -> list[str]:
    """Message-ids of a header; bare tokens when a mailer forgot the angle brackets."""
    if not value:
        return []
    found = _MSG_ID.findall(value) or value.split()
    ids = ("".join(token.split()) for token in found)  # folding inside an id is not part of it
    return list(dict.fromkeys(i for i in ids if i))


def _sender(msg: Message) -> tuple[str, str]:
    """(display name, lowercase address). The address is split off before decoding the name,
    so a decoded name with a comma or '<' cannot be mistaken for another address."""
    for name in ("From", "Sender", "Return-Path"):
        value = raw_header(msg, name)
        if value:
            if any("\udc80" <= ch <= "\udcff" for ch in value):
                value = decode_unlabeled(value.encode("ascii", errors="surrogateescape"))
            display, addr = parseaddr(value)
            return squash_spaces(decode_header_text(display)), addr.strip().lower()
    return "", ""


def _date(msg: Message, warnings: list[str]) -> datetime | None:
    value = raw_header(msg, "Date")
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


def _filename(part: Message, index: int) -> str:
    """The attachment's name, decoded like headers (Outlook sends RFC 2047 words in quoted
    parameters, sometimes ISO-2022-JP with Windows characters) and stripped of any path."""
    params = Message(policy=compat32)  # compat32 hands the parameter back undecoded
    for name in ("Content-Disposition", "Content-Type"):
        value = raw_header(part, name)
        if value is not None:
            params[name] = value
    name = decode_header_text(params.get_filename() or "")
    name = _CONTROL.sub("", re.split(r"[\\/]", name)[-1]).strip()
    if name.strip(".") == "":
        name = f"attachment-{index}{_EXTENSIONS.get(part.get_content_type(), '')}"
    return name[-200:]


def _payload_bytes(part: Message) -> bytes:
    if part.get_content_maintype() == "message":
        inner = part.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            return inner[0].as_bytes(policy=compat32)
        return str(inner).encode("utf-8", errors="surrogateescape") if inner else b""
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    if any(isinstance(defect, InvalidBase64LengthDefect) for defect in part.defects):
        # the email package gives up and hands back the base64 text itself: decode the whole
        # 4-character groups, losing at most the last two bytes instead of the whole part
        clean = re.sub(rb"[^A-Za-z0-9+/]", b"", data)
        data = base64.b64decode(clean[: len(clean) // 4 * 4])
    return data


@dataclass(slots=True)
class _Walk:
    """What a walk over the MIME tree found; parts are visited once, in order."""

    limit: int
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[MailAttachment] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    parts: list[Message] = field(default_factory=list)

    def visit(self, part: Message, *, texts: bool = True, in_report: bool = False) -> None:
        self.parts.append(part)
        ctype = part.get_content_type()
        children = part.get_payload() if part.is_multipart() else None
        if ctype.startswith("multipart/") and isinstance(children, list):
            subs = [c for c in children if isinstance(c, Message)]
            if ctype == "multipart/alternative" and subs:
                self._alternative(subs, texts=texts)
                return
            for sub in subs:
                self.visit(sub, texts=texts, in_report=in_report or ctype == "multipart/report")
        elif in_report and (ctype.startswith("message/") or ctype == "text/rfc822-headers"):
            return  # a report's machinery and our own returned mail: read by classify, not kept
        elif ctype.startswith("multipart/"):
            self.warnings.append(f"{ctype} without a usable boundary; kept as plain text")
            self.plain.append(self._text(part))
        elif self._is_attachment(part):
            self._attach(part)
        elif texts:
            (self.html if part.get_content_subtype() == "html" else self.plain).append(
                self._text(part)
            )

    def _alternative(self, subs: list[Message], *, texts: bool) -> None:
        """Prefer text/plain (unless it is empty), then HTML, then whatever is richest; the
        others are only searched for files (inline photos live in the HTML alternative)."""

        def rank(part: Message) -> int:
            ctype = part.get_content_type()
            if ctype == "text/plain":
                text = decode_text(_payload_bytes(part), part.get_content_charset())[0]
                return 0 if text.strip() else 3
            return 1 if ctype == "text/html" else 2 if part.is_multipart() else 4

        best = min(subs, key=rank)
        for sub in subs:
            self.visit(sub, texts=texts and sub is best)

    def _is_attachment(self, part: Message) -> bool:
        if part.get_content_disposition() == "attachment" or part.get_filename():
            return True
        return part.get_content_type() not in ("text/plain", "text/html")

    def _text(self, part: Message) -> str:
        text, warning = decode_text(_payload_bytes(part), part.get_content_charset())
        if warning:
            self.warnings.append(warning)
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        return html_to_text(text) if part.get_content_subtype() == "html" else text

    def _attach(self, part: Message) -> None:
        data = _payload_bytes(part)
        name = _filename(part, len(self.attachments) + 1)
        ctype = part.get_content_type()
        if len(data) > self.limit:
            self.warnings.append(
                f"attachment {name!r} ({_human_size(len(data))}) exceeds the "
                f"{_human_size(self.limit)} limit and was not kept"
            )
            attachment = MailAttachment(
                filename=name, content_type=ctype, size_bytes=len(data), content=None, refused=True
            )
        else:
            attachment = MailAttachment(
                filename=name, content_type=ctype, size_bytes=len(data), content=data
            )
        self.attachments.append(attachment)

    def defects(self) -> list[str]:
        """Defects the email package noted, also those found while decoding payloads."""
        found: list[str] = []
        for part in self.parts:
            for defect in part.defects:
                detail = str(defect)
                name = type(defect).__name__
                found.append(f"MIME defect: {name}: {detail}" if detail else f"MIME defect: {name}")
        return found


def _synthetic_id(raw: bytes) -> str:
    """Stable for the same bytes, so a redelivered message is still recognized as a duplicate."""
    return f"sha256-{hashlib.sha256(raw).hexdigest()}@tsunagu.invalid"


def _parse(raw: bytes, limit: int) -> ParsedMail:
    msg = email.message_from_bytes(raw, policy=policy.default)
    warnings: list[str] = []
    message_ids = _ids(raw_header(msg, "Message-ID"))
    if not message_ids:
        warnings.append("no Message-ID; using a synthetic id")
    subject = squash_spaces(decode_header_text(raw_header(msg, "Subject") or ""))
    sender_name, sender = _sender(msg)
    date = _date(msg, warnings)
    walk = _Walk(limit=limit)
    walk.visit(msg)
    body, quoted = split_quoted("\n".join(walk.plain) if walk.plain else "\n".join(walk.html))
    auto = classify(msg, subject=subject, sender=sender)
    in_reply_to = _ids(raw_header(msg, "In-Reply-To"))
    all_warnings = [*warnings, *walk.warnings, *walk.defects()]
    return ParsedMail(
        message_id=message_ids[0] if message_ids else _synthetic_id(raw),
        in_reply_to=in_reply_to[0] if in_reply_to else None,
        references=tuple(_ids(raw_header(msg, "References"))),
        sender=sender,
        sender_name=sender_name,
        subject=subject,
        date=date,
        body=body,
        quoted=quoted,
        attachments=tuple(walk.attachments),
        warnings=tuple(dict.fromkeys(all_warnings)),
        auto=auto,
        bounced_message_id=bounced_message_id(msg) if auto is AutoKind.BOUNCE else None,
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


def parse_mail(raw: bytes, *, max_attachment_bytes: int) -> ParsedMail:
    """Parse one RFC 5322 message. Never raises on malformed input: what cannot be read is
    reported in `warnings`, and an attachment over the limit is listed without its content."""
    try:
        return _parse(raw, max_attachment_bytes)
    except Exception as error:  # noqa: BLE001 - a consulter's mail must never be dropped
        return _unparsed(raw, error)
