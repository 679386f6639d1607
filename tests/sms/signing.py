"""Twilio's webhook signature, written here from its definition rather than taken from the
twilio package, so the tests check the server's use of RequestValidator against the algorithm:
base64(HMAC-SHA1(auth token, the URL called + each POST field's name and value, by name))."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

Fields = Sequence[tuple[str, str]]


def twilio_signature(token: str, url: str, fields: Fields) -> str:
    by_name: dict[str, list[str]] = {}
    for name, value in fields:
        by_name.setdefault(name, []).append(value)
    signed = url + "".join(name + value for name in sorted(by_name) for value in by_name[name])
    digest = hmac.new(token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()
