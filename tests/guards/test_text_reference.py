"""The fast paths in routing.text and routing.rules triage give what the code before them gave:
property tests against a verbatim copy of that code (commit 2f5979d), kept here."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inbox.core.model import NO_LABELS, ChannelKind, InboundMessage
from routing import rules, text
from routing.rules import DEFAULT_KEYWORDS, Urgency, UrgentTriage

# What triage finds is tested in tests/routing/; these hold the fast paths to the code they
# replaced: a guard on a speed-up, not a behaviour test.
pytestmark = pytest.mark.perf_guard

# --- reference: routing/text.py as it was, verbatim from here to reference_triage -----------

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
_MAPPED_RUNS = re.compile("[" + "".join(chr(cp) for cp in sorted({*_MAP, *_DELETE, 0xFEFF})) + "]+")


def _map_run(m: re.Match[str]) -> str:
    return m.group().translate(_TABLE).replace("\ufeff", "")


def normalize(text: str) -> str:
    """The form keywords are matched in: NFKC, casefolded, katakana as hiragana, whitespace
    collapsed to single spaces and stripped. Idempotent: normalize(normalize(s)) == normalize(s).
    """
    if text.isascii():
        # NFKC is the identity on ASCII and casefold equals lower: the fast path for English.
        return " ".join(text.lower().split())
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = _MAPPED_RUNS.sub(_map_run, folded)
    # Again: casefold and deletions can leave decomposed sequences (ǰ → j + ̌) that NFKC
    # recomposes; without this second pass normalize would not be idempotent.
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
    unique = sorted(set(keywords), key=len, reverse=True)
    return re.compile("|".join(map(re.escape, unique))) if unique else None


@lru_cache(maxsize=512)
def _prepare(keywords: tuple[str, ...]) -> _Prepared:
    compact = tuple(
        (i, k.replace(" ", "")) for i, k in enumerate(keywords) if k and not k.isascii()
    )
    words = tuple((i, k) for i, k in enumerate(keywords) if k and k.isascii())
    return _Prepared(compact, words, _any_of(k for _, k in compact), _any_of(k for _, k in words))


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


def reference_triage(t: UrgentTriage, text: str) -> Urgency | None:
    # routing.rules.triage and _triage as they were
    hay = haystack(normalize(text))
    for category, keywords in t.keywords:
        keyword = first_keyword(hay, keywords)
        if keyword is not None:
            return Urgency(category=category, keyword=keyword)
    return None


# --- generated text -------------------------------------------------------------------------


def _chars(*ranges: tuple[int, int]) -> st.SearchStrategy[str]:
    return st.one_of(*(st.characters(min_codepoint=lo, max_codepoint=hi) for lo, hi in ranges))


_KEYWORDS = [k for _, ks in DEFAULT_KEYWORDS for k in ks]
_KATAKANA = "".maketrans({cp: cp + 0x60 for cp in range(0x3041, 0x3097)})
# The same keywords as people write them: in katakana, half-width, spaced out, upper case.
_SPELLINGS = [
    *_KEYWORDS,
    *(k.translate(_KATAKANA) for k in _KEYWORDS if not k.isascii()),
    *(" ".join(k) for k in _KEYWORDS if not k.isascii()),
    *(k.upper() for k in _KEYWORDS if k.isascii()),
    *("ｼﾆﾀｲ", "ｷｴﾀｲ", "ﾀｽｹﾃ", "ｺﾛｻﾚﾙ", "ｼﾞｻﾂ", "ﾘｽﾄｶｯﾄ", "ｵｰﾊﾞｰﾄﾞｰｽﾞ", "ＤＶ", "ｋｉｌｌ ｍｅ"),
    *("死\u200bにたい", "助\u00adけて", "kill\u2060myself", "i don’t", "skill", "killme", "#001"),
]
_PIECES = st.one_of(
    _chars((0x3041, 0x3096), (0x309D, 0x309E), (0x30FC, 0x30FC)),  # hiragana, ー
    _chars((0x30A1, 0x30FF)),  # katakana
    _chars((0xFF61, 0xFF9F)),  # half-width katakana and its voicing marks
    _chars((0x4E00, 0x9FFF)),  # kanji
    _chars((0x20, 0x7E), (0x09, 0x0D)),  # ASCII, its whitespace
    _chars((0xFF01, 0xFF5E), (0x3000, 0x3000)),  # full-width ASCII, ideographic space
    _chars((0x0300, 0x036F), (0x3099, 0x309A)),  # combining marks
    st.sampled_from("\u00ad\u200b\u200c\u200d\u2060\ufeff\u2018\u2019\u00a0\u2028\u2003\x85"),
    st.sampled_from("ßǰİﬃſΣςΐŉǅÅΩ"),  # casefold and NFKC change length or recompose
    st.sampled_from(_SPELLINGS),
    st.text(max_size=3),
)
TEXT = st.lists(_PIECES, max_size=40).map("".join)
# Keyword lists as config.toml may give them: defaults, pieces of them, random text.
KEYWORDS = st.lists(st.one_of(st.sampled_from(_SPELLINGS), TEXT), max_size=8).map(
    lambda ks: tuple(normalize(k) for k in ks)
)
MANY = settings(max_examples=500, deadline=None)
TZ = ZoneInfo("Asia/Tokyo")


@MANY
@given(TEXT)
def test_normalize_and_haystack_as_before(raw: str) -> None:
    normalized = text.normalize(raw)
    assert normalized == normalize(raw)
    new, old = text.haystack(normalized), haystack(normalized)
    assert (new.spaced, new.compact, new.ascii) == (old.spaced, old.compact, old.ascii)


@MANY
@given(TEXT, KEYWORDS)
def test_first_keyword_as_before(raw: str, keywords: tuple[str, ...]) -> None:
    normalized = normalize(raw)
    assert text.first_keyword(text.haystack(normalized), keywords) == first_keyword(
        haystack(normalized), keywords
    )


_DEFAULT = UrgentTriage()


@MANY
@given(TEXT)
def test_default_triage_evaluate_and_labeler_as_before(raw: str) -> None:
    want = reference_triage(_DEFAULT, raw)
    assert rules.triage(_DEFAULT, raw) == want
    outcome = rules.evaluate(
        (),
        _DEFAULT,
        channel=ChannelKind.WEBCHAT,
        text=raw,
        tags=frozenset(),
        contact={},
        local_time=datetime.now(UTC).time(),
    )
    assert outcome.urgency == want
    msg = InboundMessage(
        channel=ChannelKind.WEBCHAT,
        external_id="e",
        sender="s",
        body=raw,
        received_at=datetime.now(UTC),
    )
    labels = rules.labeler((), _DEFAULT, TZ)(msg)
    if want is None:
        assert labels is NO_LABELS
    else:
        assert (labels.alert, labels.priority) == (want.category, _DEFAULT.priority)


@MANY
@given(TEXT, st.lists(st.tuples(st.sampled_from("abc"), KEYWORDS), max_size=3))
def test_configured_triage_as_before(raw: str, keywords: list[tuple[str, tuple[str, ...]]]) -> None:
    t = UrgentTriage(keywords=tuple(keywords))
    assert rules.triage(t, raw) == reference_triage(t, raw)


@MANY
@given(TEXT)
def test_the_triage_screen_never_misses(raw: str) -> None:
    # It may find what is no keyword hit; it must find something wherever the reference does.
    assert _DEFAULT.screen is not None
    if reference_triage(_DEFAULT, raw) is not None:
        assert _DEFAULT.screen.search(normalize(raw).replace(" ", ""))
