"""Replies by SMS through Twilio's REST API, with twilio's aiohttp-based client (nothing blocks
the loop). Inbound SMS and the status callbacks arrive as webhooks (inbox.web), not here.

Errors become ChannelError: Twilio's permanent refusals (she sent STOP, a landline, a number
that does not exist) are not retried, and their text names the cause, never the number: it is
shown to the counselor and written to the outbox. Twilio's own message is never kept, since it
quotes the number ("The 'To' number +81... is not a valid phone number").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Self

import aiohttp
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from channels.twilio_client import RebasedTwilioHttpClient, twilio_client
from inbox.core.errors import ChannelError
from inbox.core.model import ChannelKind, OutboundMessage
from inbox.core.sms import PERMANENT_ERROR_CODES, UNSUBSCRIBED_CODE, twilio_error_reason

log = logging.getLogger(__name__)

STATUS_CALLBACK_PATH = "/webhooks/twilio/sms/status"

RATE_LIMITED = 20429


@dataclass(frozen=True, slots=True, kw_only=True)
class SmsSettings:
    account_sid: str
    auth_token: str = field(repr=False)
    from_number: str  # E.164
    status_callback_url: str  # base_url + STATUS_CALLBACK_PATH
    api_url: str = "https://api.twilio.com"


def sms_error(message: str, *, retryable: bool) -> ChannelError:
    return ChannelError(message, channel=ChannelKind.SMS, retryable=retryable)


def twilio_error(exc: TwilioRestException) -> ChannelError:
    """The refusal as a ChannelError: permanent for PERMANENT_ERROR_CODES and other 4xx,
    retryable for rate limits and 5xx. Never carries Twilio's own text (it quotes numbers)."""
    code = exc.code if isinstance(exc.code, int) else None
    if code in PERMANENT_ERROR_CODES:
        return ChannelError(
            f"twilio {code}: {twilio_error_reason(code)}",
            channel=ChannelKind.SMS,
            retryable=False,
            opted_out=code == UNSUBSCRIBED_CODE,
        )
    if exc.status == 429 or code == RATE_LIMITED:
        return sms_error(f"twilio {code or 429}: rate limited; retry", retryable=True)
    if exc.status >= 500:
        return sms_error(f"twilio {exc.status}: server error; retry", retryable=True)
    if exc.status in (401, 403):
        return sms_error(
            f"twilio {code or exc.status}: authentication refused; check sms.account_sid and"
            " the auth token",
            retryable=False,
        )
    return sms_error(f"twilio {code or exc.status}: refused", retryable=False)


def status_callback(url: str, msg: OutboundMessage) -> str:
    """The status callback URL for `msg`: with its outbox id, by which the callback finds the
    row even before mark_sent has recorded the SID (Twilio may call back first). Twilio signs
    this URL, query included."""
    return url if msg.outbox_id is None else f"{url}?outbox={msg.outbox_id}"


class TwilioSmsChannel:
    """The Channel for SMS. `__aenter__` opens the HTTP session, `__aexit__` closes it."""

    kind = ChannelKind.SMS

    def __init__(self, settings: SmsSettings) -> None:
        self._settings = settings
        self._http: RebasedTwilioHttpClient | None = None
        self._client: Client | None = None

    async def __aenter__(self) -> Self:
        # Built here, in the running loop: the client's aiohttp session belongs to it.
        self._client, self._http = twilio_client(
            self._settings.account_sid, self._settings.auth_token, self._settings.api_url
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._http is not None:
            await self._http.close()
        self._http = self._client = None

    async def send(self, msg: OutboundMessage) -> str:
        """Send one reply; return Twilio's message SID. The caller bounds it with a timeout."""
        if self._client is None:
            raise sms_error("the SMS channel is not open", retryable=True)
        if msg.automatic and msg.discreet:
            # Her discretion flag: no automatic text may arrive on her phone (issue 15, Safety).
            raise sms_error("discretion: no automatic SMS is sent to her", retryable=False)
        try:
            sent = await self._client.messages.create_async(
                to=msg.recipient,
                from_=self._settings.from_number,
                body=msg.body,
                status_callback=status_callback(self._settings.status_callback_url, msg),
            )
        except TwilioRestException as exc:
            raise twilio_error(exc) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise sms_error(
                f"twilio unreachable: {type(exc).__name__}; retry", retryable=True
            ) from exc
        except TwilioException as exc:  # e.g. an answer that is not JSON
            raise sms_error(
                f"twilio: unexpected answer ({type(exc).__name__})", retryable=True
            ) from exc
        if not sent.sid:
            raise sms_error("twilio: the answer has no message SID", retryable=True)
        return str(sent.sid)
