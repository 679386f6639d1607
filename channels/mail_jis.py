"""Charset decoding for Japanese mail: bodies and RFC 2047 headers, never U+FFFD for valid text.

Python's codecs are strict where real mail is not. Outlook and other Windows mailers label
CP50220/CP50221 as "ISO-2022-JP" and put NEC/IBM extension characters (①, ㈱, 髙), half-width
kana (ESC ( I) and the Windows wave dash in it; Python's iso-2022-jp codec rejects those and the
email package silently turns them into U+FFFD. Likewise EUC-JP mail often carries the NEC rows
(eucJP-ms), which the euc_jp codec rejects. Both are decoded here by mapping JIS to Shift_JIS
and letting cp932 (the Windows code page, a superset) decode.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re

_ISO2022JP = frozenset(
    {"iso-2022-jp", "iso2022jp", "iso-2022-jp-1", "iso-2022-jp-2", "iso-2022-jp-3",
     "iso-2022-jp-ms", "csiso2022jp", "cp50220", "cp50221", "cp50222", "iso-2022-jp-ext"}
)  # fmt: skip
_SJIS = frozenset(
    {"shift_jis", "shift-jis", "sjis", "x-sjis", "s-jis", "ms_kanji", "csshiftjis",
     "windows-31j", "cp932", "ms932", "x-ms-cp932", "shift_jis-2004", "x-shift_jis"}
)  # fmt: skip
_EUCJP = frozenset({"euc-jp", "euc_jp", "eucjp", "x-euc-jp", "cseucpkdfmtjapanese", "eucjp-ms"})
_UNLABELED_CHAIN = ("utf-8", "cp932")  # what mail without a usable charset usually turns out to be


def _jis_pair_to_sjis(c1: int, c2: int) -> bytes:
    """One JIS X 0208 code (row/cell bytes 0x21-0x7E) as its Shift_JIS bytes."""
    s1 = ((c1 - 0x21) >> 1) + 0x81
    if s1 > 0x9F:
        s1 += 0x40
    # odd rows use the low half of the trail-byte range (skipping 0x7F), even rows the high half
    s2 = (c2 + 0x1F + (c2 >= 0x60)) if c1 & 1 else c2 + 0x7E
    return bytes((s1, s2))


def _iso2022jp_to_sjis(data: bytes) -> bytes:
    """Re-encode ISO-2022-JP (incl. the CP5022x variants) as Shift_JIS so cp932 can decode it."""
    out = bytearray()
    i, mode = 0, "ascii"
    while i < len(data):
        b = data[i]
        nxt = data[i + 1] if i + 1 < len(data) else 0
        seq = data[i : i + 3]
        if seq in (b"\x1b$B", b"\x1b$@"):
            mode, i = "kanji", i + 3
        elif seq in (b"\x1b(B", b"\x1b(J"):
            mode, i = "ascii", i + 3
        elif seq == b"\x1b(I":
            mode, i = "kana", i + 3
        elif mode == "kanji" and 0x21 <= b <= 0x7E and 0x21 <= nxt <= 0x7E:
            out += _jis_pair_to_sjis(b, nxt)
            i += 2
        elif mode == "kana" and 0x21 <= b <= 0x5F:
            out.append(b + 0x80)  # JIS X 0201 katakana -> its single Shift_JIS byte
            i += 1
        else:
            out.append(b)  # ASCII, line breaks (which some mailers leave in kanji mode), junk
            i += 1
    return bytes(out)


def _eucjp_to_sjis(data: bytes) -> bytes:
    """Re-encode EUC-JP as Shift_JIS; JIS X 0212 (3-byte) characters have no cp932 form."""
    out = bytearray()
    i = 0
    while i < len(data):
        b = data[i]
        nxt = data[i + 1] if i + 1 < len(data) else 0
        if b == 0x8E and 0xA1 <= nxt <= 0xDF:
            out.append(nxt)  # half-width katakana
            i += 2
        elif b == 0x8F:
            out += b"\x81\xac"  # geta mark, the customary stand-in for an unmappable kanji
            i += 3
        elif 0xA1 <= b <= 0xFE and 0xA1 <= nxt <= 0xFE:
            out += _jis_pair_to_sjis(b - 0x80, nxt - 0x80)
            i += 2
        else:
            out.append(b)
            i += 1
    return bytes(out)


def _try(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (ValueError, LookupError):  # also a label the codec registry cannot even look up
        return None


def _try_truncated(data: bytes, codec: str) -> str | None:
    """A part cut off in the middle of a character: everything up to the last whole one."""
    try:
        return codecs.getincrementaldecoder(codec)().decode(data, final=False)
    except (ValueError, LookupError):  # also a label the codec registry cannot even look up
        return None


def decode_iso2022jp_lenient(data: bytes) -> str:
    """ISO-2022-JP as Windows writes it. Strictly valid text keeps Python's mapping (so 〜
    round-trips with what we send); anything else goes through Shift_JIS and cp932."""
    strict = _try(data, "iso-2022-jp")
    if strict is not None:
        return strict
    return _iso2022jp_to_sjis(data).decode("cp932", errors="replace")


def _primary_codec(label: str) -> str:
    if label in _SJIS:
        return "cp932"
    if label in _EUCJP:
        return "euc_jp"
    return "utf-8" if label in ("us-ascii", "ascii", "utf8") else label


def _decode_labeled(data: bytes, label: str) -> str | None:
    """Decode with a declared charset and its known real-world supersets; None if that fails."""
    if label in _SJIS:
        return _try(data, "cp932") or _try(data, "shift_jis_2004")
    if label in _EUCJP:
        return (
            _try(data, "euc_jp")
            or _try(data, "euc_jis_2004")
            or _try(_eucjp_to_sjis(data), "cp932")
        )
    if label in ("us-ascii", "ascii", "utf8", "utf-8"):
        return _try(data, "utf-8")  # 8-bit text labelled us-ascii is nearly always UTF-8
    return _try(data, label)


def decode_text(data: bytes, charset: str | None) -> tuple[str, str | None]:
    """Decode a part's payload by its declared charset. Returns the text and a warning when the
    text had to be guessed; the result never loses the part, at worst it is latin-1."""
    label = (charset or "").strip().strip("\"'").lower()
    if label in _ISO2022JP:
        # 7-bit: a fallback to UTF-8 would "succeed" with the escape sequences left in the text
        text = decode_iso2022jp_lenient(data)
        if "\ufffd" in text:
            return text, f"could not decode part as charset {label}; some characters were lost"
        return text, None
    decoded = _decode_labeled(data, label) if label else _try(data, "utf-8")
    if decoded is not None:
        return decoded, None
    primary = _primary_codec(label) if label else "utf-8"
    decoded = _try_truncated(data, primary)
    if decoded is not None:
        return decoded, f"part ends in the middle of a {primary} character (truncated?)"
    for codec in _UNLABELED_CHAIN:
        decoded = _try(data, codec)
        if decoded is None:
            continue
        if label:
            return decoded, f"could not decode part as charset {label}; decoded as {codec}"
        if codec != "utf-8":
            return decoded, f"no charset declared; decoded as {codec}"
        return decoded, None
    what = f"as charset {label}" if label else "without a charset"
    return data.decode("latin-1"), f"could not decode part {what}; decoded as latin-1"


def decode_unlabeled(data: bytes) -> str:
    """Raw 8-bit header bytes (SMTPUTF8 or simply broken senders): UTF-8, else cp932."""
    return decode_text(data, None)[0]


ESCAPED_BYTE = re.compile("[\udc80-\udcff]")  # an 8-bit byte the email parser surrogate-escaped
# charset (RFC 2231 allows a *language suffix), encoding, text
_ENCODED_WORD = re.compile(r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?\s]*)\?=")
_Q_ESCAPE = re.compile(rb"=([0-9A-Fa-f]{2})")


def _word_bytes(encoding: str, text: str) -> bytes | None:
    if encoding in "bB":
        try:
            return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        except (binascii.Error, ValueError):
            return None
    raw = text.replace("_", " ").encode("ascii", errors="replace")
    return _Q_ESCAPE.sub(lambda m: bytes((int(m[1], 16),)), raw)


def decode_header_text(value: str) -> str:
    """Decode a raw (unfolded) header value: 8-bit bytes and RFC 2047 encoded-words in any charset,
    including ISO-2022-JP with Windows extensions. Adjacent words in one charset are joined
    before decoding because some mailers split a multi-byte character between two words.
    An encoded-word that cannot be decoded is left as it is rather than dropped."""
    if ESCAPED_BYTE.search(value):  # bytes the parser could not read
        value = decode_unlabeled(value.encode("ascii", errors="surrogateescape"))
    out: list[str] = []
    pending, pending_charset, pos = b"", "", 0

    def flush() -> None:
        nonlocal pending, pending_charset
        if pending_charset:
            out.append(decode_text(pending, pending_charset)[0])
        pending, pending_charset = b"", ""

    for match in _ENCODED_WORD.finditer(value):
        gap = value[pos : match.start()]
        data = _word_bytes(match[2], match[3])
        if data is None:
            flush()
            out.append(gap + match[0])
        else:
            charset = match[1].lower()
            if not (pending_charset and (gap == "" or gap.isspace())):
                flush()
                out.append(gap)  # RFC 2047: whitespace between two encoded-words is dropped
            elif charset != pending_charset:
                flush()
            pending += data
            pending_charset = charset
        pos = match.end()
    flush()
    out.append(value[pos:])
    return "".join(out)
