"""A sign-in session's tag: a name for one session of hers that is no secret.

Her sockets are kept by user and session, and the event that ends her other sessions
(password_changed) names the one she kept by this tag, so that every instance closes the
sockets of the others and leaves hers. The tag is cut from a hash of the session's token hash:
it neither signs anyone in nor leads back to the token."""

from __future__ import annotations

import hashlib

TAG_CHARS = 16


def session_tag(token_hash: str) -> str:
    """The tag of the session stored under `token_hash`. Pure."""
    return hashlib.sha256(b"tsunagu-session-tag:" + token_hash.encode()).hexdigest()[:TAG_CHARS]
