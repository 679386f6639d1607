"""identity_hash gives the hashes already stored: HMAC-SHA256 of "channel:sender"."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inbox.core.model import ChannelKind
from inbox.identity import identity_hash


@pytest.mark.parametrize(
    ("key", "channel", "sender", "want"),
    [  # computed by the hmac.new implementation before it was made faster
        (
            b"0123456789abcdef" * 4,
            ChannelKind.SMS,
            "+819012345678",
            "9890c0eb329436de18a2e25e9b29fb3f5813e96c814bb99a9406bb7431b9f3a9",
        ),
        (
            b"short-key-16char",
            ChannelKind.MAIL,
            "hanako@example.jp",
            "468c07efe76515de960b66f56cd81fbfba93e22e690847630e3f809ae0deaa38",
        ),
    ],
)
def test_known_hashes(key: bytes, channel: ChannelKind, sender: str, want: str) -> None:
    assert identity_hash(key, channel, sender) == want


@settings(max_examples=500, deadline=None)
@given(
    # Around SHA-256's 64-byte block: shorter keys are padded, longer ones hashed first.
    st.one_of(st.binary(max_size=200), st.integers(60, 70).map(lambda n: b"k" * n)),
    st.sampled_from(ChannelKind),
    st.text(),
)
def test_same_as_hmac_new(key: bytes, channel: ChannelKind, sender: str) -> None:
    want = hmac.new(key, f"{channel.value}:{sender}".encode(), hashlib.sha256).hexdigest()
    assert identity_hash(key, channel, sender) == want
