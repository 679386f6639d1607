"""The [sms] and [voice] sections: defaults, numbers as E.164, tokens from the environment,
and every error naming its key (and never a token or a consulter's number)."""

from __future__ import annotations

from pathlib import Path

import pytest

from inbox import cli
from inbox.config import Config, load_config
from inbox.core.errors import ConfigError
from inbox.core.sms import Keyword

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "tok-3f9a1c"  # a marker: must never show in a message
ENV = "TSUNAGU_TWILIO_AUTH_TOKEN"


@pytest.fixture(autouse=True)
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path.resolve()


def load(text: str, **env: str) -> Config:
    Path("config.toml").write_text(text, encoding="utf-8")
    return load_config(Path("config.toml"), env=env)


def load_error(text: str, **env: str) -> str:
    with pytest.raises(ConfigError) as info:
        load(text, **env)
    message = str(info.value)
    assert TOKEN not in message
    return message.removeprefix("config.toml: ")


PUBLIC = '[server]\npublic_url = "https://inbox.example.org"\n'  # required with [sms] or [voice]
SMS_ON = PUBLIC + f'[sms]\nenabled = true\naccount_sid = "{SID}"\nfrom_number = "050-1234-5678"\n'
VOICE_ON = '[voice]\nenabled = true\nprogram_number = "03-1234-5678"\n'


def test_off_by_default_and_needs_nothing() -> None:
    cfg = load_config(None, env={})
    assert not cfg.sms.enabled and not cfg.voice.enabled
    assert cfg.sms.default_region == "JP" and cfg.sms.max_segments == 5
    assert cfg.sms.auth_token_env == ENV == cfg.voice.auth_token_env
    assert cfg.sms.opt_out_words.classify("配信停止") is Keyword.STOP


def test_enabled_with_the_token_in_the_environment() -> None:
    cfg = load(SMS_ON + VOICE_ON, **{ENV: TOKEN})
    assert cfg.sms.enabled and cfg.sms.auth_token == TOKEN
    assert cfg.sms.from_number == "+815012345678"  # written national, kept as E.164
    assert cfg.voice.program_number == "+81312345678"
    assert cfg.voice.account_sid == SID  # voice shares sms's account unless it names its own
    assert cfg.voice.auth_token == TOKEN
    assert TOKEN not in repr(cfg)


def test_voice_in_its_own_account() -> None:
    own = "AC" + "f" * 32
    cfg = load(
        SMS_ON + VOICE_ON + f'account_sid = "{own}"\nauth_token_env = "VOICE_TOKEN"\n',
        **{ENV: TOKEN, "VOICE_TOKEN": "other"},
    )
    assert (cfg.voice.account_sid, cfg.voice.auth_token) == (own, "other")
    assert cfg.sms.account_sid == SID and cfg.sms.auth_token == TOKEN


def test_sms_or_voice_needs_the_public_url() -> None:
    expected = (
        "server.public_url: required when sms.enabled or voice.enabled (Twilio signs the URL"
        " it calls and must reach the status callbacks)"
    )
    assert load_error(SMS_ON.removeprefix(PUBLIC), **{ENV: TOKEN}) == expected
    voice_only = VOICE_ON + f'account_sid = "{SID}"\n'
    assert load_error(voice_only, **{ENV: TOKEN}) == expected
    assert load(PUBLIC + voice_only, **{ENV: TOKEN}).voice.enabled


def test_enabled_without_the_token_names_the_variable() -> None:
    message = load_error(SMS_ON)
    assert message.startswith(f"sms.auth_token_env: the environment variable {ENV} is not set")
    assert load_error(SMS_ON, **{ENV: ""}).startswith("sms.auth_token_env: ")  # "" is unset
    message = load_error(VOICE_ON + f'account_sid = "{SID}"\nauth_token_env = "V"\n')
    assert message.startswith("voice.auth_token_env: the environment variable V is not set")


def test_the_token_cannot_be_written_in_the_file() -> None:
    message = load_error(f'[sms]\nauth_token = "{TOKEN}"\n')
    assert message == "sms.auth_token: unknown key (did you mean 'auth_token_env'?)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[sms]\nenabled = true\n", "sms.account_sid: required when sms.enabled"),
        ('[sms]\nenabled = true\naccount_sid = "AC12"\n', 'sms.account_sid: expected "AC"'),
        (f'[sms]\nenabled = true\naccount_sid = "{SID}"\n', "sms.from_number: required"),
        ('[sms]\nfrom_number = "12345"\n', "sms.from_number: is not a valid phone number"),
        ('[sms]\nfrom_number = "+999 1234"\n', "sms.from_number: has no valid country code"),
        ('[sms]\ndefault_region = "Japan"\n', "sms.default_region: not a two-letter region"),
        ("[sms]\nmax_segments = 0\n", "sms.max_segments: must be >= 1, got 0"),
        ("[sms]\nmax_segments = 11\n", "sms.max_segments: must be <= 10, got 11"),
        ('[sms]\nstop_words = "STOP"\n', "sms.stop_words: expected a list of strings"),
        ('[sms]\nhelp_words = [""]\n', "sms.help_words: a word is empty"),
        ('[sms]\nstart_words = ["ＳＴＯＰ"]\n', "sms.start_words: 'stop' is also in stop"),
        (f'[sms]\nmax_segments = 1\nhelp_reply = "{"助" * 71}"\n', "sms.help_reply: 2 SMS seg"),
        ("[voice]\nenabled = true\n", "voice.account_sid: required when voice.enabled"),
        (f'[sms]\naccount_sid = "{SID}"\n[voice]\nenabled = true\n', "voice.program_number: req"),
        ('[voice]\nprogram_number = "0"\n', "voice.program_number: is not a phone number"),
        ('[voice]\naccount_sid = "x"\n', 'voice.account_sid: expected "AC"'),
    ],
)
def test_errors_name_the_key(text: str, expected: str) -> None:
    assert load_error(text, **{ENV: TOKEN}).startswith(expected)


def test_a_number_is_never_echoed_in_an_error() -> None:
    message = load_error('[sms]\nfrom_number = "090-1234-567"\n')
    assert "1234" not in message


def test_national_numbers_are_read_in_the_default_region() -> None:
    cfg = load('[sms]\ndefault_region = "US"\nfrom_number = "(650) 253-0000"\n')
    assert cfg.sms.from_number == "+16502530000"


def test_changed_words() -> None:
    cfg = load('[sms]\nstop_words = ["やめる"]\nhelp_words = []\n')
    words = cfg.sms.opt_out_words
    assert words.classify("やめる") is Keyword.STOP and words.classify("STOP") is None
    assert words.classify("再開") is Keyword.START and words.classify("help") is None


def test_check_config_explains_a_missing_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(ENV, raising=False)
    Path("config.toml").write_text(SMS_ON, encoding="utf-8")
    assert cli.main(["check-config", "--config", "config.toml"]) == cli.EXIT_CONFIG
    err = capsys.readouterr().err
    assert f"sms.auth_token_env: the environment variable {ENV} is not set" in err
    assert "Twilio console" in err and "sms.enabled = false" in err
    monkeypatch.setenv(ENV, TOKEN)
    assert cli.main(["check-config", "--config", "config.toml"]) == 0
    out = capsys.readouterr()
    assert TOKEN not in out.out + out.err
