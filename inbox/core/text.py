"""Text from outside made storable, the same way for SQLite and PostgreSQL. Stdlib only: the
channels, the storage and the web layer all call it at their edges.

Python's str holds what neither database takes: a lone surrogate (JSON's `"\\ud83d"`, or a
byte the e-mail parser surrogate-escaped) cannot be encoded as UTF-8 at all, so SQLite's
driver raises in its thread and asyncpg refuses the argument; NUL is refused by PostgreSQL's
text and jsonb and would be kept by SQLite. Every other code point (other controls,
noncharacters such as U+FFFF) is stored by both as it is, so it is left alone.
"""

from __future__ import annotations

from typing import Any

REPLACEMENT = "\ufffd"


def storable(text: str) -> str:
    """`text` with NUL removed and each lone surrogate replaced by U+FFFD (a surrogate pair
    left split in a str is joined into its character). Plain text comes back as the same
    object, after one pass in C (ASCII check, or a trial UTF-8 encoding)."""
    if text.isascii():
        return text.replace("\x00", "") if "\x00" in text else text
    if "\x00" in text:
        text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # UTF-16 round trip: pairs decode to their character, lone halves to U+FFFD.
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


def storable_json(value: Any) -> Any:
    """A parsed JSON value with every string in it (keys too) made storable."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {storable(k): storable_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable_json(v) for v in value]
    return value
