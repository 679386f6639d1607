"""What phone staff reach now that they are routing agents: a callback of hers (or a call they
logged, which stays theirs once closed) opens her phone conversations only, never her chats
or the counselors' notes on them; and they set their own presence, as counselors do."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp
import pytest

from inbox.core.model import ChannelKind, ConversationId
from tests.web.conftest import Site, sign_in
from tests.web.test_supervision import call, everyone_away, now_inbound, seed


async def _her_chat_then_a_call(
    site: Site, boss: aiohttp.ClientSession
) -> tuple[ConversationId, ConversationId]:
    """Sato helped her in the chat (a reply, a note); then a call of hers, linked to her, is
    given to phone staff."""
    await everyone_away(site, boss)
    url = f"{site.url}/api/conversations"
    (chat,) = await seed(site, now_inbound("a@example.jp", body="夫のことで相談です"))
    assert (await call(boss, "POST", f"{url}/{chat}/assign", {"user_id": site.id("sato")}))[
        0
    ] == 200
    async with await sign_in(site.url, "sato") as sato:
        assert (await call(sato, "POST", f"{url}/{chat}/notes", {"body": "相談員のメモ"}))[0] == 201
        assert (await call(sato, "POST", f"{url}/{chat}/close", {"outcome": "listened"}))[0] == 200
    (phone,) = await seed(site, now_inbound("+81312345678", channel=ChannelKind.PHONE, body=""))
    link = {"conversation_id": phone, "reason": "同じ方と確認"}
    assert (await call(boss, "POST", f"{url}/{chat}/link", link))[0] == 200
    given = {"user_id": site.id("phone")}
    assert (await call(boss, "POST", f"{url}/{phone}/assign", given))[0] == 200
    return chat, phone


@pytest.mark.both_stores
async def test_phone_staff_given_her_callback_read_only_her_phone_conversations(
    site: Site, boss: aiohttp.ClientSession
) -> None:
    chat, phone = await _her_chat_then_a_call(site, boss)
    url = f"{site.url}/api/conversations"
    async with await sign_in(site.url, "phone") as staff:
        for _ in range(2):  # assigned, then closed (a logged call stays theirs)
            status, timeline = await call(staff, "GET", f"{url}/{phone}/timeline")
            assert status == 200
            assert [c["id"] for c in timeline["conversations"]] == [phone]
            assert timeline["restricted"] is True
            status, _ = await call(staff, "GET", f"{url}/{phone}/timeline/{chat}/messages")
            assert status == 404
            status, opened = await call(staff, "GET", f"{url}/{phone}")
            assert status == 200
            assert (
                opened["conversation"]["returning"],
                opened["conversation"]["last_helped_by"],
            ) == (
                False,
                None,
            )
            status, found = await call(staff, "GET", f"{site.url}/api/search?q=夫のことで相談です")
            assert (status, found["results"]) == (200, [])
            status, found = await call(staff, "GET", f"{site.url}/api/search?q=相談員のメモ")
            assert (status, found["results"]) == (200, [])
            status, _ = await call(staff, "GET", f"{url}/{phone}/handover")
            assert status == 403
            status, _ = await call(staff, "GET", f"{url}/{chat}")
            assert status == 404
            # a logged call: closed, and still theirs
            if (await site.store.get_conversation(phone)).status.value != "closed":
                await site.store.close(phone, actor_id=site.id("phone"), now=datetime.now(UTC))
            conv = await site.store.get_conversation(phone)
            assert (conv.status.value, conv.assignee_id) == ("closed", site.id("phone"))
    # a supervisor still reads it all from the call
    status, timeline = await call(boss, "GET", f"{url}/{phone}/timeline")
    assert [c["id"] for c in timeline["conversations"]] == [phone, chat]


@pytest.mark.both_stores
async def test_phone_staff_set_their_own_presence_and_see_it(
    site: Site, boss: aiohttp.ClientSession
) -> None:
    me = site.id("phone")
    async with await sign_in(site.url, "phone") as staff:
        status, answer = await call(staff, "GET", f"{site.url}/api/me")
        assert (status, answer["presence"]) == (200, "available")
        assert answer["load"]["open"] == 0
        for presence in ("away", "offline", "available", "away"):
            status, answer = await call(
                staff, "PATCH", f"{site.url}/api/counselors/{me}", {"presence": presence}
            )
            assert (status, answer["counselor"]["presence"]) == (200, presence)
            status, answer = await call(staff, "GET", f"{site.url}/api/me")
            assert answer["presence"] == presence
        status, answer = await call(staff, "GET", f"{site.url}/api/counselors/{me}")
        assert (status, answer["counselor"]["presence"]) == (200, "away")
        # herself only, and her presence only
        status, _ = await call(staff, "PATCH", f"{site.url}/api/counselors/{me}", {"capacity": 9})
        assert status == 403
        other = site.id("sato")
        status, _ = await call(
            staff, "PATCH", f"{site.url}/api/counselors/{other}", {"presence": "away"}
        )
        assert status == 403
    # the router passes her by while away: the store's routing profile says so
    agents = {a.user_id: a.presence.value for a in (await site.store.routing_snapshot()).agents}
    assert agents[me] == "away"
