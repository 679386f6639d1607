"""Click-to-call through Twilio's REST API (calls.create_async): Twilio rings a staff member's
own phone, then fetches our bridge TwiML that connects her to the consulter. The consulter's
number is never sent here: only staff's, and the program's as caller ID.

Errors become ChannelError naming Twilio's code, never its text (it quotes the number).
"""

from __future__ import annotations

import logging
from typing import Self

import aiohttp
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from channels.twilio_client import RebasedTwilioHttpClient, twilio_client
from inbox.core.errors import ChannelError
from inbox.core.model import ChannelKind

log = logging.getLogger(__name__)
STATUS_EVENTS = ("initiated", "ringing", "answered", "completed")


def voice_error(message: str) -> ChannelError:
    return ChannelError(message, channel=ChannelKind.PHONE, retryable=False)


class TwilioDialer:
    """inbox.commands.voice.CallPlacer over Twilio. `__aenter__` opens its HTTP session."""

    def __init__(
        self, account_sid: str, auth_token: str, api_url: str, *, timeout_s: float | None = None
    ) -> None:
        self._account = (account_sid, auth_token, api_url)
        self._timeout_s = timeout_s
        self._client: Client | None = None
        self._http: RebasedTwilioHttpClient | None = None

    async def __aenter__(self) -> Self:
        self._client, self._http = twilio_client(*self._account, timeout_s=self._timeout_s)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._http is not None:
            await self._http.close()
        self._http = self._client = None

    async def place(self, *, to: str, from_: str, url: str, status_callback: str) -> str:
        if self._client is None:
            raise voice_error("the Twilio client is not open")
        try:
            made = await self._client.calls.create_async(
                to=to,
                from_=from_,
                url=url,
                method="POST",
                status_callback=status_callback,
                status_callback_method="POST",
                status_callback_event=list(STATUS_EVENTS),
            )
        except TwilioRestException as exc:
            code = exc.code if isinstance(exc.code, int) else exc.status
            raise voice_error(f"twilio {code}: the call was refused") from exc
        except TimeoutError:
            raise  # the caller's limit (inbox.commands.voice: DialTimeout), aiohttp's or its own
        except (aiohttp.ClientError, OSError) as exc:
            raise voice_error(f"twilio unreachable: {type(exc).__name__}") from exc
        except TwilioException as exc:
            raise voice_error(f"twilio: unexpected answer ({type(exc).__name__})") from exc
        if not made.sid:
            raise voice_error("twilio: the answer has no call SID")
        return str(made.sid)
