"""One consulter across channels through the real server: a supervisor links her e-mail
conversation and her web chat (two contacts to the intake), with a reason; either timeline then
shows both channels, staff see one alias, and the audit holds no address."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from inbox.core.model import ChannelKind, CounselorUpdate, Presence, UserId
from storage.sqlite.store import SqliteStore
from tests.factories import T0, inbound
from tests.web.conftest import Server, add_staff, make_config, running, sign_in
from tests.web.test_contact import call

MAIL, CHAT = "hanako@example.jp", "chat-session-key"


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[tuple[Server, int, int, int]]:
    """Her e-mail and her web chat, both sato's; a stranger's conversation, in the queue."""
    cfg = make_config(tmp_path)
    ids = await add_staff(cfg)
    assert cfg.database.sqlite_path is not None
    async with SqliteStore(cfg.database.sqlite_path) as store:
        for name in ("sato", "suzuki"):  # the router leaves the queue as it is
            away = CounselorUpdate(presence=Presence.AWAY)
            await store.update_counselor(
                UserId(ids[name]), away, actor_id=UserId(ids[name]), now=T0
            )
        mail, chat, stranger = await store.save_inbound_batch(
            [
                inbound(MAIL, channel=ChannelKind.MAIL, body="メールで相談します"),
                inbound(CHAT, channel=ChannelKind.WEBCHAT, body="チャットでも話したい"),
                inbound("stranger@example.jp", channel=ChannelKind.MAIL),
            ]
        )
        for conv in (mail, chat):
            await store.assign(
                conv.conversation_id, UserId(ids["sato"]), actor_id=UserId(ids["boss"]), now=T0,
                capacity=None,
            )  # fmt: skip
    async with running(cfg) as url:
        yield (
            Server(url=url, cfg=cfg, ids=ids),
            mail.conversation_id,
            chat.conversation_id,
            stranger.conversation_id,
        )


async def test_a_supervisor_links_her_mail_and_chat_into_one_timeline(
    site: tuple[Server, int, int, int], captured_logs: io.StringIO
) -> None:
    server, mail_id, chat_id, stranger_id = site
    api = f"{server.url}/api/conversations"
    async with await sign_in(server.url, "sato") as sato, await sign_in(server.url, "boss") as boss:
        _, before = await call(sato, "GET", f"{api}/{chat_id}/timeline")
        assert [c["id"] for c in before["conversations"]] == [chat_id]
        _, mail = await call(sato, "GET", f"{api}/{mail_id}")
        mail_alias = mail["conversation"]["contact_alias"]
        assert mail_alias != before["contact_alias"]
        link = {"conversation_id": mail_id, "reason": "同じ方だと本人が話した"}
        status, body = await call(sato, "POST", f"{api}/{chat_id}/link", link)
        assert (status, body["error"]["code"]) == (403, "forbidden")

        status, body = await call(boss, "POST", f"{api}/{chat_id}/link", link)

        assert status == 200
        assert body == {"contact_alias": before["contact_alias"], "merged_alias": mail_alias}
        for conv_id in (chat_id, mail_id):  # either timeline shows both channels
            _, timeline = await call(sato, "GET", f"{api}/{conv_id}/timeline")
            lines = timeline["conversations"]
            assert [c["id"] for c in lines] == [chat_id, mail_id]
            assert {c["channel"] for c in lines} == {"mail", "webchat"}
            assert {c["contact_alias"] for c in lines} == {before["contact_alias"]}
            assert timeline["contact_alias"] == before["contact_alias"]
            assert stranger_id not in [c["id"] for c in lines]
        _, mail = await call(sato, "GET", f"{api}/{mail_id}")
        assert mail["conversation"]["contact_alias"] == before["contact_alias"]
        _, page = await call(sato, "GET", f"{api}/{chat_id}/timeline/{mail_id}/messages")
        assert [m["body"] for m in page["messages"]] == ["メールで相談します"]
        # each reply still goes where its conversation came from
        _, contact = await call(boss, "POST", f"{api}/{mail_id}/reveal", {"reason": "確認"})
        assert contact == {"address": MAIL, "channel": "mail"}
    assert server.cfg.database.sqlite_path is not None
    async with SqliteStore(server.cfg.database.sqlite_path) as store:
        linked = [e for e in await store.list_events() if e.kind == "contacts_linked"]
    [event] = linked
    assert (event.actor_id, event.conversation_id) == (server.ids["boss"], chat_id)
    assert event.data["reason"] == "同じ方だと本人が話した"
    assert event.data["linked_conversation_id"] == mail_id
    assert event.data["contact_id"] != event.data["merged_contact_id"]
    assert MAIL not in repr(event) and CHAT not in repr(event)
    assert MAIL not in captured_logs.getvalue() and CHAT not in captured_logs.getvalue()


async def test_linking_needs_a_reason_and_another_consulter(
    site: tuple[Server, int, int, int],
) -> None:
    server, mail_id, chat_id, _ = site
    link = f"{server.url}/api/conversations/{chat_id}/link"
    async with await sign_in(server.url, "boss") as boss:
        cases = [
            ({"conversation_id": mail_id}, 400, "reason"),
            ({"conversation_id": mail_id, "reason": "  "}, 400, "reason"),
            ({"reason": "同じ方"}, 400, "conversation_id"),
            ({"conversation_id": "1", "reason": "同じ方"}, 400, "conversation_id"),
            ({"conversation_id": chat_id, "reason": "同じ方"}, 400, "conversation_id"),
            ({"conversation_id": 999_999, "reason": "同じ方"}, 404, None),
        ]
        for body, status, field in cases:
            got, answer = await call(boss, "POST", link, body)
            assert (got, answer["error"].get("field")) == (status, field), body
        status, _ = await call(
            boss, "POST", f"{server.url}/api/conversations/999999/link",
            {"conversation_id": mail_id, "reason": "同じ方"},
        )  # fmt: skip
        assert status == 404
        ok = {"conversation_id": mail_id, "reason": "同じ方"}
        assert (await call(boss, "POST", link, ok))[0] == 200
        status, answer = await call(boss, "POST", link, ok)  # hers already
        assert (status, answer["error"]["field"]) == (400, "conversation_id")
    async with SqliteStore(server.cfg.database.sqlite_path or Path()) as store:
        kinds = [e.kind for e in await store.list_events() if e.kind == "contacts_linked"]
    assert kinds == ["contacts_linked"]
