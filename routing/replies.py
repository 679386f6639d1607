"""Auto-reply texts: after hours, in the waiting line, on-call, and the rules' named templates.

Pure: the hours, the clock and the conversation's state arrive as arguments. Every text exists
twice, plain and discreet: a consulter who asked for discretion may share a phone with the
person she fears, so the discreet texts never name the program ({program} and {program_en} are
not offered).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from inbox.core.errors import ConfigError
from routing.hours import ServiceHours, is_open, next_opening

AFTER_HOURS = "after_hours"
QUEUE_ACK = "queue_ack"
SAFETY = "safety"  # the safety message after urgent triage: one per conversation, any category
# To a consulter whose urgent conversation was handed to the person on call: someone is reading
# now. It stands in for the after-hours and waiting-line texts, which would be untrue then.
ON_CALL = "on_call"
_ON_CALL_SUPERSEDES = (AFTER_HOURS, QUEUE_ACK)
LANGUAGES = ("ja", "en")
_WEEKDAYS_JA = "月火水木金土日"

DEFAULT_EMERGENCY = (
    "命の危険があるときは 110番（警察）・119番（救急）へ。"
    " In an emergency call 110 (police) or 119 (ambulance)."
)
DEFAULT_AFTER_HOURS = (
    "{program}です。メッセージを受け付けました。ただいま受付時間外のため、"
    "{next_opening_ja}以降に順番にお返事します。\n{emergency}\n\n"
    "This is {program_en}. We have your message. We are closed now and will answer from "
    "{next_opening_en}.\n"
)
DEFAULT_AFTER_HOURS_DISCREET = (
    "メッセージを受け付けました。{next_opening_ja}以降にお返事します。\n{emergency}\n\n"
    "Message received. Reply from {next_opening_en}.\n"
)
DEFAULT_QUEUE_ACK = (
    "{program}です。ただいま相談が混み合っています。あなたの順番は{position}番目、"
    "お待ちいただく目安は{wait_ja}です。このままお待ちください。\n\n"
    "This is {program_en}. All counselors are busy. You are number {position} in line; "
    "the expected wait is {wait_en}. Please stay with us.\n"
)
DEFAULT_QUEUE_ACK_DISCREET = (
    "順番にお返事します（{position}番目、目安{wait_ja}）。\n\n"
    "We will reply in turn (number {position}, about {wait_en}).\n"
)
ON_CALL_JA = (
    "{program}です。メッセージを受け取りました。"
    "いま相談員があなたのメッセージを読んでいます。このままお待ちください。\n"
)
ON_CALL_EN = (
    "This is {program_en}. We have your message. A counselor is reading it now and will "
    "answer you soon. Please stay with us.\n"
)
# Neutral: no program, no topic; nothing a partner reading her phone would learn from.
ON_CALL_DISCREET_JA = "メッセージを受け取りました。いま読んでいます。少しお待ちください。\n"
ON_CALL_DISCREET_EN = "Message received. Someone is reading it now. Please wait a moment.\n"
DEFAULT_ON_CALL = f"{ON_CALL_JA}\n{ON_CALL_EN}"
DEFAULT_ON_CALL_DISCREET = f"{ON_CALL_DISCREET_JA}\n{ON_CALL_DISCREET_EN}"


# --- the safety message -----------------------------------------------------------------------
# Sent at once, day or night, when urgent triage (routing.rules) marks her message: the numbers
# that answer when we cannot yet. Checked 2026-12 against the operators' and the government's
# pages; check them again when you change them:
#   よりそいホットライン 0120-279-338: 24 hours, free; the guidance offers lines for suicide
#     prevention, DV/sexual violence and (press 2) foreign languages. https://www.since2011.net/yorisoi/
#   いのちの電話 0120-783-556: 自殺予防いのちの電話, free, limited hours (24 hours on the 10th of
#     every month). https://www.inochinodenwa.org/
#   DV相談ナビ #8008 (はれれば): reaches the nearest 配偶者暴力相談支援センター in its hours, call
#     charges apply. DV相談+ 0120-279-889 (つなぐ・はやく): 24 hours, free, also by chat and mail
#     (https://soudanplus.jp), in 11 languages. https://www.gov-online.go.jp/cam/no_dvca/dv03/
#   TELL Lifeline 03-5774-0992: counseling in English in Japan, limited hours (https://telljp.com;
#     the number is from TELL's own materials as we knew them, not re-checked: check it first).
#   110 police, 119 ambulance.
# Discreet wording: a consulter who asked for discretion may share the phone with the person she
# fears, and a preview on a lock screen is read first. So the discreet texts name no topic (no
# 自殺, DV, 暴力, 死), no program and no organisation, and list only numbers that reveal nothing
# when seen in a call log: 110/119 and よりそいホットライン's general line (it takes every kind
# of worry, so its number says nothing about hers). The DV-specific numbers (#8008, DV相談+) are
# left out of them on purpose: seen by her partner, they say what she is doing.
SAFETY_SUICIDE_JA = (
    "{program}です。メッセージを受け取りました。話してくれてありがとうございます。"
    "あなたのことを大切に思っています。このあと相談員がお返事します。\n"
    "待つあいだ、今すぐ誰かと話したいときは次の電話があります。\n"
    "・よりそいホットライン 0120-279-338（24時間・無料）\n"
    "・いのちの電話 0120-783-556（無料・受付時間に限りがあります）\n"
    "命の危険が迫っているときは、119番（救急）・110番（警察）へ電話してください。"
)
SAFETY_SUICIDE_EN = (
    "This is {program_en}. We have your message, and thank you for telling us. You matter to "
    "us, and a counselor will answer you soon.\n"
    "If you want to talk to someone right now:\n"
    "- TELL Lifeline (in English) 03-5774-0992\n"
    "- Yorisoi Hotline 0120-279-338 (24 hours, free; press 2 for other languages)\n"
    "If your life is in danger now, call 119 (ambulance) or 110 (police)."
)
SAFETY_DANGER_JA = (
    "{program}です。メッセージを受け取りました。このあと相談員がお返事します。\n"
    "今まさに危険なときは、110番（警察）へ電話してください。けがをしているときは119番（救急）へ。\n"
    "・DV相談+ 0120-279-889（24時間・無料、チャット・メールでも相談できます）\n"
    "・DV相談ナビ #8008（最寄りの相談窓口につながります）\n"
    "・よりそいホットライン 0120-279-338（24時間・無料）"
)
SAFETY_DANGER_EN = (
    "This is {program_en}. We have your message, and a counselor will answer you soon.\n"
    "If you are in danger right now, call 110 (police); if you are hurt, 119 (ambulance).\n"
    "- DV Soudan Plus 0120-279-889 (24 hours, free; also chat and e-mail, in English and "
    "other languages)\n"
    "- Yorisoi Hotline 0120-279-338 (24 hours, free; press 2 for other languages)"
)
# One neutral text for every category: what she reads, and who may read it over her shoulder.
SAFETY_DISCREET_JA = (
    "メッセージを受け取りました。このあとお返事します。\n"
    "困ったときの連絡先：0120-279-338（24時間・無料）\n"
    "急ぎのときは 110・119 へ。"
)
SAFETY_DISCREET_EN = (
    "Message received. We will reply soon.\n"
    "Free line: 0120-279-338 (24 hours; press 2 for other languages).\n"
    "Urgent: call 110 or 119."
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SafetyText:
    """One urgency category's safety message, in Japanese and English, plain and discreet."""

    ja: str
    en: str
    ja_discreet: str = SAFETY_DISCREET_JA
    en_discreet: str = SAFETY_DISCREET_EN

    def text(self, language: str, *, discreet: bool) -> str:
        if language == "en":
            return self.en_discreet if discreet else self.en
        return self.ja_discreet if discreet else self.ja


DEFAULT_SAFETY: tuple[tuple[str, SafetyText], ...] = (
    ("suicide_risk", SafetyText(ja=SAFETY_SUICIDE_JA, en=SAFETY_SUICIDE_EN)),
    ("immediate_danger", SafetyText(ja=SAFETY_DANGER_JA, en=SAFETY_DANGER_EN)),
)
# One-language versions of the default texts, sent where her language is known (her web chat's
# setting): the same words as the two halves above.
EMERGENCY_JA = "命の危険があるときは 110番（警察）・119番（救急）へ。"
EMERGENCY_EN = "In an emergency call 110 (police) or 119 (ambulance)."
DEFAULT_AFTER_HOURS_BY_LANGUAGE = (
    (
        "ja",
        "{program}です。メッセージを受け付けました。ただいま受付時間外のため、"
        f"{{next_opening_ja}}以降に順番にお返事します。\n{EMERGENCY_JA}\n",
        f"メッセージを受け付けました。{{next_opening_ja}}以降にお返事します。\n{EMERGENCY_JA}\n",
    ),
    (
        "en",
        "This is {program_en}. We have your message. We are closed now and will answer from "
        f"{{next_opening_en}}.\n{EMERGENCY_EN}\n",
        f"Message received. Reply from {{next_opening_en}}.\n{EMERGENCY_EN}\n",
    ),
)
DEFAULT_QUEUE_ACK_BY_LANGUAGE = (
    (
        "ja",
        "{program}です。ただいま相談が混み合っています。あなたの順番は{position}番目、"
        "お待ちいただく目安は{wait_ja}です。このままお待ちください。\n",
        "順番にお返事します（{position}番目、目安{wait_ja}）。\n",
    ),
    (
        "en",
        "This is {program_en}. All counselors are busy. You are number {position} in line; "
        "the expected wait is {wait_en}. Please stay with us.\n",
        "We will reply in turn (number {position}, about {wait_en}).\n",
    ),
)
DEFAULT_ON_CALL_BY_LANGUAGE = (
    ("ja", ON_CALL_JA, ON_CALL_DISCREET_JA),
    ("en", ON_CALL_EN, ON_CALL_DISCREET_EN),
)
# (language, plain, discreet) for each language a text exists in on its own.
ByLanguage = tuple[tuple[str, str, str], ...]

# The placeholders each text may use; anything else is a config error, found at start-up.
_NAMES = frozenset({"program", "program_en"})  # what the discreet texts may not use
_AFTER_HOURS_FIELDS = _NAMES | {"next_opening_ja", "next_opening_en", "emergency"}
_QUEUE_FIELDS = _NAMES | {"position", "wait_ja", "wait_en", "emergency"}
_TEMPLATE_FIELDS = _NAMES | {"emergency"}
_NO_NAMES = dict.fromkeys(_NAMES, "")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyTexts:
    program: str = "相談窓口"
    program_en: str = "the consultation service"  # for the English half of the texts
    emergency: str = DEFAULT_EMERGENCY
    after_hours: str = DEFAULT_AFTER_HOURS
    after_hours_discreet: str = DEFAULT_AFTER_HOURS_DISCREET
    queue_ack: str = DEFAULT_QUEUE_ACK  # "" turns the waiting-line message off
    queue_ack_discreet: str = DEFAULT_QUEUE_ACK_DISCREET
    # "" turns the on-call message off (she then gets the after-hours text as before)
    on_call: str = DEFAULT_ON_CALL
    on_call_discreet: str = DEFAULT_ON_CALL_DISCREET
    # One-language versions, used where her language is known; the defaults' only: a program
    # that writes its own text (or emergency line) sends that (parse_replies drops these).
    after_hours_by_language: ByLanguage = DEFAULT_AFTER_HOURS_BY_LANGUAGE
    queue_ack_by_language: ByLanguage = DEFAULT_QUEUE_ACK_BY_LANGUAGE
    on_call_by_language: ByLanguage = DEFAULT_ON_CALL_BY_LANGUAGE
    # Named templates that routing rules send with `auto_reply = "<name>"`: (plain, discreet).
    templates: tuple[tuple[str, tuple[str, str]], ...] = ()
    # The safety message per urgency category (routing.rules' triage); a category without one
    # sends none.
    safety: tuple[tuple[str, SafetyText], ...] = DEFAULT_SAFETY

    def template(self, name: str) -> tuple[str, str] | None:
        return dict(self.templates).get(name)

    def names(self) -> dict[str, str]:
        return {"program": self.program, "program_en": self.program_en}


@dataclass(frozen=True, slots=True, kw_only=True)
class AutoReply:
    kind: str  # after_hours, queue_ack, rule:<template name>: sent at most once per conversation
    body: str
    discreet_body: str
    # The same in one language each, (language, body, discreet_body): sent instead of the
    # bilingual body to a consulter whose language is known.
    by_language: ByLanguage = ()
    # Kinds this one stands in for: once it is queued they are never sent to the conversation.
    supersedes: tuple[str, ...] = ()


def _by_language(texts: ByLanguage, values: Mapping[str, str]) -> ByLanguage:
    return tuple(
        (lang, plain.format_map(values), discreet.format_map({**values, **_NO_NAMES}))
        for lang, plain, discreet in texts
    )


def safety_reply(texts: ReplyTexts, category: str, language: str | None) -> AutoReply | None:
    """The safety message for an urgent message of `category`, in her language ("en" when she
    wrote English, otherwise Japanese); None when the category has none configured.

    Unlike the other automatic replies (by_language, chosen by her chat's setting), it follows
    the words she wrote: a consulter writing 死にたい from a browser set to English needs the
    Japanese lines, and her setting is often only her browser's default."""
    found = dict(texts.safety).get(category)
    if found is None:
        return None
    lang = "en" if language == "en" else "ja"
    return AutoReply(
        kind=SAFETY,
        body=found.text(lang, discreet=False).format_map(texts.names()),
        discreet_body=found.text(lang, discreet=True).format_map(_NO_NAMES),
    )


def on_call_reply(texts: ReplyTexts, language: str | None = None) -> AutoReply | None:
    """The message to a consulter whose urgent conversation the person on call now has: a
    counselor is reading it. In `language` alone when it is known from the words she wrote
    (as the safety message, which it follows) and the text exists in it; else both languages,
    with the one-language versions for a chat whose language is set. None when configured off.
    It supersedes the after-hours and waiting-line texts (AutoReplier claims them spent)."""
    if not texts.on_call:
        return None
    values = {**texts.names(), "emergency": texts.emergency}
    versions = _by_language(texts.on_call_by_language, values)
    alone = next((v for v in versions if v[0] == language), None)
    if alone is not None:
        return AutoReply(
            kind=ON_CALL, body=alone[1], discreet_body=alone[2], supersedes=_ON_CALL_SUPERSEDES
        )
    return AutoReply(
        kind=ON_CALL,
        body=texts.on_call.format_map(values),
        discreet_body=texts.on_call_discreet.format_map(values | _NO_NAMES),
        by_language=versions,
        supersedes=_ON_CALL_SUPERSEDES,
    )


def opening_ja(at: datetime, tz: ZoneInfo) -> str:
    local = at.astimezone(tz)
    return f"{local.month}月{local.day}日({_WEEKDAYS_JA[local.weekday()]}) {local:%H:%M}"


def opening_en(at: datetime, tz: ZoneInfo) -> str:
    local = at.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b} {local:%H:%M}"


def after_hours_reply(
    texts: ReplyTexts, hours: ServiceHours, received_at: datetime
) -> AutoReply | None:
    """The reply to a message that arrived while the channel was closed; None when it was open."""
    if is_open(hours, received_at):
        return None
    opening = next_opening(hours, received_at)
    values = {
        **texts.names(),
        "emergency": texts.emergency,
        "next_opening_ja": "次の受付時間" if opening is None else opening_ja(opening, hours.tz),
        "next_opening_en": "our next opening" if opening is None else opening_en(opening, hours.tz),
    }
    return AutoReply(
        kind=AFTER_HOURS,
        body=texts.after_hours.format_map(values),
        discreet_body=texts.after_hours_discreet.format_map(values | _NO_NAMES),
        by_language=_by_language(texts.after_hours_by_language, values),
    )


def wait_estimate(position: int, handling: timedelta | None, counselors: int) -> timedelta | None:
    """An honest estimate: the consulters ahead, each taking a recent average handling time,
    shared among the counselors on duty; None when there is no history to base it on."""
    if handling is None or counselors <= 0 or position <= 0:
        return None
    return handling * position / counselors


def _minutes_ja(wait: timedelta | None) -> str:
    if wait is None:
        return "未定"
    minutes = max(5, round(wait.total_seconds() / 300) * 5)  # to 5 minutes: no false precision
    return f"約{minutes}分" if minutes < 120 else f"約{round(minutes / 60)}時間"


def _minutes_en(wait: timedelta | None) -> str:
    if wait is None:
        return "not known yet"
    minutes = max(5, round(wait.total_seconds() / 300) * 5)
    return f"about {minutes} minutes" if minutes < 120 else f"about {round(minutes / 60)} hours"


def queue_ack_reply(texts: ReplyTexts, position: int, wait: timedelta | None) -> AutoReply | None:
    """The waiting-line message: her place and the estimate; None when configured off."""
    if not texts.queue_ack:
        return None
    values = {
        **texts.names(),
        "emergency": texts.emergency,
        "position": str(position),
        "wait_ja": _minutes_ja(wait),
        "wait_en": _minutes_en(wait),
    }
    return AutoReply(
        kind=QUEUE_ACK,
        body=texts.queue_ack.format_map(values),
        discreet_body=texts.queue_ack_discreet.format_map(values | _NO_NAMES),
        by_language=_by_language(texts.queue_ack_by_language, values),
    )


def waiting_line_reply(
    texts: ReplyTexts, position: int, *, handling_s: float | None, counselors: int
) -> AutoReply | None:
    """queue_ack_reply with its estimate, from the recent mean handling time in seconds."""
    handling = None if handling_s is None else timedelta(seconds=handling_s)
    return queue_ack_reply(texts, position, wait_estimate(position, handling, counselors))


def template_reply(texts: ReplyTexts, name: str) -> AutoReply | None:
    found = texts.template(name)
    if found is None:
        return None
    values = {**texts.names(), "emergency": texts.emergency}
    return AutoReply(
        kind=f"rule:{name}",
        body=found[0].format_map(values),
        discreet_body=found[1].format_map(values | _NO_NAMES),
    )


# --- parsing [routing.replies] ----------------------------------------------------------------

_KEYS = {
    "program": None,
    "program_en": None,
    "emergency": None,
    "after_hours": _AFTER_HOURS_FIELDS,
    "after_hours_discreet": _AFTER_HOURS_FIELDS - _NAMES,
    "queue_ack": _QUEUE_FIELDS,
    "queue_ack_discreet": _QUEUE_FIELDS - _NAMES,
    "on_call": _TEMPLATE_FIELDS,
    "on_call_discreet": _TEMPLATE_FIELDS - _NAMES,
}


def _check_text(value: object, path: str, allowed: frozenset[str] | None) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{path}: expected a string, got {type(value).__name__}")
    if allowed is None:
        return value
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(value) if f is not None}
    except ValueError as exc:
        raise ConfigError(f"{path}: {exc} (write {{{{ and }}}} for literal braces)") from None
    unknown = sorted(fields - allowed)
    if unknown:
        raise ConfigError(
            f"{path}: unknown placeholder {{{unknown[0]}}}; allowed: "
            + ", ".join(f"{{{f}}}" for f in sorted(allowed))
        )
    return value


def parse_replies(raw: object, where: str = "routing.replies") -> ReplyTexts:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a table, got {type(raw).__name__}")
    values: dict[str, str] = {}
    for key, value in raw.items():
        if key in ("templates", "safety"):
            continue
        if key not in _KEYS:
            allowed = ", ".join([*_KEYS, "templates", "safety"])
            raise ConfigError(f"{where}.{key}: unknown key; allowed: {allowed}")
        values[key] = _check_text(value, f"{where}.{key}", _KEYS[key])
    templates = _parse_templates(raw.get("templates", {}), f"{where}.templates")
    safety = _parse_safety(raw.get("safety", {}), f"{where}.safety")
    # The one-language versions are the defaults' halves: wrong once the program has its own.
    defaults = ReplyTexts()
    own = {key for key, text in values.items() if text != getattr(defaults, key)}
    return ReplyTexts(
        **values,
        templates=templates,
        safety=safety,
        after_hours_by_language=()
        if own & {"emergency", "after_hours", "after_hours_discreet"}
        else DEFAULT_AFTER_HOURS_BY_LANGUAGE,
        queue_ack_by_language=()
        if own & {"emergency", "queue_ack", "queue_ack_discreet"}
        else DEFAULT_QUEUE_ACK_BY_LANGUAGE,
        on_call_by_language=()
        if own & {"on_call", "on_call_discreet"}
        else DEFAULT_ON_CALL_BY_LANGUAGE,
    )


_SAFETY_KEYS = ("ja", "en", "ja_discreet", "en_discreet")


def _parse_safety(raw: object, where: str) -> tuple[tuple[str, SafetyText], ...]:
    """[routing.replies.safety.<category>]: ja, en, ja_discreet, en_discreet. A default category
    (suicide_risk, immediate_danger) takes the defaults for the keys it leaves out; another needs
    ja and en. `enabled = false` sends none for that category. The discreet texts may not name
    the program."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a table of urgency categories")
    found = dict(DEFAULT_SAFETY)
    for category, table in raw.items():
        path = f"{where}.{category}"
        if not isinstance(table, Mapping):
            raise ConfigError(f"{path}: expected a table with ja, en, ja_discreet, en_discreet")
        unknown = sorted(set(table) - {*_SAFETY_KEYS, "enabled"})
        if unknown:
            allowed = ", ".join([*_SAFETY_KEYS, "enabled"])
            raise ConfigError(f"{path}.{unknown[0]}: unknown key; allowed: {allowed}")
        enabled = table.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ConfigError(f"{path}.enabled: expected true or false")
        if not enabled:
            found.pop(category, None)
            continue
        base = found.get(category)
        texts: dict[str, str] = {}
        for key in _SAFETY_KEYS:
            names = _NAMES if key in ("ja", "en") else frozenset()
            if key in table:
                texts[key] = _check_text(table[key], f"{path}.{key}", names)
            elif base is not None:
                texts[key] = getattr(base, key)
            elif key in ("ja", "en"):
                raise ConfigError(f"{path}.{key}: required for a category without defaults")
        found[category] = SafetyText(**texts)
    return tuple(found.items())


def _parse_templates(raw: object, where: str) -> tuple[tuple[str, tuple[str, str]], ...]:
    """`name = "text"` (used for both), or `name = { text = "...", discreet = "..." }`."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a table of named texts")
    out = []
    for name, value in raw.items():
        path = f"{where}.{name}"
        if isinstance(value, str):
            text = _check_text(value, path, _TEMPLATE_FIELDS)
            if "{program}" in text or "{program_en}" in text:
                raise ConfigError(
                    f"{path}: names the program, so it needs a neutral version for discretion:"
                    ' write { text = "...", discreet = "..." }'
                )
            out.append((name, (text, text)))
            continue
        if not isinstance(value, Mapping) or set(value) != {"text", "discreet"}:
            raise ConfigError(f'{path}: expected "text" or {{ text = "...", discreet = "..." }}')
        out.append(
            (
                name,
                (
                    _check_text(value["text"], f"{path}.text", _TEMPLATE_FIELDS),
                    _check_text(value["discreet"], f"{path}.discreet", _TEMPLATE_FIELDS - _NAMES),
                ),
            )
        )
    return tuple(out)
