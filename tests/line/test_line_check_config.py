"""`tsunagu check-config` with [line] on: a missing channel secret, then a missing access token,
is named by its environment variable and fails the check; neither value is ever echoed."""

from __future__ import annotations

from pathlib import Path

import pytest

from inbox import cli

SECRET_ENV = "TSUNAGU_LINE_CHANNEL_SECRET"
TOKEN_ENV = "TSUNAGU_LINE_ACCESS_TOKEN"
SECRET = "line-secret-c0ffee"  # markers: must never show in a message
TOKEN = "line-token-beef42"
LINE_ON = '[server]\npublic_url = "https://inbox.example.org"\n[line]\nenabled = true\n'


def check(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main(["check-config", "--config", "config.toml"])
    out = capsys.readouterr()
    assert SECRET not in out.out + out.err and TOKEN not in out.out + out.err
    return code, out.err


def test_check_config_names_the_missing_secret_then_the_missing_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(SECRET_ENV, raising=False)
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    Path("config.toml").write_text(LINE_ON, encoding="utf-8")

    code, err = check(capsys)
    assert code == cli.EXIT_CONFIG != 0
    assert f"line.channel_secret_env: the environment variable {SECRET_ENV} is not set" in err
    assert "LINE Developers console" in err and "line.enabled = false" in err

    monkeypatch.setenv(SECRET_ENV, SECRET)
    code, err = check(capsys)
    assert code == cli.EXIT_CONFIG
    assert f"line.access_token_env: the environment variable {TOKEN_ENV} is not set" in err
    assert SECRET_ENV not in err  # the secret is found now: only the token is asked for

    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    assert check(capsys)[0] == 0
