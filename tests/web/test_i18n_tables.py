"""The front end's strings (inbox/web/static/i18n.js): Japanese and English have the same keys,
each once (a key written twice in an object literal silently keeps the last one, so a helper's
block at the end would quietly replace an older string)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "inbox" / "web" / "static"
KEY = re.compile(r'^\s*"([^"]+)":', re.MULTILINE)


def _tables() -> dict[str, list[str]]:
    text = (STATIC / "i18n.js").read_text(encoding="utf-8")
    ja, en = text.index("\n  ja: {"), text.index("\n  en: {")
    end = text.index("\n};", en)
    return {"ja": KEY.findall(text[ja:en]), "en": KEY.findall(text[en:end])}


def test_both_languages_have_the_same_keys_each_once() -> None:
    tables = _tables()
    assert len(tables["ja"]) > 100
    for lang, keys in tables.items():
        twice = sorted(k for k, n in Counter(keys).items() if n > 1)
        assert not twice, f"{lang}: keys written more than once: {twice}"
    assert set(tables["ja"]) == set(tables["en"]), (
        f"only in ja: {sorted(set(tables['ja']) - set(tables['en']))}; "
        f"only in en: {sorted(set(tables['en']) - set(tables['ja']))}"
    )
