"""The anonymity policy through the real server: who sees an address, the audit of every
reveal, and the contact's own mode; the address never reaches the logs."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from inbox.core.errors import ConfigError
from inbox.core.model import Anonymity, ChannelKind, CounselorUpdate, Presence, Role, UserId
from inbox.privacy import AnonymityPolicy
from storage.sqlite.store import SqliteStore
from tests.factories import T0, inbound
from tests.web.conftest import Server, add_staff, make_config, running, sign_in

ADDRESS = "+819012345678"


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[tuple[Server, int, int]]:
    """SMS anonymous, phone identified, everything else pseudonymous; one conversation each
    for an SMS and a phone consulter, and a pseudonymous web chat one."""
    policy = AnonymityPolicy(
        by_channel=(
            (ChannelKind.SMS, Anonymity.ANONYMOUS),
            (ChannelKind.PHONE, Anonymity.IDENTIFIED),
        )
    )
    cfg = make_config(tmp_path, privacy={"anonymity": policy})
    ids = await add_staff(cfg)
    assert cfg.database.sqlite_path is not None
    async with SqliteStore(cfg.database.sqlite_path) as store:
        for name in ("sato", "suzuki"):  # nobody takes work: the conversations stay unassigned
            away = CounselorUpdate(presence=Presence.AWAY)
            await store.update_counselor(
                UserId(ids[name]), away, actor_id=UserId(ids[name]), now=T0
            )
        sms, _, chat, _ = await store.save_inbound_batch(
            [
                inbound(ADDRESS, channel=ChannelKind.SMS),
                inbound(ADDRESS, channel=ChannelKind.PHONE),
                inbound("session-key", channel=ChannelKind.WEBCHAT),
                inbound("consulter@example.jp", channel=ChannelKind.MAIL),  # chat_id + 1
            ]
        )
    async with running(cfg) as url:
        yield Server(url=url, cfg=cfg, ids=ids), sms.conversation_id, chat.conversation_id


async def call(
    s: aiohttp.ClientSession, method: str, url: str, body: object = None
) -> tuple[int, Any]:
    async with s.request(method, url, json=body) as r:
        return r.status, await r.json()


async def test_pseudonymous_reveal_needs_the_role_and_a_reason(
    site: tuple[Server, int, int], captured_logs: io.StringIO
) -> None:
    server, _, chat_id = site
    mail_id = chat_id + 1
    base = f"{server.url}/api/conversations/{mail_id}"
    async with await sign_in(server.url, "sato") as sato, await sign_in(server.url, "boss") as boss:
        status, body = await call(sato, "GET", f"{base}/contact")
        assert status == 200
        assert body["contact"]["anonymity"] == "pseudonymous"
        assert body["contact"]["address"] is None and body["contact"]["alias"].startswith("相談者-")
        assert body["contact"]["revealable"] is False  # not her role
        status, body = await call(boss, "GET", f"{base}/contact")
        assert body["contact"]["revealable"] is True
        status, body = await call(sato, "POST", f"{base}/reveal", {"reason": "折り返し電話のため"})
        assert status == 403 and "supervisor" in body["error"]["message"]
        status, body = await call(boss, "POST", f"{base}/reveal", {})
        assert (status, body["error"]["field"]) == (400, "reason")
        status, body = await call(boss, "POST", f"{base}/reveal", {"reason": "警察からの照会"})
        assert (status, body) == (200, {"address": "consulter@example.jp", "channel": "mail"})
    assert server.cfg.database.sqlite_path is not None
    async with SqliteStore(server.cfg.database.sqlite_path) as store:
        events = await store.list_events()
    revealed = [e for e in events if e.kind == "address_revealed"]
    assert [(e.actor_id, e.conversation_id, e.data) for e in revealed] == [
        (server.ids["boss"], mail_id, {"reason": "警察からの照会", "anonymity": "pseudonymous"})
    ]
    assert "consulter@example.jp" not in captured_logs.getvalue()


async def test_a_web_chat_session_has_no_address_to_reveal_and_nothing_is_audited(
    site: tuple[Server, int, int], captured_logs: io.StringIO
) -> None:
    server, _, chat_id = site
    base = f"{server.url}/api/conversations/{chat_id}"
    async with await sign_in(server.url, "boss") as boss:
        status, body = await call(boss, "GET", f"{base}/contact")
        assert (status, body["contact"]["revealable"], body["contact"]["address"]) == (
            200,
            False,
            None,
        )
        status, body = await call(boss, "POST", f"{base}/reveal", {"reason": "確認"})
        assert (status, body["error"]["code"]) == (409, "conflict")
        # even where web chat is "identified", its session key is never shown
        status, _ = await call(boss, "PUT", f"{base}/anonymity", {"anonymity": "identified"})
        status, body = await call(boss, "GET", f"{base}/contact")
        assert body["contact"]["address"] is None
    assert server.cfg.database.sqlite_path is not None
    async with SqliteStore(server.cfg.database.sqlite_path) as store:
        events = await store.list_events()
    assert not [e for e in events if e.kind == "address_revealed"]
    assert "session-key" not in captured_logs.getvalue()


async def test_anonymous_is_never_revealed_identified_is_shown(
    site: tuple[Server, int, int], captured_logs: io.StringIO
) -> None:
    server, sms_id, _ = site
    async with await sign_in(server.url, "boss") as boss:
        status, body = await call(
            boss, "POST", f"{server.url}/api/conversations/{sms_id}/reveal", {"reason": "確認"}
        )
        assert status == 403 and "anonymous" in body["error"]["message"]
        phone_id = sms_id + 1
        status, body = await call(boss, "GET", f"{server.url}/api/conversations/{phone_id}/contact")
        assert body["contact"]["anonymity"] == "identified"
        assert body["contact"]["address"] == ADDRESS
    assert ADDRESS not in captured_logs.getvalue()


async def test_the_contact_chooses_her_own_mode(site: tuple[Server, int, int]) -> None:
    server, _, chat_id = site
    base = f"{server.url}/api/conversations/{chat_id}"
    async with await sign_in(server.url, "boss") as boss:
        status, body = await call(boss, "PUT", f"{base}/anonymity", {"anonymity": "secret"})
        assert (status, body["error"]["field"]) == (400, "anonymity")
        status, body = await call(boss, "PUT", f"{base}/anonymity", {"anonymity": "anonymous"})
        assert status == 200
        assert body["contact"]["anonymity"] == "anonymous"
        assert body["contact"]["anonymity_source"] == "contact"
        status, _ = await call(boss, "POST", f"{base}/reveal", {"reason": "確認"})
        assert status == 403
        status, body = await call(boss, "PUT", f"{base}/anonymity", {"anonymity": None})
        assert body["contact"]["anonymity"] == "pseudonymous"
        assert body["contact"]["anonymity_source"] == "channel"
    async with await sign_in(server.url, "sato") as sato:
        status, _ = await call(sato, "PUT", f"{base}/anonymity", {"anonymity": "identified"})
        assert status == 403  # not her conversation


def test_reveal_roles_come_from_config(tmp_path: Path) -> None:
    from inbox.config import load_config

    path = tmp_path / "c.toml"
    path.write_text('[privacy]\nreveal_roles = ["admin"]\nanonymity = { default = "anonymous" }\n')
    cfg = load_config(path, env={})
    assert cfg.privacy.reveal_roles == {Role.ADMIN}
    assert cfg.privacy.anonymity.mode(ChannelKind.LINE, None) is Anonymity.ANONYMOUS
    path.write_text('[privacy]\nanonymity = { fax = "anonymous" }\n')
    with pytest.raises(ConfigError, match=r"privacy\.anonymity\.fax: neither default nor"):
        load_config(path, env={})
