"""LINE's webhook signature: `X-Line-Signature` is base64(HMAC-SHA256(channel secret, raw body)).

Checked over the raw bytes as they came, before anything is parsed: JSON parsed and written again
differs from what LINE signed (escapes, emoji as surrogate pairs, spacing), so a valid request
would fail and a forged one might be read first. The comparison takes constant time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

SIGNATURE_HEADER = "X-Line-Signature"


def line_signature(channel_secret: str, body: bytes) -> str:
    """The signature LINE sends with `body` (tests sign with it too)."""
    digest = hmac.new(channel_secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def valid_line_signature(channel_secret: str, body: bytes, header: str | None) -> bool:
    """Whether `header` is LINE's signature of `body` under the secret; a missing, malformed or
    empty one (or an empty secret: nothing is configured) is not."""
    if not channel_secret or not header:
        return False
    try:
        given = base64.b64decode(header.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return False
    expected = hmac.new(channel_secret.encode(), body, hashlib.sha256).digest()
    return hmac.compare_digest(given, expected)
