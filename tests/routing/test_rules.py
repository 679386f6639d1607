"""Routing rules and urgent triage: normalization, matching, evaluation and config errors."""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inbox.core.errors import ConfigError
from inbox.core.model import ChannelKind, InboundMessage, IntakeLabels
from routing.rules import (
    DEFAULT_KEYWORDS,
    RoutingOutcome,
    Rule,
    Urgency,
    UrgentTriage,
    evaluate,
    labeler,
    triage,
    written_language,
)
from routing.rules_config import parse_rules, parse_triage
from routing.text import contains_keyword, first_keyword, haystack, normalize

FAST = settings(max_examples=60, deadline=None)
NOON = time(12, 0)
NO_TRIAGE = UrgentTriage(keywords=())


def _eval(
    rules: tuple[Rule, ...],
    text: str = "こんにちは",
    *,
    triage_cfg: UrgentTriage = NO_TRIAGE,
    channel: ChannelKind = ChannelKind.WEBCHAT,
    tags: frozenset[str] = frozenset(),
    contact: dict[str, object] | None = None,
    local_time: time = NOON,
) -> RoutingOutcome:
    return evaluate(
        rules,
        triage_cfg,
        channel=channel,
        text=text,
        tags=tags,
        contact=contact or {},
        local_time=local_time,
    )


# --- text.py --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("ＤＶ被害", "dv被害"),  # full-width letters
        ("ｼﾆﾀｲ", "しにたい"),  # half-width katakana → full-width → hiragana
        ("シニタイ", "しにたい"),
        ("ガンバル", "がんばる"),  # voiced kana stay composed
        ("１２３", "123"),
        ("  Kill\tMyself\n ", "kill myself"),
        ("死に　たい", "死に たい"),  # ideographic space collapses to one ASCII space
        ("死\u200bにたい", "死にたい"),  # zero-width space from copy-paste
        ("don’t", "don't"),  # curly apostrophe from phone keyboards
        ("STRASSE Straße", "strasse strasse"),
    ],
)
def test_normalize(raw: str, want: str) -> None:
    assert normalize(raw) == want


@pytest.mark.parametrize(
    ("text", "keyword", "hit"),
    [
        ("夫からのＤＶがひどい", "DV", True),  # full-width, no spaces around English in Japanese
        ("ｼﾆﾀｲ", "しにたい", True),
        ("もうシニタイです", "しにたい", True),
        ("死に たい", "死にたい", True),  # people type spaces inside Japanese words
        ("死 に た い", "死にたい", True),
        ("I need a new skill", "kill", False),  # English keywords are whole words
        ("kill", "kill", True),
        ("I will KILL MYSELF.", "kill myself", True),
        ("killmyself", "kill myself", False),
        ("I'm killing myself", "kill myself", False),  # own keyword: "killing myself"
        ("advice please", "dv", False),
        ("DV", "dv", True),
        ("I don’t want to live", "don't want to live", True),
        ("消えたくない", "消えたい", False),
        ("", "kill", False),
        ("anything", "", False),
    ],
)
def test_contains_keyword(text: str, keyword: str, hit: bool) -> None:
    assert contains_keyword(normalize(text), normalize(keyword)) is hit
    assert contains_keyword(haystack(normalize(text)), normalize(keyword)) is hit


_KEYWORD_PARTS = ["死に", "たい", "しにたい", "ｼﾆﾀｲ", "助けて", "DV", "kill", "me", "kill me", "ok"]
_TEXT_PARTS = [*_KEYWORD_PARTS, " ", "、", "skill", "私に対して", "a", "。"]


@FAST
@given(
    words=st.lists(st.sampled_from(_KEYWORD_PARTS), max_size=6),
    text=st.lists(st.sampled_from(_TEXT_PARTS), max_size=12).map("".join),
)
def test_first_keyword_is_the_first_listed_that_the_text_contains(
    words: list[str], text: str
) -> None:
    """The regex pre-check in first_keyword never changes its answer: the first keyword in
    list order that contains_keyword finds, or None."""
    keywords = [normalize(w) for w in words]
    hay = haystack(normalize(text))
    expected = next((k for k in keywords if contains_keyword(hay, k)), None)
    assert first_keyword(hay, keywords) == expected


@FAST
@given(st.text())
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


_ALL_DEFAULTS = [k for _, ks in DEFAULT_KEYWORDS for k in ks]


@FAST
@given(st.sampled_from(_ALL_DEFAULTS), st.text(), st.text())
def test_text_around_a_keyword_never_hides_it(keyword: str, before: str, after: str) -> None:
    assert contains_keyword(normalize(f"{before} {keyword} {after}"), normalize(keyword))


_JA_NOISE = st.text(st.sampled_from("あいうえおかきくけこ今日はとても疲れた。、!?ABCxyz123"))


@FAST
@given(st.sampled_from([k for k in _ALL_DEFAULTS if not k.isascii()]), _JA_NOISE, _JA_NOISE)
def test_japanese_keywords_match_without_spaces_around(
    keyword: str, before: str, after: str
) -> None:
    assert contains_keyword(normalize(before + keyword + after), normalize(keyword))


# --- triage ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("もう死にたいです", Urgency(category="suicide_risk", keyword="死にたい")),
        ("ｼﾆﾀｲ", Urgency(category="suicide_risk", keyword="しにたい")),
        ("消えてしまいたい", Urgency(category="suicide_risk", keyword="消えてしまいたい")),
        ("I want to die", Urgency(category="suicide_risk", keyword="want to die")),
        ("夫に殴られました", Urgency(category="immediate_danger", keyword="殴られ")),
        ("He said he WILL kill me", Urgency(category="immediate_danger", keyword="will kill me")),
        ("助けて", Urgency(category="immediate_danger", keyword="助けて")),
        ("住民票の取り方を教えてください", None),
        ("Can you help me with the form?", None),
        ("My skills are rusty", None),
    ],
)
def test_default_triage(text: str, want: Urgency | None) -> None:
    assert triage(UrgentTriage(), text) == want


@pytest.mark.parametrize(
    "text",
    [
        "住民票の取り方を教えてください",
        "来週の面談の日時を変更したいです",
        "子どもの学校のことで相談があります",
        "夫との関係に悩んでいます",
        "手続きを手伝ってもらえますか",
        "I would like to book an appointment",
        "Can you help me with the form?",
        "This heat is killing me, lol",
        "I'm dying to know the result",
        "It hits me that I forgot the deadline",
    ],
)
def test_default_triage_stays_quiet_on_ordinary_messages(text: str) -> None:
    assert triage(UrgentTriage(), text) is None


def test_default_keywords_are_normalized_and_unique() -> None:
    for _, keywords in UrgentTriage().keywords:
        assert all(k and normalize(k) == k for k in keywords)
        assert len(set(keywords)) == len(keywords)


def test_triage_checks_categories_in_order() -> None:
    # Both categories hit; the first listed wins, so suicide risk is named.
    got = triage(UrgentTriage(), "殴られて、もう死にたい")
    assert got == Urgency(category="suicide_risk", keyword="死にたい")


# --- evaluate -------------------------------------------------------------------------------


def test_empty_rules_and_no_urgency_is_normal() -> None:
    assert _eval((), triage_cfg=UrgentTriage()) == RoutingOutcome(
        priority=0,
        skill=None,
        team=None,
        language=None,
        tags=frozenset(),
        auto_replies=(),
        notify_supervisors=False,
        urgency=None,
        matched=(),
    )


def test_urgent_raises_priority_tags_and_notifies_even_without_rules() -> None:
    got = _eval((), "もうシニタイ", triage_cfg=UrgentTriage(priority=90))
    assert got.priority == 90
    assert got.tags == {"urgent", "suicide_risk"}
    assert got.notify_supervisors
    assert got.urgency == Urgency(category="suicide_risk", keyword="しにたい")


def test_text_is_normalized_once_per_evaluate(monkeypatch: pytest.MonkeyPatch) -> None:
    rules = tuple(Rule(name=str(i), keywords_any=("dv",), skill="dv") for i in range(5))
    urgent = UrgentTriage()  # built before patching: its keywords are normalized once, here
    calls: list[str] = []

    def counting(text: str) -> str:
        calls.append(text)
        return normalize(text)

    monkeypatch.setattr("routing.rules.normalize", counting)
    assert _eval(rules, "ＤＶ", triage_cfg=urgent).matched == tuple("01234")
    assert calls == ["ＤＶ"]


def test_rules_apply_in_order_first_skill_wins_and_stop_ends() -> None:
    rules = (
        Rule(
            name="dv",
            keywords_any=("DV", "殴られ"),
            skill="dv",
            priority=50,
            add_tags=frozenset({"dv"}),
        ),
        Rule(
            name="ja", contact=(("language", "ja"),), skill="general", team="north", language="ja"
        ),
        Rule(
            name="reply", auto_reply="ack", add_tags=frozenset({"seen"}), language="en", stop=True
        ),
        Rule(name="never", skill="late", priority=999),
    )
    got = _eval(rules, "ＤＶの相談です", contact={"language": "ja"})
    assert got.matched == ("dv", "ja", "reply")
    assert (got.skill, got.team, got.priority, got.language) == ("dv", "north", 50, "ja")
    assert got.tags == {"dv", "seen"}
    assert got.auto_replies == ("ack",)


def test_auto_replies_keep_rule_order_without_duplicates_and_notify_is_any() -> None:
    rules = (
        Rule(name="a", auto_reply="ack"),
        Rule(name="b", auto_reply="night", notify_supervisors=True),
        Rule(name="c", auto_reply="ack"),
    )
    got = _eval(rules)
    assert got.auto_replies == ("ack", "night")
    assert got.notify_supervisors


def test_rules_see_tags_from_triage_and_earlier_rules() -> None:
    rules = (
        Rule(
            name="crisis",
            tags_any=frozenset({"urgent"}),
            skill="crisis",
            add_tags=frozenset({"crisis"}),
        ),
        Rule(name="follow", tags_any=frozenset({"crisis"}), team="night"),
    )
    got = _eval(rules, "want to die", triage_cfg=UrgentTriage())
    assert got.matched == ("crisis", "follow")
    assert (got.skill, got.team, got.priority) == ("crisis", "night", 100)


def test_incoming_tags_match_but_are_not_repeated() -> None:
    rule = Rule(name="vip", tags_any=frozenset({"returning", "vip"}), priority=5)
    assert _eval((rule,), tags=frozenset({"vip"})).matched == ("vip",)
    assert _eval((rule,), tags=frozenset({"vip"})).tags == frozenset()
    assert _eval((rule,), tags=frozenset({"other"})).matched == ()


def test_channels() -> None:
    rule = Rule(name="line", channels=frozenset({ChannelKind.LINE, ChannelKind.SMS}), team="m")
    assert _eval((rule,), channel=ChannelKind.LINE).matched == ("line",)
    assert _eval((rule,), channel=ChannelKind.MAIL).matched == ()


@pytest.mark.parametrize(
    ("contact", "hit"),
    [
        ({"language": "en", "returning": True}, True),
        ({"language": "en", "returning": True, "extra": 1}, True),
        ({"language": "ja", "returning": True}, False),
        ({"language": "en"}, False),  # a missing attribute does not match
        ({"language": "en", "returning": 1}, False),  # 1 is not true
        ({"language": "en", "returning": "true"}, False),
    ],
)
def test_contact_attributes(contact: dict[str, object], hit: bool) -> None:
    rule = Rule(name="en", contact=(("language", "en"), ("returning", True)), skill="english")
    assert bool(_eval((rule,), contact=contact).matched) is hit


def test_contact_int_is_not_bool() -> None:
    rule = Rule(name="n", contact=(("visits", 1),), skill="s")
    assert _eval((rule,), contact={"visits": 1}).matched == ("n",)
    assert _eval((rule,), contact={"visits": True}).matched == ()


@pytest.mark.parametrize(
    ("clock", "hit"),
    [
        (time(22, 0), True),
        (time(23, 59, 59), True),
        (time(0, 0), True),
        (time(4, 59), True),
        (time(5, 0), False),  # the end is exclusive
        (time(12, 0), False),
        (time(21, 59), False),
        (time(23, 0, tzinfo=UTC), True),  # an aware time is read as local wall-clock time
    ],
)
def test_hours_wrap_midnight(clock: time, hit: bool) -> None:
    rule = Rule(name="night", hours=(time(22), time(5)), auto_reply="night")
    assert bool(_eval((rule,), local_time=clock).matched) is hit


@pytest.mark.parametrize(
    ("clock", "hit"), [(time(8, 59), False), (time(9), True), (time(17), False)]
)
def test_hours_within_a_day(clock: time, hit: bool) -> None:
    rule = Rule(name="day", hours=(time(9), time(17)), team="day")
    assert bool(_eval((rule,), local_time=clock).matched) is hit


def test_all_criteria_must_hold() -> None:
    rule = Rule(
        name="dv-night",
        channels=frozenset({ChannelKind.LINE}),
        keywords_any=("暴力",),
        contact=(("language", "ja"),),
        hours=(time(22), time(5)),
        skill="dv",
    )
    ok: dict[str, Any] = {
        "channel": ChannelKind.LINE,
        "text": "暴力がこわい",
        "contact": {"language": "ja"},
        "local_time": time(23),
    }
    assert _eval((rule,), **ok).matched == ("dv-night",)
    for key, bad in [
        ("channel", ChannelKind.MAIL),
        ("text", "こんばんは"),
        ("contact", {"language": "en"}),
        ("local_time", time(12)),
    ]:
        assert _eval((rule,), **(ok | {key: bad})).matched == (), key


_POOL = ["dv", "暴力", "しにたい", "kill", "help", "ねむれない"]
_rules = st.lists(
    st.builds(
        Rule,
        name=st.uuids().map(str),
        channels=st.frozensets(st.sampled_from(list(ChannelKind)), max_size=2),
        keywords_any=st.lists(st.sampled_from(_POOL), max_size=2).map(tuple),
        tags_any=st.frozensets(st.sampled_from(["urgent", "dv", "x"]), max_size=1),
        priority=st.none() | st.integers(0, 200),
        add_tags=st.frozensets(st.sampled_from(["dv", "x", "y"]), max_size=2),
        stop=st.booleans(),
    ),
    max_size=6,
)


@FAST
@given(
    _rules,
    st.lists(st.sampled_from([*_POOL, "skill", "今日", " "]), max_size=6).map("".join),
    st.sampled_from(list(ChannelKind)),
)
def test_priority_dominates_every_matched_rule(
    rules: list[Rule], text: str, channel: ChannelKind
) -> None:
    got = _eval(tuple(rules), text, triage_cfg=UrgentTriage(), channel=channel)
    by_name = {r.name: r for r in rules}
    assert all(got.priority >= (by_name[n].priority or 0) for n in got.matched)
    assert got.urgency is None or got.priority >= 100
    # matched names follow rule order, and nothing matches after a rule that stops
    order = [r.name for r in rules]
    positions = [order.index(n) for n in got.matched]
    assert positions == sorted(positions)
    assert not any(by_name[n].stop for n in got.matched[:-1])


# --- parse_rules ----------------------------------------------------------------------------

EXAMPLE = """
[routing.urgent]
priority = 100
use_defaults = true  # add to the built-in lists instead of replacing them
[routing.urgent.keywords]
suicide_risk = ["ＯＤした"]
stalking = ["つけられている", "followed me home"]

[[routing.rules]]
name = "dv"
[routing.rules.match]
channels = ["line", "webchat"]
keywords = ["DV", "暴力", "殴られ"]
hours = "22:00-05:00"
[routing.rules.then]
skill = "dv"
priority = 50
tags = ["dv"]
auto_reply = "dv_safety"
notify_supervisors = true

[[routing.rules]]
name = "english"
match = { contact = { language = "en", returning = true } }
then = { skill = "english", team = "international", language = "en" }

[[routing.rules]]
name = "everything"
match = {}  # a catch-all must say so
then = { auto_reply = "ack", stop = true }
"""


def test_parse_example() -> None:
    routing = tomllib.loads(EXAMPLE)["routing"]
    rules = parse_rules(routing["rules"])
    assert rules[0] == Rule(
        name="dv",
        channels=frozenset({ChannelKind.LINE, ChannelKind.WEBCHAT}),
        keywords_any=("dv", "暴力", "殴られ"),
        hours=(time(22), time(5)),
        skill="dv",
        priority=50,
        add_tags=frozenset({"dv"}),
        auto_reply="dv_safety",
        notify_supervisors=True,
    )
    assert rules[1].contact == (("language", "en"), ("returning", True))
    assert (rules[1].skill, rules[1].language) == ("english", "en")
    assert rules[2] == Rule(name="everything", auto_reply="ack", stop=True)
    urgent = parse_triage(routing["urgent"])
    cats = dict(urgent.keywords)
    assert cats["suicide_risk"][-1] == "odした"
    assert cats["stalking"] == ("つけられている", "followed me home")
    assert list(cats)[:2] == ["suicide_risk", "immediate_danger"]
    got = _eval(
        rules, "ＤＶ、殴られた", triage_cfg=urgent, channel=ChannelKind.LINE, local_time=time(23)
    )
    assert got.matched == ("dv", "everything")
    assert _eval(rules, "ＤＶ", channel=ChannelKind.LINE, local_time=NOON).matched == (
        "everything",
    )
    assert got.urgency == Urgency(category="immediate_danger", keyword="殴られ")


def test_parse_triage_defaults() -> None:
    assert parse_triage(None) == UrgentTriage()
    assert parse_triage({}) == UrgentTriage()
    only = parse_triage({"use_defaults": False, "keywords": {"self_harm": ["リスカ"]}})
    assert only.keywords == (("self_harm", ("りすか",)),)


R = 'routing.rules[0] ("dv")'


def _raw_rule(**parts: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {"name": "dv", "match": {"keywords": ["DV"]}, "then": {"skill": "dv"}}
    for key, value in parts.items():
        section, _, field = key.partition("__")
        if field:
            rule[section][field] = value
        else:
            rule[section] = value
    return rule


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"name": "x"}, "routing.rules: must be a list of tables ([[routing.rules]]), got a table"),
        (["x"], "routing.rules[0]: must be a table, got a string"),
        ([{"match": {}, "then": {"skill": "s"}}], "routing.rules[0].name: missing"),
        ([_raw_rule(name=" ")], 'routing.rules[0].name: must be a non-empty string, got " "'),
        ([_raw_rule(name=3)], "routing.rules[0].name: must be a non-empty string, got 3"),
        ([_raw_rule(when={})], f'{R}.when: unknown key (did you mean "then"? allowed: name, match'),
        ([{"name": "dv", "then": {"skill": "s"}}], f"{R}.match: missing (write match = {{}}"),
        ([{"name": "dv", "match": {}}], f"{R}.then: missing"),
        ([_raw_rule(match=[])], f"{R}.match: must be a table, got a list"),
        ([_raw_rule(match__chanels=[])], f'{R}.match.chanels: unknown key (did you mean "chan'),
        ([_raw_rule(match__channels="line")], f"{R}.match.channels: must be a list of strings"),
        (
            [_raw_rule(match__channels=["line", "fax"])],
            f'{R}.match.channels: "fax" is not a channel (one of: webchat, mail, sms, line, phone)',
        ),
        ([_raw_rule(match__keywords=["DV", 1])], f"{R}.match.keywords[1]: must be a non-empty"),
        ([_raw_rule(match__keywords=["\u200b"])], f"{R}.match.keywords[0]: " + '"\u200b" has no'),
        ([_raw_rule(match__tags=[""])], f'{R}.match.tags[0]: must be a non-empty string, got ""'),
        ([_raw_rule(match__contact=["en"])], f"{R}.match.contact: must be a table, got a list"),
        (
            [_raw_rule(match__contact={"age": 1.5})],
            f"{R}.match.contact.age: unknown key (allowed: channel, language, returning,",
        ),
        (
            [_raw_rule(match__contact={"returnin": True})],
            f'{R}.match.contact.returnin: unknown key (did you mean "returning"?',
        ),
        (
            [_raw_rule(match__contact={"language": ["en"]})],
            f"{R}.match.contact.language: must be a string",
        ),
        (
            [_raw_rule(match__contact={"returning": 1})],
            f"{R}.match.contact.returning: must be true or false, got 1",
        ),
        (
            [_raw_rule(match__contact={"discretion": "yes"})],
            f'{R}.match.contact.discretion: must be true or false, got "yes"',
        ),
        (
            [_raw_rule(match__contact={"anonymity": "secret"})],
            f"{R}.match.contact.anonymity: must be one of anonymous, pseudonymous, identified, "
            'got "secret"',
        ),
        (
            [_raw_rule(match__contact={"channel": "fax"})],
            f'{R}.match.contact.channel: "fax" is not a channel',
        ),
        ([_raw_rule(match__hours="22-5")], f'{R}.match.hours: must be "HH:MM-HH:MM"'),
        ([_raw_rule(match__hours="24:00-05:00")], f'{R}.match.hours: must be "HH:MM-HH:MM"'),
        ([_raw_rule(match__hours=["22:00", "05:00"])], f'{R}.match.hours: must be "HH:MM-HH:MM"'),
        ([_raw_rule(match__hours="09:00-09:00")], f"{R}.match.hours: 09:00-09:00 is an empty"),
        ([_raw_rule(then__skil="x")], f'{R}.then.skil: unknown key (did you mean "skill"?'),
        ([_raw_rule(then__skill="")], f'{R}.then.skill: must be a non-empty string, got ""'),
        ([_raw_rule(then__team=1)], f"{R}.then.team: must be a non-empty string, got 1"),
        ([_raw_rule(then__priority="50")], f'{R}.then.priority: must be an integer, got "50"'),
        ([_raw_rule(then__priority=True)], f"{R}.then.priority: must be an integer, got true"),
        ([_raw_rule(then__priority=-1)], f"{R}.then.priority: must be at least 0, got -1"),
        ([_raw_rule(then__tags="dv")], f"{R}.then.tags: must be a list of strings, got a string"),
        ([_raw_rule(then__auto_reply=1)], f"{R}.then.auto_reply: must be a non-empty string"),
        (
            [_raw_rule(then__notify_supervisors="yes")],
            f'{R}.then.notify_supervisors: must be true or false, got "yes"',
        ),
        ([_raw_rule(then__stop=1)], f"{R}.then.stop: must be true or false, got 1"),
        ([_raw_rule(then={})], f"{R}.then: no action (set one of: skill, team, language, priority"),
        ([_raw_rule(then={"stop": False})], f"{R}.then: no action"),
        ([_raw_rule(then={"notify_supervisors": False})], f"{R}.then: no action"),
        (
            [_raw_rule(name="a"), _raw_rule(name="dv"), _raw_rule(name="dv")],
            'routing.rules[2] ("dv").name: duplicate of routing.rules[1]',
        ),
    ],
)
def test_parse_rules_errors_name_the_rule_and_field(raw: object, message: str) -> None:
    with pytest.raises(ConfigError, match="^" + re.escape(message)):
        parse_rules(raw)


def test_parse_rules_uses_the_given_path_and_accepts_actions_alone() -> None:
    with pytest.raises(ConfigError, match=re.escape('programs.a.rules[0] ("dv").match.hours')):
        parse_rules([_raw_rule(match__hours="x")], where="programs.a.rules")
    assert parse_rules([_raw_rule(then={"stop": True})])[0].stop
    assert parse_rules([_raw_rule(then={"notify_supervisors": True})])[0].notify_supervisors
    assert parse_rules([_raw_rule(then={"priority": 0})])[0].priority == 0
    assert parse_rules([]) == ()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "routing.urgent: must be a table, got a list"),
        ({"prio": 1}, 'routing.urgent.prio: unknown key (did you mean "priority"? allowed'),
        ({"priority": 0}, "routing.urgent.priority: must be at least 1, got 0"),
        ({"priority": 1.5}, "routing.urgent.priority: must be an integer, got 1.5"),
        ({"use_defaults": "no"}, 'routing.urgent.use_defaults: must be true or false, got "no"'),
        ({"keywords": ["死にたい"]}, "routing.urgent.keywords: must be a table, got a list"),
        ({"keywords": {"Self Harm": ["x"]}}, "routing.urgent.keywords.Self Harm: not a valid"),
        ({"keywords": {"self_harm": "x"}}, "routing.urgent.keywords.self_harm: must be a list"),
        ({"keywords": {"self_harm": [""]}}, "routing.urgent.keywords.self_harm[0]: must be a non"),
        ({"use_defaults": False}, "routing.urgent.keywords: no keywords, so urgent triage would"),
    ],
)
def test_parse_triage_errors_name_the_field(raw: object, message: str) -> None:
    with pytest.raises(ConfigError, match="^" + re.escape(message)):
        parse_triage(raw)


def test_labeler_reads_rule_hours_in_the_program_time_zone() -> None:
    night = Rule(name="night", hours=(time(22), time(5)), team="night", notify_supervisors=True)
    label = labeler([night], UrgentTriage(), ZoneInfo("Asia/Tokyo"))

    def msg(utc_hour: int, body: str = "相談です") -> InboundMessage:
        return InboundMessage(
            channel=ChannelKind.LINE,
            external_id="x",
            sender="U1",
            body=body,
            received_at=datetime(2026, 11, 22, utc_hour, tzinfo=UTC),
        )

    # 14:00 UTC is 23:00 in Tokyo: the night rule; 03:00 UTC is noon: nothing.
    assert label(msg(14)) == IntakeLabels(team="night", alert="rules:night")
    assert label(msg(3)) == IntakeLabels()
    urgent = label(msg(3, "殺される"))
    assert urgent.priority == 100 and urgent.alert == "immediate_danger"
    assert urgent.tags == {"urgent", "immediate_danger"}


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("夫のことで相談です", "ja"),
        ("ｶﾀｶﾅだけ", "ja"),
        ("I need help with my husband", "en"),
        ("Hello 😊", "en"),
        ("12345 😊", None),
        ("", None),
    ],
)
def test_written_language(text: str, language: str | None) -> None:
    assert written_language(text) == language


def test_labeler_knows_the_language_and_channel_before_storing() -> None:
    english = Rule(name="en", contact=(("language", "en"),), team="international")
    line = Rule(name="line", contact=(("channel", "line"),), add_tags=frozenset({"line"}))
    label = labeler([english, line], UrgentTriage(), ZoneInfo("Asia/Tokyo"))

    def msg(body: str, channel: ChannelKind = ChannelKind.WEBCHAT) -> InboundMessage:
        return InboundMessage(
            channel=channel,
            external_id="x",
            sender="s",
            body=body,
            received_at=datetime(2026, 11, 22, 3, tzinfo=UTC),
        )

    assert label(msg("Can someone talk with me?")).team == "international"
    assert label(msg("話を聞いてください")).team is None
    assert label(msg("話を聞いてください", ChannelKind.LINE)).tags == {"line"}
