"""`tsunagu bench email` end to end with a tiny mailbox: every mail stored, decoded exactly and
flagged handled, and the output's shape. Never its timings."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from inbox.tools.bench_email import run_email_bench
from inbox.tools.dovecot import find_dovecot
from tests import pgutil, skips
from tests.mailservers import HOW_TO_ENABLE

pytestmark = [pytest.mark.mail, pytest.mark.timeout(180)]
N = 30
RATIO = r"\d+\.\d{3}"
STORED = re.compile(
    r"verified\s+stored (\d+)/(\d+) mails, (\d+)/(\d+) decoded exactly, "
    r"(\d+) conversations for (\d+) senders, (\d+) in one each$"
)
FLAGGED = re.compile(
    r"verified\s+(\d+)/(\d+) flagged handled \(\S+\); catch_up reported (\d+) new$"
)
FIGURE = re.compile(r"^  (baseline fetch|intake)\s+\d+\.\d{3} s\s+\d+ msg/s")


@pytest.fixture(autouse=True)
def built_in_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no ./config.toml: the built-in intake settings
    monkeypatch.delenv("TSUNAGU_CONFIG", raising=False)
    if find_dovecot() is None:
        skips.skip_or_fail("Dovecot is not installed", HOW_TO_ENABLE)


def bench(capsys: pytest.CaptureFixture[str], database_url: str | None) -> list[str]:
    args = argparse.Namespace(messages=N, database_url=database_url, config=None)
    assert run_email_bench(args) == 0
    return capsys.readouterr().out.strip().splitlines()


def check_runs(lines: list[str], runs: int) -> None:
    stored = [m for line in lines if (m := STORED.search(line))]
    flagged = [m for line in lines if (m := FLAGGED.search(line))]
    assert len(stored) == len(flagged) == runs, lines
    for found in stored:
        n_stored, n1, exact, n2, convs, senders, threaded = map(int, found.groups())
        assert n_stored == exact == n1 == n2 == N
        assert 1 < senders < N  # some senders wrote twice: threading is exercised
        assert convs == threaded == senders
    for found in flagged:
        assert tuple(map(int, found.groups())) == (N, N, N)
    figures = [line for line in lines if FIGURE.match(line)]
    assert len(figures) == 1 + runs, lines  # one baseline, an intake per database


def test_email_bench_stores_flags_and_ends_with_the_ratio(
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines = bench(capsys, None)
    check_runs(lines, runs=1)
    assert re.fullmatch(f"intake_vs_fetch={RATIO}", lines[-1]), lines[-1]
    assert sum(line.startswith("intake_vs_fetch") for line in lines) == 1


def test_email_bench_on_postgresql_too(capsys: pytest.CaptureFixture[str]) -> None:
    url = pgutil.pg_admin_url()
    if url is None:
        pgutil.skip_or_fail("TSUNAGU_TEST_DATABASE_URL is not set")
    if not pgutil.run_blocking(pgutil.pg_reachable(url)):
        pgutil.skip_or_fail(f"no PostgreSQL answers at {pgutil.redact(url)}")
    lines = bench(capsys, url)
    check_runs(lines, runs=2)
    assert re.fullmatch(f"intake_vs_fetch_postgresql={RATIO}", lines[-2]), lines[-2]
    assert re.fullmatch(f"intake_vs_fetch={RATIO}", lines[-1]), lines[-1]
