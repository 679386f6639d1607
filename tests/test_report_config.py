"""[report] and [retention]: k, the unit of a consultation, targets per fiscal year by figure
id (an unknown id named), and how long bodies are kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from inbox.config import Config, load_config
from inbox.core.errors import ConfigError


@pytest.fixture(autouse=True)
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def load(text: str) -> Config:
    Path("config.toml").write_text(text, encoding="utf-8")
    return load_config(Path("config.toml"), env={})


def load_error(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load(text)
    return str(info.value)


def test_targets_by_fiscal_year_and_figure() -> None:
    cfg = load(
        '[report]\nk = 3\nconsultation_unit = "conversation_day"\n'
        '[report.targets.2025]\nconsultations = 830\n"consultations.line" = 400\n'
        "[report.targets.2026]\nconsulters = 300\n"
    )
    assert (cfg.report.k, cfg.report.consultation_unit) == (3, "conversation_day")
    assert cfg.report.targets.of(2025) == {"consultations": 830, "consultations.line": 400}
    assert cfg.report.targets.of(2026) == {"consulters": 300}
    assert cfg.report.targets.of(2024) == {}
    assert cfg.report.targets.of(None) == {}
    assert load("").report.targets.of(2025) == {}


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("[report]\nk = 0", "report.k: 1 (hide nothing) or a whole number from 3 to 1000, got 0"),
        ("[report]\nk = 2", "2 would hide nothing"),
        ('[report]\nk = "5"', "report.k: 1 (hide nothing)"),
        ('[report]\nconsultation_unit = "day"', "report.consultation_unit: must be one of"),
        ("[report.targets.2025]\nconsultaions = 1", "report.targets.2025.consultaions: unknown"),
        ("[report.targets.2025]\nconsultations = -1", "from 0 to"),
        ('[report.targets.2025]\nconsultations = "830"', "expected an integer"),
        ("[report.targets.FY2025]\nconsultations = 1", "report.targets.FY2025: a fiscal year"),
        ("[report]\ntargets = 3", "report.targets: expected a table of fiscal years"),
        ("[retention]\nbodies_days = -1", "retention.bodies_days: must be >= 0"),
    ],
)
def test_mistakes_are_named(text: str, error: str) -> None:
    assert error in load_error(text)


def test_an_unknown_figure_lists_the_known_ones() -> None:
    message = load_error("[report.targets.2025]\nreferals = 10")
    assert "unknown figure 'referals'" in message
    assert "referrals.handover" in message and "activities.outreach" in message
