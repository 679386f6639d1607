"""Routing rules and urgent triage: which skill, team, priority, tags and auto-replies a message
gets, from config.toml's [routing] tables.

Pure: the message, its contact and the local time arrive as arguments; no I/O, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import time
from zoneinfo import ZoneInfo

from inbox.core.model import (
    NEW_SENDER,
    NO_LABELS,
    ChannelKind,
    ContactFacts,
    InboundMessage,
    IntakeLabels,
)
from routing.text import Haystack, first_keyword, haystack, keyword_screen, normalize

ContactValue = str | int | bool
# The contact attributes rules can match, with the kind of value each holds. `channel` and
# `language` are read off the message; the others are what the store knows of her
# (ContactFacts), looked up just before her message is stored, and only when a rule asks.
CONTACT_ATTRIBUTES: dict[str, type] = {
    "channel": str,
    "language": str,
    "returning": bool,  # she had a conversation with us before, now closed
    "discretion": bool,  # she asked for neutral wording
    "anonymity": str,  # her own setting (anonymous/pseudonymous/identified), if she has one
}
STORED_ATTRIBUTES = frozenset({"returning", "discretion", "anonymity"})
URGENT_TAG = "urgent"
# Kana (incl. half-width) and the common kanji block: enough to tell Japanese from English.
_JAPANESE = re.compile("[\u3040-\u30ff\u4e00-\u9fff\uff66-\uff9f]")
_LATIN = re.compile("[A-Za-z]")

# Urgent triage lists phrases that say a life is at risk now, and only those: a false alarm
# costs a supervisor a glance and a miss can cost a life, but a list that fires on every message
# teaches people to ignore it. Topics (DV, 虐待, debt) go to skills through routing rules.
# Katakana is matched as hiragana, so one kana entry covers シニタイ and ｼﾆﾀｲ; kanji and kana
# spellings need separate entries. English entries match whole words only.
SUICIDE_RISK = (
    # Suicidal ideation as people write it, in kanji and in kana. しにたい also fires on a
    # kana-only わたしにたいして (私に対して): accepted, the cost of catching ｼﾆﾀｲ.
    *("死にたい", "しにたい", "消えたい", "きえたい", "消えてしまいたい", "いなくなりたい"),
    *("生きていたくない", "生きたくない", "死ぬしかない", "死のうと思"),
    # Plans and means; self-harm (リストカット, OD) is listed because it often precedes an attempt.
    *("自殺", "じさつ", "首を吊", "首吊り", "飛び降り", "遺書", "リストカット", "オーバードーズ"),
    *("kill myself", "killing myself", "want to die", "wanna die", "end my life"),
    *("take my own life", "better off dead", "suicide", "suicidal", "overdose", "self-harm"),
)
IMMEDIATE_DANGER = (
    # Violence or threats against the writer now (DV, abuse, stalking). 首を締め is the common
    # miswriting of 首を絞め. Not 叩かれ: it mostly means "flamed online".
    *("殺される", "ころされる", "殺すと言われ", "殴られ", "蹴られ", "首を絞め", "首を締め"),
    *("閉じ込められ", "will kill me", "going to kill me", "gonna kill me", "threatened to kill"),
    *("beating me", "he hits me", "afraid for my life", "not safe at home"),
    # Pleas. 助けて is rare in ordinary requests (those say 教えて / 手伝って); 逃げたい is broad
    # (仕事から逃げたい) but in a counseling inbox any wish to escape deserves a quick look.
    # English "help me" is not listed: "can you help me with the form" is the daily norm.
    *("助けて", "たすけて", "逃げたい"),
)
DEFAULT_KEYWORDS = (("suicide_risk", SUICIDE_RISK), ("immediate_danger", IMMEDIATE_DANGER))


@dataclass(frozen=True, slots=True, kw_only=True)
class Urgency:
    """Why a message is urgent: the category and the configured keyword, never the text."""

    category: str
    keyword: str


@dataclass(frozen=True, slots=True, kw_only=True)
class UrgentTriage:
    """Keyword lists by category, checked in order; the first hit makes a message urgent."""

    keywords: tuple[tuple[str, tuple[str, ...]], ...] = DEFAULT_KEYWORDS
    priority: int = 100
    # Every keyword of every category, for the one scan that clears most messages (_triage).
    screen: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Normalized once here, not per message; normalize is idempotent, so this is safe twice.
        norm = tuple((c, tuple(normalize(k) for k in ks)) for c, ks in self.keywords)
        object.__setattr__(self, "keywords", norm)
        object.__setattr__(self, "screen", keyword_screen(k for _, ks in norm for k in ks))


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """Match criteria (all given ones must hold; an empty one matches anything) and actions."""

    name: str
    channels: frozenset[ChannelKind] = frozenset()
    keywords_any: tuple[str, ...] = ()
    tags_any: frozenset[str] = frozenset()
    contact: tuple[tuple[str, ContactValue], ...] = ()
    hours: tuple[time, time] | None = None  # local [start, end); start > end wraps midnight
    skill: str | None = None
    team: str | None = None
    language: str | None = None  # only counselors who speak it, e.g. "en" (User.languages)
    priority: int | None = None  # raise the priority to at least this
    add_tags: frozenset[str] = frozenset()
    auto_reply: str | None = None  # template name
    notify_supervisors: bool = False
    stop: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "keywords_any", tuple(normalize(k) for k in self.keywords_any))


@dataclass(frozen=True, slots=True, kw_only=True)
class RoutingOutcome:
    priority: int
    skill: str | None
    team: str | None
    language: str | None
    tags: frozenset[str]  # to add to the conversation; the incoming tags are not repeated
    auto_replies: tuple[str, ...]
    notify_supervisors: bool
    urgency: Urgency | None
    matched: tuple[str, ...]  # rule names, in order


def triage(t: UrgentTriage, text: str) -> Urgency | None:
    spaced = normalize(text)
    compact = spaced.replace(" ", "")
    # The common answer without building a Haystack: no keyword at all (see _triage).
    if t.screen is None or t.screen.search(compact) is None:
        return None
    return _triage(t, Haystack(spaced, compact, spaced.isascii()))


def _triage(t: UrgentTriage, hay: Haystack) -> Urgency | None:
    # One scan for every category's keywords clears most messages; a hit can be a false one
    # (keyword_screen), so first_keyword decides, category by category.
    if t.screen is None or t.screen.search(hay.compact) is None:
        return None
    for category, keywords in t.keywords:
        keyword = first_keyword(hay, keywords)
        if keyword is not None:
            return Urgency(category=category, keyword=keyword)
    return None


def evaluate(
    rules: Sequence[Rule],
    triage: UrgentTriage,
    *,
    channel: ChannelKind,
    text: str,
    tags: frozenset[str],
    contact: Mapping[str, object],
    local_time: time,
) -> RoutingOutcome:
    """Triage, then every rule in order until one says stop.

    Triage runs first and no rule can skip it. Rules see the incoming tags plus those added by
    triage and by earlier rules, so `match.tags = ["urgent"]` can send urgent messages to a
    crisis skill. The first rule that sets a skill (or team, or language) decides it.
    """
    hay = haystack(normalize(text))  # normalized once; every keyword check reuses it
    urgency = _triage(triage, hay)
    added = {URGENT_TAG, urgency.category} if urgency else set()
    priority = triage.priority if urgency else 0
    notify = urgency is not None
    skill: str | None = None
    team: str | None = None
    language: str | None = None
    replies: list[str] = []
    matched: list[str] = []
    clock = local_time.replace(tzinfo=None)  # aware and naive times do not compare
    for rule in rules:
        if not _matches(rule, channel, hay, tags | added, contact, clock):
            continue
        matched.append(rule.name)
        priority = max(priority, rule.priority or 0)
        skill = skill or rule.skill
        team = team or rule.team
        language = language or rule.language
        added |= rule.add_tags
        if rule.auto_reply is not None and rule.auto_reply not in replies:
            replies.append(rule.auto_reply)
        notify = notify or rule.notify_supervisors
        if rule.stop:
            break
    return RoutingOutcome(
        priority=priority,
        skill=skill,
        team=team,
        language=language,
        tags=frozenset(added),
        auto_replies=tuple(replies),
        notify_supervisors=notify,
        urgency=urgency,
        matched=tuple(matched),
    )


def intake_labels(outcome: RoutingOutcome) -> IntakeLabels:
    """What intake stores with the message: an urgent category, or the matched rules when one
    of them asked to notify supervisors, becomes the alert."""
    alert = None
    if outcome.urgency is not None:
        alert = outcome.urgency.category
    elif outcome.notify_supervisors:
        alert = "rules:" + ",".join(outcome.matched)
    return IntakeLabels(
        priority=outcome.priority,
        skill=outcome.skill,
        team=outcome.team,
        language=outcome.language,
        tags=outcome.tags,
        alert=alert,
        auto_replies=outcome.auto_replies,
    )


def written_language(text: str) -> str | None:
    """ "ja" when the text has kana or kanji, "en" when it has Latin letters and no Japanese,
    None otherwise (emoji, digits). A routing hint, not language identification: a consulter
    writing in romaji is taken for "en"."""
    if not text.isascii() and _JAPANESE.search(text):
        return "ja"
    return "en" if _LATIN.search(text) else None


def intake_contact(msg: InboundMessage, facts: ContactFacts) -> dict[str, ContactValue]:
    contact: dict[str, ContactValue] = {
        "channel": msg.channel.value,
        "returning": facts.returning,
        "discretion": facts.discretion,
    }
    if (language := written_language(msg.body)) is not None:
        contact["language"] = language
    if facts.anonymity is not None:
        contact["anonymity"] = facts.anonymity.value
    return contact


@dataclass(frozen=True, slots=True)
class Labeler:
    """The intake's labeling step (inbox.pipeline.Labeler): triage and rules over one message,
    at its local arrival time, with what the store knows of its sender."""

    rules: Sequence[Rule]
    urgent: UrgentTriage
    tz: ZoneInfo

    @property
    def needs_facts(self) -> bool:
        """Whether some rule matches a stored attribute: only then does the intake look the
        senders up before storing their messages."""
        return any(attr in STORED_ATTRIBUTES for r in self.rules for attr, _ in r.contact)

    def __call__(self, msg: InboundMessage, facts: ContactFacts = NEW_SENDER) -> IntakeLabels:
        # Without rules, most messages are not urgent: answer those without building an outcome.
        if not self.rules and triage(self.urgent, msg.body) is None:
            return NO_LABELS
        outcome = evaluate(
            self.rules,
            self.urgent,
            channel=msg.channel,
            text=msg.body,
            tags=frozenset(),
            contact=intake_contact(msg, facts),
            local_time=msg.received_at.astimezone(self.tz).time(),
        )
        return intake_labels(outcome)


def labeler(rules: Sequence[Rule], urgent: UrgentTriage, tz: ZoneInfo) -> Labeler:
    return Labeler(tuple(rules), urgent, tz)


def _matches(
    rule: Rule,
    channel: ChannelKind,
    hay: Haystack,
    tags: frozenset[str],
    contact: Mapping[str, object],
    clock: time,
) -> bool:
    # Cheapest checks first; the keyword search scans the text.
    return (
        (not rule.channels or channel in rule.channels)
        and (not rule.tags_any or not rule.tags_any.isdisjoint(tags))
        and all(_same(contact.get(attr), want) for attr, want in rule.contact)
        and (rule.hours is None or _within(clock, *rule.hours))
        and (not rule.keywords_any or first_keyword(hay, rule.keywords_any) is not None)
    )


def _same(got: object, want: ContactValue) -> bool:
    # Strict about bool vs int: True == 1 in Python, but returning = true is not count = 1.
    if isinstance(want, bool) or isinstance(got, bool):
        return got is want
    return isinstance(got, type(want)) and got == want


def _within(clock: time, start: time, end: time) -> bool:
    if start < end:
        return start <= clock < end
    return clock >= start or clock < end  # wraps midnight, e.g. 22:00-05:00


# --- parsing config.toml ------------------------------------------------------------------
