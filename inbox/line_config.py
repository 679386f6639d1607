"""The [line] section: the program's LINE official account (Messaging API), issue 16.

The channel secret (which signs LINE's webhooks) and the channel access token (which our replies
carry) never live in the file: each is read from the environment variable the file names, as
Twilio's token is ([sms]).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

_SECRET = {"toml": False}  # resolved from the environment, not settable in the file
DEFAULT_SECRET_ENV = "TSUNAGU_LINE_CHANNEL_SECRET"
DEFAULT_TOKEN_ENV = "TSUNAGU_LINE_ACCESS_TOKEN"
DEFAULT_WEBHOOK_PATH = "/webhooks/line"
DEFAULT_API_URL = "https://api.line.me"
DEFAULT_DATA_API_URL = "https://api-data.line.me"  # where images, video and files are fetched


@dataclass(frozen=True, slots=True, kw_only=True)
class LineConfig:
    enabled: bool = False
    channel_secret_env: str = DEFAULT_SECRET_ENV
    access_token_env: str = DEFAULT_TOKEN_ENV
    webhook_path: str = (
        DEFAULT_WEBHOOK_PATH  # the LINE console's "Webhook URL" is public_url + this
    )
    # An image, video, audio clip or file up to this size is fetched and kept with its message;
    # a larger one is listed as not kept (as [mail].max_attachment_bytes).
    max_content_bytes: int = field(default=10 * 1024 * 1024, metadata={"min": 1024})
    # The content API's answer is awaited this long per file while the webhook waits for it;
    # after that the file is listed as not kept (LINE waits only a few seconds for our 200).
    content_timeout_s: float = field(default=5.0, metadata={"min": 0.1})
    # A reply token is used only this long after her message (LINE keeps it about a minute);
    # after that a reply goes by push, which counts against the monthly quota.
    reply_token_s: float = field(default=50.0, metadata={"min": 1.0, "max": 60.0})
    # The board warns when this month's pushes reach this share of the account's quota.
    quota_warn_percent: int = field(default=80, metadata={"min": 1, "max": 100})
    # The "typing" indicator shown to her while a counselor writes: how long one request shows
    # it (LINE allows 5 to 60 seconds, in steps of 5); renewed while the counselor types.
    loading_seconds: int = field(default=20, metadata={"min": 5, "max": 60})
    # A location she sends: "text" keeps its address and coordinates in the message, "placeholder"
    # keeps only "[位置情報]" (a place she is at can put her in danger if the record is read).
    location: Literal["text", "placeholder"] = "placeholder"
    # Where the Messaging API is: the real one, or a proxy or a test's stand-in.
    api_url: str = field(default=DEFAULT_API_URL, metadata={"http_url": True})
    data_api_url: str = field(default=DEFAULT_DATA_API_URL, metadata={"http_url": True})
    channel_secret: str = field(default="", repr=False, metadata=_SECRET)
    access_token: str = field(default="", repr=False, metadata=_SECRET)


def resolve_line(line: LineConfig, env: Mapping[str, str]) -> LineConfig:
    """The secret and the token read from the environment ("" counts as unset)."""
    return dataclasses.replace(
        line,
        channel_secret=env.get(line.channel_secret_env, ""),
        access_token=env.get(line.access_token_env, ""),
    )


def line_problem(line: LineConfig) -> str | None:
    """What is wrong with [line], as "line.key: reason"; the path is checked even when it is off,
    so a mistake shows before the day it is switched on."""
    path = line.webhook_path
    if not path.startswith("/") or path.startswith(("/api/", "/static/")) or "?" in path:
        return (
            f'line.webhook_path: a path of its own starting with "/" (not under /api or /static,'
            f' no query), e.g. "{DEFAULT_WEBHOOK_PATH}"'
        )
    if not line.enabled:
        return None
    for key, variable, value, what in (
        ("channel_secret_env", line.channel_secret_env, line.channel_secret, "Channel secret"),
        ("access_token_env", line.access_token_env, line.access_token, "Channel access token"),
    ):
        if not value:
            return (
                f"line.{key}: the environment variable {variable} is not set; export it with the"
                f" {what} from the LINE Developers console (never write it in this file), or set"
                " line.enabled = false"
            )
    return None
