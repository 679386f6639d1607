"""[phone]: the call outcomes, referrals and callback retry rule, checked at start naming the
key; the example file's section equals the defaults (tests/test_config.py loads it whole)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from inbox.config import load_config
from inbox.core.calls import DEFAULT_CALL_OUTCOMES
from inbox.phone_config import DEFAULT_REFERRALS
from routing.callbacks import DEFAULT_RETRY
from tests.test_config import EXAMPLE, cwd, load, load_error

__all__ = ["cwd"]  # the fixture, used by name


def test_the_defaults_are_japanese_and_the_example_writes_them_out(cwd: Path) -> None:
    phone = load_config(None, env={}).phone
    assert phone.outcomes == DEFAULT_CALL_OUTCOMES and phone.retry == DEFAULT_RETRY
    assert phone.referrals == DEFAULT_REFERRALS
    assert {r.id: r.ja for r in phone.referrals}["dv_center"] == "配偶者暴力相談支援センター"
    assert {r.id for r in phone.referrals} >= {"police", "child_guidance", "welfare", "other"}
    assert "[phone]" in EXAMPLE.read_text(encoding="utf-8")
    assert load_config(EXAMPLE, env={}).phone == phone


def test_the_lists_and_the_rule_are_data(cwd: Path) -> None:
    cfg = load(
        "[phone]\n"
        'outcomes = [{ id = "ok", ja = "通話", en = "Talked", reached = true },'
        ' { id = "none", ja = "不在", en = "Nobody" }]\n'
        'referrals = [{ id = "city", ja = "市役所", en = "City hall" }]\n'
        "retry = { tries = 2, over_hours = 24, min_gap_min = 60 }\n"
    )
    assert [(o.id, o.reached) for o in cfg.phone.outcomes] == [("ok", True), ("none", False)]
    assert cfg.phone.referral_ids() == {"city"} and cfg.phone.outcome_ids() == {"ok", "none"}
    rule = cfg.phone.retry
    assert (rule.tries, rule.period, rule.min_gap) == (2, timedelta(hours=24), timedelta(hours=1))
    assert load("[phone]\nreferrals = []\n").phone.referrals == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('outcomes = [{ id = "x", ja = "x", en = "x" }]', "phone.outcomes: mark at least one"),
        ("outcomes = []", "phone.outcomes: expected a non-empty list"),
        (
            'outcomes = [{ id = "x", ja = "x", en = "x", reached = "yes" }]',
            "phone.outcomes[0].reached: expected true or false",
        ),
        (
            'outcomes = [{ id = "x", ja = "x", en = "x", color = 1 }]',
            "phone.outcomes[0].color: unknown key",
        ),
        ('referrals = [{ id = "Police", ja = "警察", en = "P" }]', "phone.referrals[0].id"),
        ('referrals = [{ id = "police", ja = "警察" }]', "phone.referrals[0]: expected"),
        ("retry = { tries = 0 }", "phone.retry.tries: expected a whole number >= 1"),
        ("retry = { tries = 3, over_hours = 1 }", "phone.retry.min_gap_min: 3 tries"),
        ("retry = { attempts = 3 }", "phone.retry.attempts: unknown key"),
        ("retri = 3", "phone.retri: unknown key (did you mean 'retry'?)"),
    ],
)
def test_bad_phone_entries_are_named(cwd: Path, text: str, expected: str) -> None:
    assert expected in load_error(f"[phone]\n{text}\n")
