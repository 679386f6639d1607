"""A configured choice with its words: a tag, a triage label, a closing outcome. Stored and
counted by its id (stable: reports count it); shown in Japanese or English, never as the id.

Stdlib only; one parser for every list of them in config.toml (`{ id, ja, en }` tables).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from inbox.core.errors import ConfigError

_ID = re.compile(r"[a-z0-9_]{1,40}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Label:
    id: str
    ja: str
    en: str


def parse_labels(raw: object, where: str, *, at_least_one: bool = False) -> tuple[Label, ...]:
    """A list of `{ id, ja, en }` tables: ids of 1-40 of a-z, 0-9 and _, each once; words
    non-empty (trimmed)."""
    if not isinstance(raw, list) or (at_least_one and not raw):
        some = "a non-empty list" if at_least_one else "a list"
        raise ConfigError(f"{where}: expected {some} of {{ id, ja, en }} tables")
    found: list[Label] = []
    for i, item in enumerate(raw):
        at = f"{where}[{i}]"
        if not isinstance(item, dict) or set(item) != {"id", "ja", "en"}:
            raise ConfigError(
                f'{at}: expected {{ id = "dv", ja = "DV", en = "Domestic violence" }}'
            )
        if not all(isinstance(v, str) and v.strip() for v in item.values()):
            raise ConfigError(f"{at}: id, ja and en must be non-empty strings")
        if not _ID.fullmatch(item["id"]):
            raise ConfigError(f"{at}.id: 1-40 of a-z, 0-9 and _, got {item['id']!r}")
        if any(f.id == item["id"] for f in found):
            raise ConfigError(f"{at}.id: {item['id']!r} is listed twice")
        found.append(Label(id=item["id"], ja=item["ja"].strip(), en=item["en"].strip()))
    return tuple(found)
