"""Parsing config.toml's [routing.rules] and [routing.urgent] into Rule and UrgentTriage.

Every error names the rule and the field, e.g. `routing.rules[2] ("dv").match.channels`.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from datetime import time

from inbox.core.errors import ConfigError
from inbox.core.model import Anonymity, ChannelKind
from routing.rules import CONTACT_ATTRIBUTES, DEFAULT_KEYWORDS, ContactValue, Rule, UrgentTriage
from routing.text import normalize

_CATEGORY = re.compile(r"[a-z][a-z0-9_]*")  # becomes a tag, so keep it a plain identifier
_HOURS = re.compile(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)")
_CHANNEL_NAMES = frozenset(c.value for c in ChannelKind)
_CHANNELS = ", ".join(c.value for c in ChannelKind)  # in declaration order, for messages

_ANONYMITY = tuple(a.value for a in Anonymity)
_RULE_KEYS = ("name", "match", "then")
_MATCH_KEYS = ("channels", "keywords", "tags", "contact", "hours")
_THEN_KEYS = (
    "skill",
    "team",
    "language",
    "priority",
    "tags",
    "auto_reply",
    "notify_supervisors",
    "stop",
)
_TRIAGE_KEYS = ("priority", "keywords", "use_defaults")


def parse_rules(raw: object, where: str = "routing.rules") -> tuple[Rule, ...]:
    """Rules from the TOML array of tables; ConfigError names the rule, the field and the fix.

    Rules are numbered from 0, as in the array. `match = {}` is a catch-all and must be written
    out: a rule without `match` is an error, so a forgotten table cannot route everything.
    """
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: must be a list of tables ([[{where}]]), got {_kind(raw)}")
    rules: list[Rule] = []
    first_at: dict[str, str] = {}
    for i, item in enumerate(raw):
        rule = _parse_rule(item, f"{where}[{i}]")
        if rule.name in first_at:
            raise ConfigError(
                f"{where}[{i}] ({_show(rule.name)}).name: duplicate of {first_at[rule.name]};"
                " rule names must be unique"
            )
        first_at[rule.name] = f"{where}[{i}]"
        rules.append(rule)
    return tuple(rules)


def _parse_rule(item: object, where: str) -> Rule:
    name = _text(_table(item, where, None).get("name"), f"{where}.name")
    where = f"{where} ({_show(name)})"  # from here on, errors name the rule
    table = _table(item, where, _RULE_KEYS)
    for part in ("match", "then"):
        if part not in table:
            fix = "write match = {} for a catch-all" if part == "match" else "list the actions"
            raise ConfigError(f"{where}.{part}: missing ({fix})")
    m = _table(table["match"], f"{where}.match", _MATCH_KEYS)
    a = _table(table["then"], f"{where}.then", _THEN_KEYS)
    hours = m.get("hours")
    rule = Rule(
        name=name,
        channels=_channels(m.get("channels", []), f"{where}.match.channels"),
        keywords_any=_keywords(m.get("keywords", []), f"{where}.match.keywords"),
        tags_any=frozenset(_texts(m.get("tags", []), f"{where}.match.tags")),
        contact=_contact(m.get("contact", {}), f"{where}.match.contact"),
        hours=None if hours is None else _hours(hours, f"{where}.match.hours"),
        skill=_optional_text(a.get("skill"), f"{where}.then.skill"),
        team=_optional_text(a.get("team"), f"{where}.then.team"),
        language=_optional_text(a.get("language"), f"{where}.then.language"),
        priority=_optional_int(a.get("priority"), f"{where}.then.priority", minimum=0),
        add_tags=frozenset(_texts(a.get("tags", []), f"{where}.then.tags")),
        auto_reply=_optional_text(a.get("auto_reply"), f"{where}.then.auto_reply"),
        notify_supervisors=_flag(
            a.get("notify_supervisors", False), f"{where}.then.notify_supervisors"
        ),
        stop=_flag(a.get("stop", False), f"{where}.then.stop"),
    )
    actions = (
        rule.skill,
        rule.team,
        rule.language,
        rule.priority is not None,
        rule.add_tags,
        rule.auto_reply,
    )
    if not any((*actions, rule.notify_supervisors, rule.stop)):
        raise ConfigError(f"{where}.then: no action (set one of: {', '.join(_THEN_KEYS)})")
    return rule


def parse_triage(raw: object | None, where: str = "routing.urgent") -> UrgentTriage:
    """Urgent triage from its TOML table; None means the defaults.

    With use_defaults (the default) the configured keywords are added to the built-in lists,
    category by category; new categories are checked after the built-in ones.
    """
    table = _table({} if raw is None else raw, where, _TRIAGE_KEYS)
    priority = _int(table.get("priority", 100), f"{where}.priority", minimum=1)
    use_defaults = _flag(table.get("use_defaults", True), f"{where}.use_defaults")
    merged = {c: [normalize(k) for k in ks] for c, ks in DEFAULT_KEYWORDS} if use_defaults else {}
    given = _table(table.get("keywords", {}), f"{where}.keywords", None)
    for category, keywords in given.items():
        if not _CATEGORY.fullmatch(category):
            raise ConfigError(
                f"{where}.keywords.{category}: not a valid category name (it becomes a tag:"
                " lowercase letters, digits and _, starting with a letter)"
            )
        fresh = _keywords(keywords, f"{where}.keywords.{category}")
        known = merged.setdefault(category, [])
        known.extend(k for k in fresh if k not in known)
    if not any(merged.values()):
        raise ConfigError(
            f"{where}.keywords: no keywords, so urgent triage would never fire"
            " (list keywords, or keep use_defaults = true)"
        )
    return UrgentTriage(
        keywords=tuple((c, tuple(ks)) for c, ks in merged.items()), priority=priority
    )


# --- value checkers: each names `where` and what was expected ------------------------------


def _table(value: object, where: str, allowed: Sequence[str] | None) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: must be a table, got {_kind(value)}")
    for key in value:
        if allowed is not None and key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"did you mean {_show(close[0])}? " if close else ""
            raise ConfigError(f"{where}.{key}: unknown key ({hint}allowed: {', '.join(allowed)})")
    return value


def _text(value: object, where: str) -> str:
    if value is None:
        raise ConfigError(f"{where}: missing")
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: must be a non-empty string, got {_show(value)}")
    return value


def _optional_text(value: object, where: str) -> str | None:
    return None if value is None else _text(value, where)


def _texts(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        raise ConfigError(f"{where}: must be a list of strings, got {_kind(value)}")
    return tuple(_text(v, f"{where}[{i}]") for i, v in enumerate(value))


def _keywords(value: object, where: str) -> tuple[str, ...]:
    words = []
    for i, word in enumerate(_texts(value, where)):
        # Checked after normalizing: a keyword of invisible characters would never match.
        if not (norm := normalize(word)):
            raise ConfigError(f"{where}[{i}]: {_show(word)} has no visible characters")
        words.append(norm)
    return tuple(dict.fromkeys(words))  # drop duplicates that differ only in width or case


def _optional_int(value: object, where: str, *, minimum: int) -> int | None:
    return None if value is None else _int(value, where, minimum=minimum)


def _int(value: object, where: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where}: must be an integer, got {_show(value)}")
    if value < minimum:
        raise ConfigError(f"{where}: must be at least {minimum}, got {value}")
    return value


def _flag(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: must be true or false, got {_show(value)}")
    return value


def _channels(value: object, where: str) -> frozenset[ChannelKind]:
    names = _texts(value, where)
    for name in names:
        if name not in _CHANNEL_NAMES:
            raise ConfigError(f"{where}: {_show(name)} is not a channel (one of: {_CHANNELS})")
    return frozenset(ChannelKind(n) for n in names)


def _contact(value: object, where: str) -> tuple[tuple[str, ContactValue], ...]:
    pairs: list[tuple[str, ContactValue]] = []
    for attr, want in _table(value, where, tuple(CONTACT_ATTRIBUTES)).items():
        if CONTACT_ATTRIBUTES[attr] is bool:
            want = _flag(want, f"{where}.{attr}")  # exact: 1 is not true here
        elif not isinstance(want, str):
            raise ConfigError(f"{where}.{attr}: must be a string, got {_show(want)}")
        if attr == "anonymity" and want not in _ANONYMITY:
            raise ConfigError(
                f"{where}.{attr}: must be one of {', '.join(_ANONYMITY)}, got {_show(want)}"
            )
        if attr == "channel" and want not in _CHANNEL_NAMES:
            raise ConfigError(f"{where}.{attr}: {_show(want)} is not a channel ({_CHANNELS})")
        pairs.append((attr, want))
    return tuple(pairs)


def _hours(value: object, where: str) -> tuple[time, time]:
    m = _HOURS.fullmatch(value) if isinstance(value, str) else None
    if m is None:
        raise ConfigError(
            f'{where}: must be "HH:MM-HH:MM" (e.g. "22:00-05:00"), got {_show(value)}'
        )
    start, end = time(int(m[1]), int(m[2])), time(int(m[3]), int(m[4]))
    if start == end:
        raise ConfigError(f"{where}: {value} is an empty window (for all day, leave hours out)")
    return start, end


def _show(value: object) -> str:
    # TOML-like: strings in double quotes, Japanese left readable, true/false lowercase.
    return json.dumps(value, ensure_ascii=False, default=str)


def _kind(value: object) -> str:
    kinds = {bool: "true/false", int: "an integer", float: "a number", str: "a string"}
    kinds |= {list: "a list", dict: "a table"}
    return kinds.get(type(value), type(value).__name__)
