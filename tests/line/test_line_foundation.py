"""LINE's foundations (issue 16): the webhook signature over the raw bytes, and [line] config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from channels.line_signature import line_signature, valid_line_signature
from inbox.config import load_config
from inbox.core.errors import ConfigError
from inbox.core.model import ChannelKind
from inbox.line_config import LineConfig, line_problem, resolve_line

SECRET = "8c570fa6dd201bb328f1c1eac23a96d8"
# An event as LINE writes it: emoji as they are in UTF-8, its own spacing.
RAW = (
    '{"destination":"U0","events":[{"type":"message","message":{"type":"text",'
    '"text":"こんにちは😊 たすけて"},"webhookEventId":"01H","deliveryContext":'
    '{"isRedelivery":false}}]}'
).encode()


def test_a_signature_over_the_raw_bytes_is_valid_and_nothing_else_is() -> None:
    signature = line_signature(SECRET, RAW)
    assert valid_line_signature(SECRET, RAW, signature)
    # the same JSON written again (emoji escaped as \\ud83d\\ude0a) is not what LINE signed
    rewritten = json.dumps(json.loads(RAW)).encode()
    assert rewritten != RAW and not valid_line_signature(SECRET, rewritten, signature)
    assert not valid_line_signature(SECRET, RAW + b" ", signature)  # a tampered body
    assert not valid_line_signature("another-secret", RAW, signature)
    for bad in (None, "", "not base64!", "ｘｙｚ", signature[:-4]):
        assert not valid_line_signature(SECRET, RAW, bad)
    assert not valid_line_signature("", RAW, line_signature("", RAW))  # nothing configured


def test_line_config_reads_its_secrets_from_the_environment_and_names_what_is_missing() -> None:
    on = LineConfig(enabled=True)
    problem = line_problem(resolve_line(on, {}))
    assert problem is not None and problem.startswith("line.channel_secret_env:")
    assert "TSUNAGU_LINE_CHANNEL_SECRET" in problem
    env = {"TSUNAGU_LINE_CHANNEL_SECRET": SECRET}
    problem = line_problem(resolve_line(on, env))
    assert problem is not None and "TSUNAGU_LINE_ACCESS_TOKEN" in problem
    resolved = resolve_line(on, {**env, "TSUNAGU_LINE_ACCESS_TOKEN": "tok-9Qx7Z"})
    assert line_problem(resolved) is None
    assert resolved.access_token == "tok-9Qx7Z"
    assert SECRET not in repr(resolved) and "tok-9Qx7Z" not in repr(resolved)
    assert line_problem(LineConfig()) is None  # off: nothing needed
    for path in ("webhooks/line", "/api/line", "/static/x", "/line?x=1"):
        problem = line_problem(LineConfig(webhook_path=path))
        assert problem is not None and problem.startswith("line.webhook_path:")


def test_the_line_section_loads_from_the_file_naming_a_bad_key(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[line]\nenabled = true\nlocation = "text"\n', encoding="utf-8")
    env = {"TSUNAGU_LINE_CHANNEL_SECRET": SECRET, "TSUNAGU_LINE_ACCESS_TOKEN": "t"}
    cfg = load_config(path, env=env)
    assert (cfg.line.enabled, cfg.line.location, cfg.line.channel_secret) == (True, "text", SECRET)
    path.write_text('[line]\nlocation = "gps"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"line\.location"):
        load_config(path, env={})
    path.write_text("[line]\nenabled = true\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="TSUNAGU_LINE_CHANNEL_SECRET"):
        load_config(path, env={})


def test_the_example_config_documents_every_line_key() -> None:
    example = (Path(__file__).parents[2] / "config.example.toml").read_text(encoding="utf-8")
    section = example.split("[line]", 1)[1]
    for key in ("enabled", "channel_secret_env", "access_token_env", "webhook_path"):
        assert f"\n{key} = " in section, key
    for key in ("max_content_bytes", "location", "api_url", "data_api_url"):
        assert f"\n{key} = " in section, key


def test_line_counts_as_an_enabled_channel_when_switched_on(tmp_path: Path) -> None:
    off = load_config(None, env={"TSUNAGU_DATA_DIR": str(tmp_path)})
    assert ChannelKind.LINE not in off.enabled_channels
    path = tmp_path / "line.toml"
    path.write_text("[line]\nenabled = true\n", encoding="utf-8")
    env = {
        "TSUNAGU_DATA_DIR": str(tmp_path),
        "TSUNAGU_LINE_CHANNEL_SECRET": "s" * 32,
        "TSUNAGU_LINE_ACCESS_TOKEN": "t" * 40,
    }
    assert ChannelKind.LINE in load_config(path, env=env).enabled_channels
