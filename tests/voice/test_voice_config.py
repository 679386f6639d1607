"""[voice]'s keys for Twilio Voice: the desk's phones (numbers read in sms.default_region and
kept as E.164), the ring time, the API URL and the neutral missed-call message; errors name
the key, never the number; the example config documents them."""

from __future__ import annotations

from pathlib import Path

import pytest

from inbox.config import load_config
from inbox.sms_config import DEFAULT_MISSED_MESSAGE
from tests.test_sms_config import ENV, SID, SMS_ON, TOKEN, VOICE_ON, cwd, load, load_error

__all__ = ["cwd"]  # the fixture: each test in its own folder

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def test_the_defaults() -> None:
    voice = load_config(None, env={}).voice
    assert (voice.forward_to, voice.ring_s, voice.api_url) == ((), 25, "https://api.twilio.com")
    assert voice.missed_message == DEFAULT_MISSED_MESSAGE
    assert "相談" not in voice.missed_message  # names no program, no topic


def test_the_desk_phones_are_kept_as_e164() -> None:
    cfg = load(
        SMS_ON + VOICE_ON + 'forward_to = ["050-1111-2222", "+81 3 3333 4444"]\nring_s = 40\n'
        'api_url = "http://127.0.0.1:9"\nmissed_message = "おかけ直しください。"\n',
        **{ENV: TOKEN},
    )
    voice = cfg.voice
    assert voice.forward_to == ("+815011112222", "+81333334444")
    assert (voice.ring_s, voice.api_url, voice.missed_message) == (
        40,
        "http://127.0.0.1:9",
        "おかけ直しください。",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[voice]\nforward_to = ["090-1234-567"]\n',
            "voice.forward_to[0]: is not a valid phone number",
        ),
        ('[voice]\nforward_to = "050-1111-2222"\n', "voice.forward_to: expected a list"),
        ("[voice]\nring_s = 2\n", "voice.ring_s"),
        ('[voice]\nmissed_message = " "\n', "voice.missed_message: must not be empty"),
        (f'[voice]\nmissed_message = "{"あ" * 501}"\n', "voice.missed_message: at most 500"),
        ('[voice]\napi_url = "ftp://x"\n', "voice.api_url"),
    ],
)
def test_errors_name_the_key(text: str, expected: str) -> None:
    message = load_error(f'[sms]\naccount_sid = "{SID}"\n' + text, **{ENV: TOKEN})
    assert message.startswith(expected), message
    assert "1234-567" not in message


def test_the_example_config_documents_the_keys() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    voice = text[text.index("[voice]") :].split("\n[", 1)[0]
    keys = ("forward_to", "ring_s", "missed_message", "api_url", "show_caller_number")
    for key in (*keys, "staff_phones", "api_timeout_s"):
        assert f"\n{key} = " in voice, key
    assert DEFAULT_MISSED_MESSAGE in voice
    assert "Fallback" in voice  # Twilio's fallback URL, for when this server is down


def test_staff_phones_are_labelled_and_kept_as_e164() -> None:
    cfg = load(
        SMS_ON + VOICE_ON + 'staff_phones = ["携帯=090-5555-6666", "+81 50 9999 8888"]\n',
        **{ENV: TOKEN},
    )
    phones = cfg.voice.desk_phones
    assert [(p.label, p.number, p.masked) for p in phones] == [
        ("携帯", "+819055556666", "\u2022" * 4 + "6666"),
        ("2", "+815099998888", "\u2022" * 4 + "8888"),
    ]
    assert not cfg.voice.show_caller_number and cfg.voice.api_timeout_s == 15.0


def test_without_staff_phones_the_desk_phones_are_forward_to() -> None:
    cfg = load(SMS_ON + VOICE_ON + 'forward_to = ["050-1111-2222"]\n', **{ENV: TOKEN})
    assert [(p.label, p.number) for p in cfg.voice.desk_phones] == [("1", "+815011112222")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('staff_phones = ["a=090-1234-567"]\n', "voice.staff_phones[0]: is not a valid"),
        ('staff_phones = ["a=090-5555-6666", "a=050-1111-2222"]\n', "voice.staff_phones: each"),
        ("api_timeout_s = 0\n", "voice.api_timeout_s"),
    ],
)
def test_staff_phone_errors_name_the_key(text: str, expected: str) -> None:
    message = load_error(f'[sms]\naccount_sid = "{SID}"\n[voice]\n' + text, **{ENV: TOKEN})
    assert message.startswith(expected), message
    assert "1234-567" not in message
