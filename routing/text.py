"""Text normalization and keyword search for routing, in Japanese and English.

Pure and cheap: it runs on every inbound message, so the work is a few C-level passes (NFKC,
casefold, translate, split/join) and str.find; one regex per keyword list only tells that a
message holds none of them (see _Prepared).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

# Katakana → hiragana, so that シニタイ (and half-width ｼﾆﾀｲ, which NFKC makes full-width first)
# matches a keyword written しにたい. U+30A1..U+30F6 map one-to-one onto U+3041..U+3096; ヽヾ are
# the iteration marks. ー (prolonged sound mark) stays: hiragana text uses it too.
_MAP = {cp: cp - 0x60 for cp in range(0x30A1, 0x30F7)} | {0x30FD: 0x309D, 0x30FE: 0x309E}
# Phones type curly apostrophes (iOS smart punctuation): "don’t" must match "don't".
_MAP |= {0x2018: ord("'"), 0x2019: ord("'")}
# Invisible characters that copy-paste leaves inside words; NFKC keeps them, and they would
# split 死にたい into two pieces. Deleting ZWJ breaks emoji sequences, harmless for matching.
_DELETE = (0x00AD, 0x200B, 0x200C, 0x200D, 0x2060)  # and U+FEFF, removed by str.replace


def _table() -> list[int | None]:
    # A list, not a dict: str.translate indexes it twice as fast, and code points past its end
    # (IndexError is a LookupError) stay as they are.
    table: list[int | None] = list(range(max(_MAP) + 1))
    for cp, to in _MAP.items():
        table[cp] = to
    for cp in _DELETE:
        table[cp] = None
    return table


_TABLE = _table()
# str.translate looks up every character through Python's mapping protocol (~55 ns each, 5 µs
# for a 100-character message), so only the runs that need it are translated: one C-level scan.
# [c][c]* rather than [c]+: a pattern that opens with a character class lets sre skip ahead
# through the text on that class alone, 0.4 instead of 1.0 µs on a message with no katakana.
_MAPPED = "[" + "".join(chr(cp) for cp in sorted({*_MAP, *_DELETE, 0xFEFF})) + "]"
_MAPPED_RUNS = re.compile(_MAPPED + _MAPPED + "*")


def _map_run(m: re.Match[str]) -> str:
    return m.group().translate(_TABLE).replace("\ufeff", "")


def normalize(text: str) -> str:
    """The form keywords are matched in: NFKC, casefolded, katakana as hiragana, whitespace
    collapsed to single spaces and stripped. Idempotent: normalize(normalize(s)) == normalize(s).
    """
    if text.isascii():
        # NFKC is the identity on ASCII and casefold equals lower: the fast path for English.
        return " ".join(text.lower().split())
    composed = unicodedata.normalize("NFKC", text)
    folded = _MAPPED_RUNS.sub(_map_run, composed.casefold())
    # Again: casefold and deletions can leave decomposed sequences (ǰ → j + ̌) that NFKC
    # recomposes; without this second pass normalize would not be idempotent. When they changed
    # nothing (most Japanese text), the text is NFKC already, and comparing is the cheaper scan.
    if folded != composed:
        folded = unicodedata.normalize("NFKC", folded)
    return " ".join(folded.split())


@dataclass(frozen=True, slots=True)
class Haystack:
    """A normalized message prepared once and then searched for many keywords."""

    spaced: str  # normalize(text): English keywords need the spaces as word boundaries
    compact: str  # the same without spaces: people write 死に たい, Japanese has no word gaps
    ascii: bool  # then no Japanese keyword can occur in it


def haystack(normalized_text: str) -> Haystack:
    return Haystack(normalized_text, normalized_text.replace(" ", ""), normalized_text.isascii())


def contains_keyword(normalized_text: str | Haystack, normalized_keyword: str) -> bool:
    """Whether the keyword occurs in the text; both must already be normalized.

    A pure-ASCII keyword must stand as whole words ("kill" is not in "skill", but "dv" is in
    "dv被害"); any other keyword is a substring of the text with all spaces removed.
    """
    hay = normalized_text if isinstance(normalized_text, Haystack) else haystack(normalized_text)
    if not normalized_keyword:
        return False
    if normalized_keyword.isascii():
        return _has_words(hay.spaced, normalized_keyword)
    return normalized_keyword.replace(" ", "") in hay.compact


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A keyword list prepared once, since triage runs on every message: (position, compact
    form) of the non-ASCII keywords, (position, keyword) of the ASCII ones, and for each group
    one regex of them all. Most messages contain no keyword, and one regex scan tells so about
    four times faster than a loop of `in` (sre skips positions by the keywords' first letters);
    when it finds something, the loop decides which keyword comes first in the list."""

    compact: tuple[tuple[int, str], ...]
    words: tuple[tuple[int, str], ...]
    any_compact: re.Pattern[str] | None
    any_word: re.Pattern[str] | None


def _any_of(keywords: Iterable[str]) -> re.Pattern[str] | None:
    # Grouped by first character, "a(?:bc|d)|e": wherever a keyword may start, sre tries the
    # alternatives in turn, and grouped, a position is done at its character's group instead of
    # after every keyword (15% fewer instructions for the default triage lists). Callers only ask
    # whether it finds something, so after a one-character keyword the longer ones with that
    # first character are left out.
    rests: dict[str, set[str]] = {}
    for k in keywords:
        rests.setdefault(k[:1], set()).add(k[1:])
    groups = [
        re.escape(first) + ("" if "" in rest else f"(?:{'|'.join(map(re.escape, sorted(rest)))})")
        for first, rest in sorted(rests.items())
    ]
    return re.compile("|".join(groups)) if groups else None


@lru_cache(maxsize=512)
def _prepare(keywords: tuple[str, ...]) -> _Prepared:
    compact = tuple(
        (i, k.replace(" ", "")) for i, k in enumerate(keywords) if k and not k.isascii()
    )
    words = tuple((i, k) for i, k in enumerate(keywords) if k and k.isascii())
    return _Prepared(compact, words, _any_of(k for _, k in compact), _any_of(k for _, k in words))


def keyword_screen(normalized_keywords: Iterable[str]) -> re.Pattern[str] | None:
    """One regex that finds something in haystack(t).compact whenever first_keyword finds any
    of these keywords in haystack(t); None when it can find none (no keyword given).

    Built for lists checked on every message (urgent triage): most messages hold no keyword,
    and one scan of the compact text tells so, where first_keyword takes two per list. It may
    find more than first_keyword would (a word inside a word, an English phrase run together),
    never less: a keyword in the spaced text is, spaces removed, in the compact text.
    """
    return _any_of(k.replace(" ", "") for k in normalized_keywords if k)


def first_keyword(hay: Haystack, normalized_keywords: Iterable[str]) -> str | None:
    """The first keyword, in the given order, that the text contains."""
    keywords = tuple(normalized_keywords)
    prepared = _prepare(keywords)
    best = len(keywords)
    if not hay.ascii and prepared.any_compact and prepared.any_compact.search(hay.compact):
        text = hay.compact
        for i, k in prepared.compact:
            if k in text:
                best = i
                break
    spaced = hay.spaced
    if prepared.any_word and prepared.any_word.search(spaced):
        for i, k in prepared.words:
            if i >= best:
                break
            if k in spaced and _has_words(spaced, k):
                best = i
                break
    return keywords[best] if best < len(keywords) else None


def _has_words(text: str, keyword: str) -> bool:
    # str.find, not a regex with lookarounds: sre cannot use its fast literal search behind a
    # lookbehind and was 40x slower. Most messages contain no keyword: one C-level scan.
    edge_start, edge_end = _is_word(keyword[0]), _is_word(keyword[-1])
    start = text.find(keyword)
    while start != -1:
        end = start + len(keyword)
        # A boundary is only needed where the keyword itself starts or ends with a letter.
        if not (edge_start and start and _is_word(text[start - 1])) and not (
            edge_end and end < len(text) and _is_word(text[end])
        ):
            return True
        start = text.find(keyword, start + 1)
    return False


def _is_word(char: str) -> bool:
    # Letters and digits below the CJK blocks. Kana and kanji do not count, since Japanese
    # writes English words without spaces around them (夫からのDV被害).
    return char < "\u2e80" and char.isalnum()
