"""Plain text out of a mail body: HTML reduced to text, and the quoted reply split off.

Counselors read the new part of a message; the quoted history is kept separately so nothing
is lost, but they do not have to scroll through the same question five times.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIP = frozenset({"script", "style", "head", "title", "template", "noscript", "svg", "object"})
_BLOCK = frozenset(
    {"p", "div", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "pre",
     "section", "article", "header", "footer", "address", "dd", "dt", "dl", "hr", "form",
     "fieldset", "center", "blockquote", "main", "nav", "aside", "figure", "caption"}
)  # fmt: skip
_TRUNCATED_TAG = re.compile(r"<[A-Za-z/!][^>]*\Z")


class _TextExtractor(HTMLParser):
    """Collects visible text as lines; blockquote depth becomes a '> ' prefix so the quoted part
    of an HTML reply can be split off like a plain-text one."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)  # entities unescaped in handle_data
        self.lines: list[str] = []
        self._line: list[str] = []
        self._line_depth = 0
        self._skip = 0
        self._quote = 0
        self._pre = 0

    def _break(self) -> None:
        text = "".join(self._line)
        text = text.rstrip() if self._pre else text.strip()
        self.lines.append("> " * self._line_depth + text if text else "")
        self._line = []
        self._line_depth = self._quote

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip += 1
        elif tag == "body":
            self._skip = 0  # a <head> nobody closed must not hide the whole mail
        elif tag == "br":
            self._break()
        elif tag in _BLOCK:
            self._break()
            self._quote += tag == "blockquote"
            self._pre += tag == "pre"
            self._line_depth = self._quote
        elif tag in ("td", "th"):
            self._line.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "hr") or tag in _BLOCK:
            self._break()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK:
            self._break()
            if tag == "blockquote":
                self._quote = max(0, self._quote - 1)
            if tag == "pre":
                self._pre = max(0, self._pre - 1)
            self._line_depth = self._quote

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if not self._pre:
            self._line.append(re.sub(r"\s+", " ", data))
            return
        first, *rest = data.replace("\r\n", "\n").split("\n")
        self._line.append(first)
        for line in rest:
            self._break()
            self._line.append(line)

    def finish(self) -> list[str]:
        self.close()
        self._break()
        return self.lines


def collapse_blank_runs(lines: list[str]) -> str:
    """Join lines, at most one empty line in a row, none at either end."""
    out: list[str] = []
    for line in lines:
        if line.strip() or (out and out[-1]):
            out.append(line.rstrip() if line.strip() else "")
    return "\n".join(out).strip("\n")


def html_to_text(html: str) -> str:
    """Readable plain text from an HTML body; no markup survives (tags are never echoed, even
    a truncated '<a href=' at the end, which the parser would otherwise hand back as text)."""
    parser = _TextExtractor()
    parser.feed(_TRUNCATED_TAG.sub("", html))
    return collapse_blank_runs(parser.finish())


_SEPARATOR = re.compile(
    r"^\s*(?:-{2,}\s*(?:original message|元のメッセージ|オリジナル\s*メッセージ|"
    r"転送されたメッセージ|forwarded message)\s*-{2,}|_{20,})\s*$",
    re.IGNORECASE,
)
_OUTLOOK_FROM = re.compile(r"^\s*(?:from|差出人|送信者)\s*[:：]", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^\s*(?:sent|date|送信日時|日時|to|宛先)\s*[:：]", re.IGNORECASE)
_ATTRIBUTION = re.compile(
    r"(?:wrote|writes|said)\s*:\s*$"  # On Fri, Nov 20, 2026 at 10:00, Yamada <y@x> wrote:
    r"|(?:書きました|書き込みました|のメッセージ|wrote)\s*[:：]?\s*$"
    r"|^\s*\d{4}\s*[年/.-]\s*\d{1,2}\s*[月/.-]\s*\d{1,2}.*[:：]\s*$"  # 2026年11月20日(金) … :
    r"|<[^<>@\s]+@[^<>\s]+>\s*[:：]\s*$",  # … 山田 <x@y>:
    re.IGNORECASE,
)

_ATTRIBUTION_OPENING = re.compile(r"\s*(?:On|Am|Le|El|Il|Op)\s|\s*\d{4}\s*[年/.-]", re.IGNORECASE)


_ASCII_SPACE = re.compile(r"[ \t\r\n\f\v]+")


def squash_spaces(text: str) -> str:
    """One line, single ASCII spaces. Ideographic spaces (U+3000) are text in Japanese and
    stay, which str.split() would not do."""
    return _ASCII_SPACE.sub(" ", text).strip(" ")


def _is_quote(line: str) -> bool:
    return line.lstrip().startswith((">", "＞"))


def _separator_start(lines: list[str]) -> int | None:
    """First '-----Original Message-----' style line, or an Outlook 'From:/Sent:' header block
    (Outlook quotes without '>': everything below it is the previous mail)."""
    for i, line in enumerate(lines):
        if _is_quote(line):
            continue
        if _SEPARATOR.match(line):
            return i
        window = lines[i + 1 : i + 4]
        if _OUTLOOK_FROM.match(line) and any(_OUTLOOK_NEXT.match(x) for x in window):
            return i
    return None


def _trailing_quote_start(lines: list[str]) -> int | None:
    """Start of the '>' block that runs to the end of the text, with its attribution line(s).
    Only a trailing block counts: text after quoted lines is an inline answer and stays new."""
    start = len(lines)
    while start > 0 and (_is_quote(lines[start - 1]) or not lines[start - 1].strip()):
        start -= 1
    if not any(_is_quote(line) for line in lines[start:]):
        return None
    head = start
    while head > 0 and not lines[head - 1].strip():
        head -= 1
    # an attribution is usually one line, but clients wrap long ones ("On …, Name <\naddr> wrote:");
    # a wrapped one is only taken when its first line opens like an attribution does
    for size in (3, 2, 1):
        first = head - size
        if first < 0 or not all(x.strip() for x in lines[first:head]):
            continue
        joined = " ".join(x.strip() for x in lines[first:head])
        if _ATTRIBUTION.search(joined) and (size == 1 or _ATTRIBUTION_OPENING.match(joined)):
            return first
    return start


def split_quoted(text: str) -> tuple[str, str]:
    """(new text, quoted history) of a plain-text reply; either may be empty."""
    lines = text.split("\n")
    starts = [s for s in (_separator_start(lines), _trailing_quote_start(lines)) if s is not None]
    if not starts:
        return collapse_edges(lines), ""
    cut = min(starts)
    return collapse_edges(lines[:cut]), collapse_edges(lines[cut:])


def collapse_edges(lines: list[str]) -> str:
    """Drop blank lines and trailing spaces at both ends, keep everything in between as it is."""
    lo, hi = 0, len(lines)
    while lo < hi and not lines[lo].strip():
        lo += 1
    while hi > lo and not lines[hi - 1].strip():
        hi -= 1
    return "\n".join(lines[lo:hi]).rstrip()
