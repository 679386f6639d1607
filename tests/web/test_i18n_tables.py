"""The front end's strings (inbox/web/static/i18n.js): Japanese and English have the same keys,
each once (a key written twice in an object literal silently keeps the last one, so a helper's
block at the end would quietly replace an older string)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from inbox.core.sms import PERMANENT_ERROR_CODES

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


def test_every_permanent_twilio_code_has_its_words() -> None:
    """The console words a failed SMS by its code from these tables alone (console/sms.js
    keeps no list): the server's list of permanent codes is the one to cover."""
    for lang, keys in _tables().items():
        missing = sorted(c for c in PERMANENT_ERROR_CODES if f"sms.failure.{c}" not in keys)
        assert not missing, f"{lang}: no sms.failure.<code> for {missing}"
