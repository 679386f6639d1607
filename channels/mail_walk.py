"""The body of a mail out of its MIME tree: the text to read (plain preferred over HTML), the
attachments (over the size limit: listed, not kept), and what was wrong with the MIME.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from email.errors import InvalidBase64LengthDefect
from email.message import Message
from email.policy import compat32

from channels.mail_jis import decode_header_text, decode_text
from channels.mail_mime import MimeTree, raw_header
from channels.mail_text import html_to_text

__all__ = ["MailAttachment", "Walk"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MailAttachment:
    filename: str
    content_type: str
    size_bytes: int
    content: bytes | None  # None when refused
    refused: bool = False  # larger than the limit: listed so the counselor knows it existed


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


def _human_size(n: int) -> str:
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if n >= scale:
            value = n / scale
            return f"{value:.0f} {unit}" if value >= 10 or n % scale == 0 else f"{value:.1f} {unit}"
    return f"{n} bytes"


def _filename(part: Message, index: int, ctype: str) -> str:
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
        name = f"attachment-{index}{_EXTENSIONS.get(ctype, '')}"
    return name[-200:]


def _subtype(ctype: str) -> str:
    return ctype.split("/")[1]  # Message.get_content_subtype()


def _payload_bytes(part: Message, ctype: str) -> bytes:
    if ctype.split("/")[0] == "message":  # Message.get_content_maintype()
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
class Walk:
    """What a walk over the MIME tree found; parts are visited once, in order."""

    tree: MimeTree
    limit: int
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[MailAttachment] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    parts: list[Message] = field(default_factory=list)

    def visit(self, part: Message, *, texts: bool = True, in_report: bool = False) -> None:
        self.parts.append(part)
        ctype = self.tree.content_type(part)
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
            self.plain.append(self._text(part, ctype))
        elif self._is_attachment(part, ctype):
            self._attach(part, ctype)
        elif texts:
            (self.html if _subtype(ctype) == "html" else self.plain).append(self._text(part, ctype))

    def _alternative(self, subs: list[Message], *, texts: bool) -> None:
        """Prefer text/plain (unless it is empty), then HTML, then whatever is richest; the
        others are only searched for files (inline photos live in the HTML alternative)."""

        def rank(part: Message) -> int:
            ctype = self.tree.content_type(part)
            if ctype == "text/plain":
                data = _payload_bytes(part, ctype)
                text = decode_text(data, self.tree.view(part).get_content_charset())[0]
                return 0 if text.strip() else 3
            return 1 if ctype == "text/html" else 2 if part.is_multipart() else 4

        best = min(subs, key=rank)
        for sub in subs:
            self.visit(sub, texts=texts and sub is best)

    def _is_attachment(self, part: Message, ctype: str) -> bool:
        view = self.tree.view(part)
        if view.get_content_disposition() == "attachment" or view.get_filename():
            return True
        return ctype not in ("text/plain", "text/html")

    def _text(self, part: Message, ctype: str) -> str:
        data = _payload_bytes(part, ctype)
        text, warning = decode_text(data, self.tree.view(part).get_content_charset())
        if warning:
            self.warnings.append(warning)
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        return html_to_text(text) if _subtype(ctype) == "html" else text

    def _attach(self, part: Message, ctype: str) -> None:
        data = _payload_bytes(part, ctype)
        name = _filename(part, len(self.attachments) + 1, ctype)
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
