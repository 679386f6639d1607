"""A real server with [voice] on (behind a stand-in TLS proxy: Twilio calls PUBLIC_URL), its
Twilio client aimed at the local stand-in (tests.twilio_fake), on SQLite or PostgreSQL; and
Twilio's signed Voice webhooks as the tests post them."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from inbox.config import Config
from inbox.core.model import Event
from tests.sms.signing import Fields, twilio_signature
from tests.twilio_fake import TwilioFake, twilio_fake
from tests.web import conftest as web_conftest
from tests.web.conftest import Site, make_config, served_site, sign_in

captured_logs = web_conftest.captured_logs  # the web tests' fixture: the server's JSON lines
__all__ = ["captured_logs"]

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "tok-voice-5d1a"  # a marker: never in a log
PUBLIC_URL = "https://example.org"
PROGRAM = "+81312345678"  # the number consulters call
DESK = ("+815011112222", "+815033334444")  # the desk's phones
HER = "+819012345678"  # a consulter's number: never in a log or a staff answer
HER_NATIONAL = "090-1234-5678"
MISSED = "ただいま電話に出ることができません。時間をおいておかけ直しください。"
VOICE_PATH = "/webhooks/twilio/voice"
DIALED_PATH = "/webhooks/twilio/voice/dialed"
STATUS_PATH = "/webhooks/twilio/voice/status"
BRIDGE_PATH = "/webhooks/twilio/voice/bridge"


def voice_config(tmp_path: Path, fake: TwilioFake, **voice: Any) -> Config:
    return make_config(
        tmp_path,
        # behind the TLS proxy; the tests sign in over plain http, so cookies are not Secure
        server={"public_url": PUBLIC_URL, "secure_cookies": "never"},
        voice={
            "enabled": True,
            "account_sid": SID,
            "auth_token": TOKEN,
            "program_number": PROGRAM,
            "forward_to": DESK,
            "api_url": fake.url,
            **voice,
        },
    )


@dataclass
class VoiceSite:
    site: Site
    http: aiohttp.ClientSession
    fake: TwilioFake

    @property
    def url(self) -> str:
        return self.site.url

    async def post(
        self, path: str, fields: Fields, *, token: str = TOKEN, signature: str | None = None
    ) -> tuple[int, str]:
        """POST the form as Twilio would, signed for PUBLIC_URL + path (query included)."""
        if signature is None:
            signature = twilio_signature(token, PUBLIC_URL + path, fields)
        headers = {"X-Twilio-Signature": signature} if signature else {}
        async with self.http.post(self.url + path, data=list(fields), headers=headers) as r:
            return r.status, await r.text()

    async def events(self, *kinds: str) -> list[Event]:
        return [e for e in await self.site.store.list_events() if e.kind in kinds]


def incoming(sid: str, sender: str = HER_NATIONAL, status: str = "ringing") -> Fields:
    return [
        ("AccountSid", SID),
        ("CallSid", sid),
        ("CallStatus", status),
        ("Direction", "inbound"),
        ("From", sender),
        ("To", PROGRAM),
    ]


def dial_end(sid: str, dial_status: str, duration: int | None = None, sender: str = HER) -> Fields:
    fields = [*incoming(sid, sender, "in-progress"), ("DialCallStatus", dial_status)]
    if duration is not None:
        fields.append(("DialCallDuration", str(duration)))
    return fields


def status(sid: str, call_status: str, duration: int | None = None, sender: str = HER) -> Fields:
    fields = list(incoming(sid, sender, call_status))
    if duration is not None:
        fields.append(("CallDuration", str(duration)))
    return fields


@pytest.fixture
async def fake() -> AsyncIterator[TwilioFake]:
    async with twilio_fake() as f:
        yield f


@pytest.fixture
def voice_settings() -> dict[str, Any]:
    """[voice] beyond the defaults above; a test module overrides it."""
    return {}


@pytest.fixture
async def voice_site(
    store_kind: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    fake: TwilioFake,
    voice_settings: dict[str, Any],
) -> AsyncIterator[VoiceSite]:
    cfg = voice_config(tmp_path, fake, **voice_settings)
    async with (
        served_site(cfg, store_kind=store_kind, request=request) as site,
        aiohttp.ClientSession() as http,
    ):
        yield VoiceSite(site, http, fake)


@pytest.fixture
async def phone(voice_site: VoiceSite) -> AsyncIterator[aiohttp.ClientSession]:
    """Phone staff, signed in."""
    async with await sign_in(voice_site.url, "phone") as session:
        yield session


async def missed_call(voice_site: VoiceSite, sid: str) -> int:
    """She called (CallSid `sid`) and nobody answered: her callback's conversation id."""
    await voice_site.post(VOICE_PATH, incoming(sid))
    await voice_site.post(DIALED_PATH, dial_end(sid, "no-answer"))
    (asked,) = await voice_site.events("callback_requested")
    assert asked.conversation_id is not None
    return asked.conversation_id


def private(logged: str | io.StringIO) -> None:
    """Nothing of her number, the token or a signature in what was logged."""
    text = logged.getvalue() if isinstance(logged, io.StringIO) else logged
    for secret in (HER, HER_NATIONAL, "9012345678", "1234-5678", TOKEN):
        assert secret not in text, secret
