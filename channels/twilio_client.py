"""Twilio's REST client, built one way for every channel that talks to it (SMS replies,
Voice's click-to-call): twilio's aiohttp-based client (nothing blocks the loop), aimed at a
configurable API URL (a proxy, or a test's stand-in on loopback)."""

from __future__ import annotations

import base64
import logging
from urllib.parse import urlsplit, urlunsplit

from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

# twilio's client logs every request's URL and headers (and so the numbers in them) at INFO:
# kept to warnings and above.
twilio_log = logging.getLogger("channels.twilio")
twilio_log.setLevel(logging.WARNING)


class RebasedTwilioHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]  # untyped
    """twilio's async client with every request sent to `api_url` (scheme and host rewritten:
    a proxy, or a test's stand-in on loopback), and Basic auth sent as a header: aiohttp 3.14
    deprecates the `auth=` argument the parent uses (and 4.0 drops it)."""

    def __init__(self, api_url: str, *, timeout_s: float | None = None) -> None:
        super().__init__(timeout=timeout_s, logger=twilio_log)
        self._base = urlsplit(api_url)

    def rebase(self, url: str) -> str:
        parts = urlsplit(url)
        return urlunsplit(
            (self._base.scheme, self._base.netloc, parts.path, parts.query, parts.fragment)
        )

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109  (twilio's signature, passed on)
        allow_redirects: bool = False,
    ) -> Response:
        headers = dict(headers or {})
        if auth is not None:
            pair = f"{auth[0]}:{auth[1]}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        # The parent hands aiohttp only the per-request timeout, None unless given: no limit
        # at all. The client's own (timeout_s) is the default here, so a hung Twilio ends.
        limit = timeout if timeout is not None else self.timeout
        return await super().request(
            method, self.rebase(url), params, data, headers, None, limit, allow_redirects
        )


def twilio_client(
    account_sid: str, auth_token: str, api_url: str, *, timeout_s: float | None = None
) -> tuple[Client, RebasedTwilioHttpClient]:
    """A Client and its HTTP client (close it with `await http.close()`); `timeout_s`: each
    request's limit (None: none). Build it in the running loop: the HTTP client's aiohttp
    session belongs to it."""
    http = RebasedTwilioHttpClient(api_url, timeout_s=timeout_s)
    return Client(account_sid, auth_token, http_client=http), http
