"""A real server with [sms] on, behind a stand-in TLS proxy: Twilio calls PUBLIC_URL, the server
itself listens on http://127.0.0.1:port. On SQLite, or on each store under both_stores."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from inbox.app import build_store
from inbox.config import Config
from inbox.core.model import ChannelKind, ConversationId, Event
from inbox.identity import identity_hash, load_identity_key
from storage.base import Store
from tests.factories import T0, new_user
from tests.pgutil import PgTemplate
from tests.sms.signing import Fields, twilio_signature
from tests.stores import POSTGRES
from tests.web.conftest import captured_logs, make_config, running

__all__ = ["captured_logs"]  # the fixture, for this folder's tests

TOKEN = "0123456789abcdef0123456789abcdef"
SID = "AC" + "0" * 32
PUBLIC_URL = "https://example.org"
SMS_PATH = "/webhooks/twilio/sms"
STATUS_PATH = "/webhooks/twilio/sms/status"


def sms_config(tmp_path: Path, public_url: str = PUBLIC_URL) -> Config:
    return make_config(
        tmp_path,
        server={"public_url": public_url},
        sms={
            "enabled": True,
            "account_sid": SID,
            "from_number": "+815012345678",
            "auth_token": TOKEN,
        },
    )


@dataclass
class SmsSite:
    url: str  # where the server listens
    cfg: Config
    store: Store  # a second connection to its database
    http: aiohttp.ClientSession

    def identity(self, number: str) -> str:
        """The keyed hash the server matches an SMS sender's E.164 number by."""
        security = self.cfg.security
        key = load_identity_key(
            security.identity_key, self.cfg.data.dir, env_name=security.identity_key_env
        )
        return identity_hash(key, ChannelKind.SMS, number)

    async def post(
        self,
        path: str,
        fields: Fields,
        *,
        signed_url: str | None = None,
        token: str = TOKEN,
        signature: str | None = None,
    ) -> tuple[int, str, str]:
        """POST the form as Twilio would, signed for `signed_url` (PUBLIC_URL + path unless
        told); the status, the content type and the body."""
        if signature is None:
            signature = twilio_signature(token, signed_url or PUBLIC_URL + path, fields)
        headers = {"X-Twilio-Signature": signature} if signature else {}
        async with self.http.post(self.url + path, data=list(fields), headers=headers) as r:
            return r.status, r.content_type, await r.text()

    async def events(self, *kinds: str) -> list[Event]:
        return [e for e in await self.store.list_events() if e.kind in kinds]

    async def conversations(self) -> list[ConversationId]:
        return [
            ConversationId(e.conversation_id)
            for e in await self.events("conversation_opened")
            if e.conversation_id is not None
        ]


@pytest.fixture
async def sms_site(
    store_kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[SmsSite]:
    cfg = sms_config(tmp_path)
    if store_kind == POSTGRES:
        template: PgTemplate = request.getfixturevalue("pg_template")
        db_url = await template.fresh_database()
        cfg = dataclasses.replace(cfg, database=dataclasses.replace(cfg.database, url=db_url))
    async with build_store(cfg.database) as store, aiohttp.ClientSession() as http:
        await store.migrate()
        await store.create_user(new_user("sato"), now=T0)
        async with running(cfg) as url:
            yield SmsSite(url, cfg, store, http)
    if store_kind == POSTGRES:
        await template.drop(cfg.database.url)


SMS = ChannelKind.SMS
