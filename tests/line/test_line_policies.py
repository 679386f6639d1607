"""LINE under the policies of every channel: urgent triage, anonymity (her LINE id is never
shown; her display name is fetched and shown only where the program identifies consulters)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from inbox.core.model import Anonymity, ChannelKind, ConversationId
from inbox.privacy import AnonymityPolicy
from tests.line.conftest import USER, body, line_config, line_messages, message, post
from tests.line_fake import LineFake
from tests.sms.outbound import call
from tests.web.conftest import Site, served_site, sign_in

LINE = ChannelKind.LINE


@pytest.fixture
async def identified_site(
    tmp_path: Path, fake: LineFake, store_kind: str, request: pytest.FixtureRequest
) -> AsyncIterator[Site]:
    cfg = line_config(tmp_path, fake)
    policy = AnonymityPolicy(by_channel=((LINE, Anonymity.IDENTIFIED),))
    cfg = dataclasses.replace(cfg, privacy=dataclasses.replace(cfg.privacy, anonymity=policy))
    async with served_site(cfg, store_kind=store_kind, request=request) as site:
        yield site


async def contact_of(site: Site, conv: ConversationId) -> dict[str, object]:
    async with await sign_in(site.url, "boss") as boss:
        status, data = await call(boss, "GET", f"{site.url}/api/conversations/{conv}/contact")
        assert status == 200, data
        return dict(data["contact"])


async def test_her_line_id_is_never_shown_nor_her_profile_fetched(
    line_site: Site, fake: LineFake
) -> None:
    fake.profiles[USER] = "さくら"
    await post(line_site, body(message(text="こんにちは")))
    (stored,) = await line_messages(line_site)
    contact = await contact_of(line_site, stored.conversation_id)
    assert contact["address"] is None and contact["revealable"] is False
    assert not any("/profile/" in r.path for r in fake.requests)
    async with await sign_in(line_site.url, "boss") as boss:
        status, _ = await call(
            boss,
            "POST",
            f"{line_site.url}/api/conversations/{stored.conversation_id}/reveal",
            {"reason": "確認のため"},
        )
    assert status == 409  # nothing to reveal: her id reaches no one outside LINE


@pytest.mark.both_stores
async def test_an_identified_program_shows_her_line_name(
    identified_site: Site, fake: LineFake
) -> None:
    fake.profiles[USER] = "さくら🌸"
    await post(identified_site, body(message(text="こんにちは")))
    await post(identified_site, body(message(text="二通目です")))
    conv = (await line_messages(identified_site))[0].conversation_id
    contact = await contact_of(identified_site, conv)
    assert contact["address"] == "さくら🌸" and contact["anonymity"] == "identified"
    # asked once: the name is kept
    assert len([r for r in fake.requests if "/profile/" in r.path]) == 1


@pytest.mark.both_stores
async def test_urgent_words_on_line_are_triaged_as_everywhere(line_site: Site) -> None:
    await post(line_site, body(message(text="もう死にたい")))
    (stored,) = await line_messages(line_site)
    conv = await line_site.store.get_conversation(stored.conversation_id)
    assert conv.priority > 0
    kinds = {e.kind for e in await line_site.store.list_events()}
    assert "supervisors_alerted" in kinds
