"""IMAP wire details for channels.mail_imap: building arguments and reading aioimaplib's response
lines. Pure functions, so the awkward cases (literals, many messages per FETCH, the UID range
quirk) are tested without a server."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Sequence

# aioimaplib hands a response back as a list: text lines are `bytes` with the "* " stripped, and
# each literal ({n} on the line before) is one `bytearray` holding exactly n bytes.
Lines = Sequence[bytes | bytearray]

_FETCH_START = re.compile(rb"\d+ FETCH \(")
_UID_ITEM = re.compile(rb"[( ]UID (\d+)")
_BODY_LITERAL = re.compile(rb"BODY\[\] \{\d+\}$")
_RESPONSE_CODE = re.compile(rb"^(?:OK |NO |BAD )?\[([A-Z-]+)")
# aioimaplib strips "* LIST " from the lines of a LIST response; "LIST " is optional here
_LIST_DELIMITER = re.compile(rb'^(?:LIST )?\([^)]*\) (?:"((?:\\.|[^"\\])*)"|NIL) ', re.IGNORECASE)
# Keywords and mailbox names end up inside commands; these are the characters IMAP atoms forbid.
_ATOM_SPECIALS = re.compile(r'[(){ %*"\\\]\x00-\x1f\x7f]')


def uid_set(uids: Iterable[int]) -> str:
    """`[1, 2, 3, 7]` -> `"1:3,7"`: ranges keep a command for thousands of UIDs short."""
    ordered = sorted(set(uids))
    if not ordered or ordered[0] < 1:
        raise ValueError("uid_set needs at least one UID, all positive")
    parts: list[str] = []
    start = prev = ordered[0]
    for uid in [*ordered[1:], 0]:  # 0 never continues a range, so it flushes the last one
        if uid == prev + 1:
            prev = uid
            continue
        parts.append(str(start) if start == prev else f"{start}:{prev}")
        start = prev = uid
    return ",".join(parts)


def search_uids(lines: Lines) -> list[int]:
    """The UIDs of a UID SEARCH response (the last line is the tagged status text)."""
    found: set[int] = set()
    for line in lines[:-1]:
        if isinstance(line, bytearray):
            continue
        found.update(int(token) for token in line.split() if token.isdigit())
    return sorted(found)


def fetch_bodies(lines: Lines) -> dict[int, bytes]:
    """UID -> raw message from a `UID FETCH ... (UID BODY.PEEK[])` response.

    Each message is `N FETCH (UID u BODY[] {size}`, the literal, then `)`; servers may also put
    UID after the literal, and unsolicited FETCHes (flag changes) without a body can be mixed
    in. Both are handled; a message without a literal (expunged meanwhile) is left out."""
    bodies: dict[int, bytes] = {}
    uid: int | None = None
    body: bytes | None = None
    literal_is_body = False
    for line in lines:
        if isinstance(line, bytearray):
            if literal_is_body:
                body = bytes(line)
            literal_is_body = False
            continue
        if _FETCH_START.match(line):
            if uid is not None and body is not None:
                bodies[uid] = body
            uid, body = None, None
        if found := _UID_ITEM.search(line):
            uid = int(found.group(1))
        literal_is_body = _BODY_LITERAL.search(line) is not None
    if uid is not None and body is not None:
        bodies[uid] = body
    return bodies


def response_code(lines: Lines) -> str | None:
    """The bracketed code of the tagged status (`NO [AUTHENTICATIONFAILED] ...`), if any.

    Only the code goes into error messages: the free text may echo names or addresses."""
    if not lines or isinstance(lines[-1], bytearray):
        return None
    found = _RESPONSE_CODE.match(lines[-1])
    return found.group(1).decode("ascii") if found else None


def status_number(lines: Lines, code: str) -> int | None:
    """`n` from an untagged `OK [CODE n]` line of SELECT, e.g. UIDVALIDITY or UIDNEXT."""
    pattern = re.compile(rb"\[" + code.encode("ascii") + rb" (\d+)\]")
    for line in lines:
        if not isinstance(line, bytearray) and (found := pattern.search(line)):
            return int(found.group(1))
    return None


def has_exists(lines: Lines) -> bool:
    """Whether a pushed batch of untagged lines announces new mail (`n EXISTS`)."""
    return any(
        not isinstance(line, bytearray) and line.rstrip().endswith(b" EXISTS") for line in lines
    )


def list_delimiter(lines: Lines) -> str | None:
    """The hierarchy delimiter from `LIST "" ""`; None when the server has a flat namespace."""
    for line in lines:
        if isinstance(line, bytearray):
            continue
        if found := _LIST_DELIMITER.match(line):
            raw = found.group(1)
            return None if raw is None else re.sub(rb"\\(.)", rb"\1", raw).decode("ascii")
    return None


def check_keyword(flag: str) -> str:
    r"""`flag` if it can be sent as a keyword ($Custom or a system flag like \Seen)."""
    if not flag or _ATOM_SPECIALS.search(flag.removeprefix("\\")) or not flag.isascii():
        raise ValueError(f"not a valid IMAP keyword: {flag!r}")
    return flag


def mailbox_argument(path: str, delimiter: str | None) -> str:
    """A mailbox path written with "/" (`Tsunagu/Stored`) as a quoted IMAP mailbox name.

    "/" becomes the server's delimiter (Dovecot's Maildir++ uses "."), and non-ASCII names
    are encoded in IMAP's modified UTF-7 (RFC 3501 5.1.3)."""
    parts = [p for p in path.split("/") if p]
    if not parts:
        raise ValueError(f"empty mailbox path: {path!r}")
    if len(parts) > 1 and delimiter is None:
        raise ValueError(f"the server has no folder hierarchy, so {path!r} cannot be created")
    return quote_mailbox((delimiter or "").join(parts))


def quote_mailbox(name: str) -> str:
    """`name` as sent on the wire: modified UTF-7 for non-ASCII, quoted."""
    if not name or "\r" in name or "\n" in name or "\x00" in name:
        raise ValueError(f"not a valid mailbox name: {name!r}")
    encoded = _utf7_imap(name)
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _utf7_imap(text: str) -> str:
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            packed = base64.b64encode("".join(pending).encode("utf-16-be")).rstrip(b"=")
            out.append("&" + packed.decode("ascii").replace("/", ",") + "-")
            pending.clear()

    for char in text:
        if " " <= char <= "~":
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)
