"""How a phone call went: the program's list of call outcomes ([phone] outcomes), each with its
words in Japanese and English and whether the call reached her (the callback retry rule stops
once one did: routing.callbacks).

Stdlib only, on the ground floor so the pure retry rule can read it. A call outcome is a Label
(inbox.core.labels) with one more field; the list is parsed by the one label parser.
"""

from __future__ import annotations

from dataclasses import dataclass

from inbox.core.errors import ConfigError
from inbox.core.labels import Label, parse_labels


@dataclass(frozen=True, slots=True, kw_only=True)
class CallOutcome(Label):
    reached: bool = False  # the call was answered: no further callback try


# A phone desk's usual outcomes. `reached`: someone answered and trying again would not help (she
# declined, a prank, a wrong number: calling a stranger twice is a risk to her). "Not safe to
# talk", "hung up" and a silent call mean she could not talk: the desk tries again in her window.
DEFAULT_CALL_OUTCOMES: tuple[CallOutcome, ...] = (
    CallOutcome(id="reached", ja="つながった", en="Reached", reached=True),
    CallOutcome(id="no_answer", ja="応答なし", en="No answer"),
    CallOutcome(id="busy", ja="話し中", en="Busy"),
    CallOutcome(id="wrong_number", ja="番号違い", en="Wrong number", reached=True),
    CallOutcome(id="not_safe", ja="今は話せない", en="Not safe to talk"),
    CallOutcome(id="declined", ja="辞退", en="Declined", reached=True),
    CallOutcome(id="hung_up", ja="途中で切れた", en="Hung up"),
    CallOutcome(id="silent", ja="無言電話", en="Silent call"),
    CallOutcome(id="prank", ja="いたずら", en="Prank", reached=True),
)
_KEYS = frozenset({"id", "ja", "en", "reached"})


def parse_call_outcomes(raw: object, where: str) -> tuple[CallOutcome, ...]:
    """A non-empty list of `{ id, ja, en, reached = true }` tables (`reached` defaults to false);
    at least one must reach her, or no callback could ever end as reached."""
    items = raw if isinstance(raw, list) else None
    reached: list[bool] = []
    plain: list[object] = []
    for i, item in enumerate(items or ()):
        if isinstance(item, dict) and set(item) <= _KEYS:
            flag = item.get("reached", False)
            if not isinstance(flag, bool):
                raise ConfigError(f"{where}[{i}].reached: expected true or false, got {flag!r}")
            reached.append(flag)
            plain.append({k: v for k, v in item.items() if k != "reached"})
        elif isinstance(item, dict):
            unknown = sorted(set(item) - _KEYS)[0]
            raise ConfigError(f"{where}[{i}].{unknown}: unknown key; allowed: id, ja, en, reached")
        else:
            plain.append(item)  # parse_labels names what is wrong with it
    labels = parse_labels(raw if items is None else plain, where, at_least_one=True)
    if not any(reached):
        raise ConfigError(f"{where}: mark at least one outcome `reached = true`")
    return tuple(
        CallOutcome(id=label.id, ja=label.ja, en=label.en, reached=flag)
        for label, flag in zip(labels, reached, strict=True)
    )


def reached_ids(outcomes: tuple[CallOutcome, ...]) -> frozenset[str]:
    """The ids of outcomes that reached her; an id not in the list (since removed) did not."""
    return frozenset(o.id for o in outcomes if o.reached)
