"""Outgoing replies: threading headers, Japanese-friendly encoding, and discretion.

Pure: the caller supplies every id, key and (optionally) the clock. The conversation token rides
in our Message-ID, so a reply to it (In-Reply-To/References) finds its conversation again without
trusting the subject line, which consulters and their clients freely rewrite, and also when she
answers from another address. The token is keyed: anyone can put any id into References, so an
id that merely names a conversation number must not be enough to write into it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Literal

from channels.mail_auto import LOOP_HEADER
from channels.mail_text import squash_spaces

MAX_REFERENCES = 20
_TOKEN = re.compile(r"[A-Za-z0-9-]+")
_UNIQUE = re.compile(r"[A-Za-z0-9._-]+")
_DOMAIN = re.compile(r"[A-Za-z0-9.-]+")
_CONVERSATION_TOKEN = re.compile(r"c([1-9][0-9]{0,17})-([0-9a-f]{20})")
_OUR_ID = re.compile(r"<?tsunagu\.([A-Za-z0-9-]+)\.[A-Za-z0-9._-]+@([A-Za-z0-9.-]+)>?")
_PLAIN_ID = re.compile(r"[!-;=?-~]+")  # printable ASCII without '<' and '>'
# "Re:", "RE:", "Re[2]:", "Re(3):", "Re^2:", full-width "Ｒｅ：", Japanese "返信:", repeated
_REPLY_PREFIX = re.compile(
    r"^(?:\s*(?:[RrＲｒ][EeＥｅ](?:\s*[\[(（［]\s*\d+\s*[\])）］]|\^\d+)?|返信)\s*[:：])+\s*"
)
_SMTP_LINE_LIMIT = 998  # octets per line (RFC 5322); 7bit text must not exceed it


def make_message_id(conversation_token: str, unique: str, domain: str) -> str:
    """Our Message-ID, without angle brackets (the form ParsedMail.message_id has and the
    store keeps): tsunagu.{token}.{unique}@{domain}. The token must be unguessable, since
    anyone can put any id into References."""
    if not _TOKEN.fullmatch(conversation_token):
        raise ValueError("conversation token must match [A-Za-z0-9-]+")
    if not _UNIQUE.fullmatch(unique):
        raise ValueError("unique part must match [A-Za-z0-9._-]+")
    if not _DOMAIN.fullmatch(domain):
        raise ValueError("domain must be an ASCII host name")
    return f"tsunagu.{conversation_token}.{unique}@{domain.lower()}"


def conversation_token(key: bytes, conversation_id: int) -> str:
    """c{id}-{mac}: the id for people reading headers, 80 bits of HMAC so it cannot be forged."""
    mac = hmac.new(key, f"mail-thread:{conversation_id}".encode(), hashlib.sha256)
    return f"c{conversation_id}-{mac.hexdigest()[:20]}"


def our_tokens(message_ids: Iterable[str], domain: str) -> Iterator[str]:
    """The conversation tokens of our own ids among message_ids (with or without brackets), in
    the order given: pass In-Reply-To first, then References newest first."""
    for message_id in message_ids:
        match = _OUR_ID.fullmatch(message_id.strip())
        if match and match[2].lower() == domain.lower():
            yield match[1]


def answered_conversation(message_ids: Iterable[str], domain: str, key: bytes) -> int | None:
    """The conversation named by the first of our ids whose token verifies with `key`; ids
    with a forged or an old unkeyed token are passed over."""
    for token in our_tokens(message_ids, domain):
        match = _CONVERSATION_TOKEN.fullmatch(token)
        if match and hmac.compare_digest(conversation_token(key, int(match[1])), token):
            return int(match[1])
    return None


def reply_subject(subject: str) -> str:
    """Exactly one "Re: " in front, whatever pile of reply prefixes the subject already had."""
    rest = _REPLY_PREFIX.sub("", squash_spaces(subject))
    return f"Re: {rest}" if rest else "Re:"


def _bare_id(message_id: str) -> str | None:
    bare = message_id.strip().removeprefix("<").removesuffix(">").strip()
    return bare if _PLAIN_ID.fullmatch(bare) else None


def _references(references: Sequence[str], in_reply_to: str | None) -> list[str]:
    """Previous references plus the mail we answer, without duplicates. When too long, keep
    the thread's root (clients thread on it) and the newest ones."""
    ids = [_bare_id(i) for i in [*references, *([in_reply_to] if in_reply_to else [])]]
    unique = list(dict.fromkeys(i for i in ids if i))
    if len(unique) > MAX_REFERENCES:
        unique = [unique[0], *unique[-(MAX_REFERENCES - 1) :]]
    return unique


def _fits_iso2022jp(*texts: str) -> bool:
    try:
        for text in texts:
            text.encode("iso-2022-jp")
    except UnicodeEncodeError:
        return False
    return True


def _encoded_words(header_name: str, text: str, charset: str) -> str:
    """RFC 2047 encoded-words, folded, to be stored raw. Not left to policy.default: it would
    turn ISO-2022-JP into UTF-8 (legacy Japanese clients expect ISO-2022-JP headers), and its
    folder puts a space of the text between two encoded-words, where readers must drop it."""
    return Header(text, charset, header_name=header_name).encode(linesep="\n")


def _set_from(msg: EmailMessage, name: str, addr: str, charset: str) -> None:
    if name.isascii():
        msg["From"] = Address(display_name=name, addr_spec=addr)
        return
    Address(addr_spec=addr)  # validates the address the same way as the ASCII path
    words = _encoded_words("From", name, charset)
    one_line = "\n" not in words and len(words) + len(addr) + 9 <= 78
    msg.set_raw("From", f"{words} <{addr}>" if one_line else f"{words}\n <{addr}>")


def _set_subject(msg: EmailMessage, subject: str, charset: str) -> None:
    if subject.isascii():
        msg["Subject"] = subject
    else:
        msg.set_raw("Subject", _encoded_words("Subject", subject, charset))


def _set_body(msg: EmailMessage, body: str, *, jis: bool) -> None:
    if not jis:
        msg.set_content(body)  # policy.default picks 7bit, 8bit or base64
        return
    longest = max((len(line) for line in body.encode("iso-2022-jp").splitlines()), default=0)
    # 7bit is what old Japanese clients expect; a paragraph too long for one SMTP line goes base64
    cte = "7bit" if longest <= _SMTP_LINE_LIMIT else "base64"
    msg.set_content(body, charset="iso-2022-jp", cte=cte)


def compose_reply(
    *,
    from_addr: str,
    from_name: str,
    to_addr: str,
    subject: str,
    body: str,
    message_id: str,
    in_reply_to: str | None,
    references: Sequence[str],
    charset: Literal["utf-8", "iso-2022-jp"],
    discretion: bool,
    neutral_name: str,
    neutral_subject: str,
    auto_submitted: bool = False,
    loop_token: str,
    now: datetime | None = None,
) -> EmailMessage:
    """A reply ready for SMTP. With discretion the From name and the subject are the neutral
    ones, so a shared phone's notification does not show that this is a counseling service.
    charset="iso-2022-jp" falls back to UTF-8 for the whole mail when some character (emoji,
    ①, half-width kana) has no ISO-2022-JP form: one charset per mail keeps clients sane."""
    name = squash_spaces(neutral_name if discretion else from_name)
    subject_line = squash_spaces(neutral_subject) if discretion else reply_subject(subject)
    jis = charset == "iso-2022-jp" and _fits_iso2022jp(name, subject_line, body)
    date = now or datetime.now(UTC)
    if date.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    own_id = _bare_id(message_id)
    if own_id is None:
        raise ValueError("message_id must be printable ASCII")
    msg = EmailMessage()
    _set_from(msg, name, from_addr, "iso-2022-jp" if jis else "utf-8")
    msg["To"] = to_addr
    _set_subject(msg, subject_line, "iso-2022-jp" if jis else "utf-8")
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = f"<{own_id}>"
    parent = _bare_id(in_reply_to) if in_reply_to else None
    if parent:
        msg["In-Reply-To"] = f"<{parent}>"
    chain = _references(references, parent)
    if chain:
        msg["References"] = " ".join(f"<{i}>" for i in chain)
    msg["MIME-Version"] = "1.0"
    msg[LOOP_HEADER] = loop_token
    if auto_submitted:
        msg["Auto-Submitted"] = "auto-replied"
        msg["X-Auto-Response-Suppress"] = "All"  # asks Exchange not to answer with an OOF
    _set_body(msg, body, jis=jis)
    return msg
