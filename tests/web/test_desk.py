"""The counselor's desk through the real server: labels' words, tags, canned replies, names instead
of ids, her load in /api/me, and the error codes the console translates."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator

import aiohttp
import pytest

from inbox.core.model import ChannelKind, IntakeLabels
from inbox.web.application import STATIC_DIR
from inbox.web.server import ERROR_CODES
from tests.web.conftest import Site, sign_in
from tests.web.test_supervision import call, everyone_away, now_inbound, seed


@pytest.fixture
async def sato(site: Site) -> AsyncIterator[aiohttp.ClientSession]:
    async with await sign_in(site.url, "sato") as session:
        yield session


async def _give(site: Site, boss: aiohttp.ClientSession, conv: int, to: str) -> None:
    status, _ = await call(
        boss, "POST", f"{site.url}/api/conversations/{conv}/assign", {"user_id": site.id(to)}
    )
    assert status == 200


async def test_labels_give_every_tag_and_triage_label_in_both_languages(
    site: Site, sato: aiohttp.ClientSession
) -> None:
    status, body = await call(sato, "GET", f"{site.url}/api/labels")
    assert status == 200
    tags = {t["id"]: t for t in body["tags"]}
    assert tags["dv"] == {"id": "dv", "ja": "DV", "en": "Domestic violence"}
    assert tags["poverty"]["ja"] == "生活困窮"
    labels = {t["id"]: (t["ja"], t["en"]) for t in body["labels"]}
    assert labels["suicide_risk"] == ("自殺の危険", "Suicide risk")
    assert labels["urgent"] == ("緊急", "Urgent") and "immediate_danger" in labels
    assert body["max_tags"] == 20 and body["max_tag_chars"] == 40


@pytest.mark.both_stores
async def test_tags_are_cleaned_deduplicated_and_triage_labels_stay(
    site: Site, boss: aiohttp.ClientSession, sato: aiohttp.ClientSession
) -> None:
    await everyone_away(site, boss)
    urgent = IntakeLabels(priority=100, tags=frozenset({"urgent", "suicide_risk"}))
    (conv,) = await seed(site, dataclasses.replace(now_inbound("a@example.jp"), labels=urgent))
    await _give(site, boss, conv, "sato")
    url = f"{site.url}/api/conversations/{conv}/tags"
    # full-width, the Japanese word of a configured tag, spaces, a repeat, a free tag
    status, body = await call(
        sato, "PUT", url, {"tags": ["ＤＶ", " 生活困窮 ", "dv", "  ｼｪﾙﾀｰ  希望 ", "urgent"]}
    )
    assert status == 200, body
    tags = body["conversation"]["tags"]
    assert sorted(tags[:2]) == ["suicide_risk", "urgent"]  # triage's, kept first
    assert tags[2:] == ["dv", "poverty", "シェルター 希望"]
    assert body["conversation"]["assignee_name"] == "Sato"
    assert (await site.store.get_conversation(conv)).tags == tuple(tags)

    status, body = await call(sato, "PUT", url, {"tags": []})
    assert status == 200 and sorted(body["conversation"]["tags"]) == ["suicide_risk", "urgent"]
    kinds = [e.kind for e in await site.store.list_events() if e.conversation_id == conv]
    assert kinds.count("tags_set") == 2


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({}, 400, "tags"),
        ({"tags": "dv"}, 400, "tags"),
        ({"tags": [1]}, 400, "tags"),
        ({"tags": ["  "]}, 400, "tags"),
        ({"tags": ["x" * 41]}, 413, "tags"),
        ({"tags": [f"t{i}" for i in range(21)]}, 413, "tags"),
    ],
)
async def test_bad_tags_name_the_field(
    site: Site,
    boss: aiohttp.ClientSession,
    body: object,
    status: int,
    field: str,
) -> None:
    (conv,) = await seed(site, now_inbound("a@example.jp"))
    answer, error = await call(boss, "PUT", f"{site.url}/api/conversations/{conv}/tags", body)
    assert answer == status
    assert error["error"]["field"] == field and error["error"]["code"] in ERROR_CODES


async def test_names_instead_of_ids_in_conversations_messages_and_supervision(
    site: Site, boss: aiohttp.ClientSession, sato: aiohttp.ClientSession
) -> None:
    await everyone_away(site, boss)
    (conv,) = await seed(site, now_inbound("a@example.jp"))
    await _give(site, boss, conv, "sato")
    status, body = await call(
        sato, "POST", f"{site.url}/api/conversations/{conv}/replies", {"body": "こんにちは"}
    )
    assert status == 201 and body["message"]["author_name"] == "Sato"
    status, body = await call(
        boss, "POST", f"{site.url}/api/conversations/{conv}/notes", {"body": "メモ"}
    )
    assert body["message"]["author_name"] == "Boss"
    status, body = await call(sato, "GET", f"{site.url}/api/conversations/{conv}")
    assert body["conversation"]["assignee_name"] == "Sato"
    # (an automatic reply, outbound without an author, may come in between: the auto-replier runs)
    named = [(m["direction"], m["author_name"]) for m in body["messages"] if m["author_id"]]
    assert named == [("outbound", "Sato"), ("note", "Boss")]
    assert all(m["author_name"] is None for m in body["messages"] if m["author_id"] is None)
    status, body = await call(sato, "GET", f"{site.url}/api/conversations")
    assert [c["assignee_name"] for c in body["conversations"]] == ["Sato"]
    status, body = await call(boss, "GET", f"{site.url}/api/supervision")
    names = {c["display_name"] for c in body["counselors"]}
    assert names == {"Sato", "Suzuki"}


async def test_me_tells_her_presence_and_load_against_capacity(
    site: Site, boss: aiohttp.ClientSession, sato: aiohttp.ClientSession
) -> None:
    await everyone_away(site, boss)
    mail, chat, _ = await seed(
        site,
        now_inbound("a@example.jp", channel=ChannelKind.MAIL),
        now_inbound("b@example.jp"),
        now_inbound("c@example.jp"),
    )
    await _give(site, boss, mail, "sato")
    await _give(site, boss, chat, "sato")
    status, body = await call(sato, "GET", f"{site.url}/api/me")
    assert status == 200
    assert body["user"]["display_name"] == "Sato" and body["presence"] == "away"
    assert body["load"] == {
        "open": 2,
        "capacity": 3,
        "by_channel": {"mail": 1, "webchat": 1},
        "channel_capacity": {},
    }
    # she sets her own presence (PATCH /api/counselors/{id}) and /api/me follows
    status, _ = await call(
        sato, "PATCH", f"{site.url}/api/counselors/{site.id('sato')}", {"presence": "available"}
    )
    assert status == 200
    _, body = await call(sato, "GET", f"{site.url}/api/me")
    assert body["presence"] == "available"
    async with await sign_in(site.url, "admin") as admin:
        _, body = await call(admin, "GET", f"{site.url}/api/me")
    assert body["presence"] is None and body["load"] is None  # no counselor


@pytest.mark.both_stores
async def test_a_supervisor_edits_canned_replies_and_a_counselor_reads_them(
    site: Site, boss: aiohttp.ClientSession, sato: aiohttp.ClientSession
) -> None:
    base = f"{site.url}/api/canned-replies"
    status, body = await call(sato, "GET", base)
    assert status == 200 and len(body["canned_replies"]) == 5
    assert body["canned_replies"][0]["title_ja"] == "はじめのあいさつ"
    status, body = await call(
        boss,
        "POST",
        base,
        {"title_ja": " 相談窓口の案内 ", "body_ja": "窓口は平日9時から", "title_en": None},
    )
    assert status == 201, body
    made = body["canned_reply"]
    assert made["title_ja"] == "相談窓口の案内" and made["title_en"] == ""
    assert made["updated_by_name"] == "Boss"
    status, body = await call(boss, "PATCH", f"{base}/{made['id']}", {"body_en": "Weekdays from 9"})
    assert status == 200 and body["canned_reply"]["body_ja"] == "窓口は平日9時から"
    assert body["canned_reply"]["position"] == made["position"]
    _, body = await call(sato, "GET", base)
    last = body["canned_replies"][-1]
    assert (last["id"], last["body_en"], last["updated_by_name"]) == (
        made["id"],
        "Weekdays from 9",
        "Boss",
    )
    status, _ = await call(boss, "DELETE", f"{base}/{made['id']}")
    assert status == 204
    _, body = await call(sato, "GET", base)
    assert made["id"] not in [r["id"] for r in body["canned_replies"]]
    status, body = await call(boss, "DELETE", f"{base}/{made['id']}")
    assert status == 404 and body["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"body_ja": "本文"}, 400, "title_ja"),
        ({"title_ja": "件名"}, 400, "body_ja"),
        ({"title_ja": "  ", "title_en": "", "body_ja": "x"}, 400, "title_ja"),
        ({"title_ja": "件名", "body_ja": 3}, 400, "body_ja"),
        ({"title_ja": "x" * 101, "body_ja": "本文"}, 413, "title_ja"),
        ({"title_ja": "件名", "body_en": "x" * 4001}, 413, "body_en"),
        ({"title_ja": "件名", "body_ja": "本文", "position": 1.5}, 400, "position"),
        ({"title_ja": "件名", "body_ja": "本文", "colour": "red"}, 400, "colour"),
    ],
)
async def test_bad_canned_replies_name_the_field(
    site: Site, boss: aiohttp.ClientSession, body: object, status: int, field: str
) -> None:
    answer, error = await call(boss, "POST", f"{site.url}/api/canned-replies", body)
    assert (answer, error["error"]["field"]) == (status, field)


async def test_patch_checks_the_merged_reply(site: Site, boss: aiohttp.ClientSession) -> None:
    _, body = await call(boss, "GET", f"{site.url}/api/canned-replies")
    first = body["canned_replies"][0]["id"]
    url = f"{site.url}/api/canned-replies/{first}"
    status, error = await call(boss, "PATCH", url, {"body_ja": "", "body_en": ""})
    assert (status, error["error"]["field"]) == (400, "body_ja")
    status, error = await call(boss, "PATCH", url, {})
    assert (status, error["error"]["field"]) == (400, "body")


def test_every_error_code_has_words_in_both_languages() -> None:
    """The console says each server error in the UI's language (i18n.js error.code.<code>)."""
    i18n = (STATIC_DIR / "i18n.js").read_text(encoding="utf-8")
    for code in ERROR_CODES:
        found = re.findall(rf'"error\.code\.{code}":', i18n)
        assert len(found) == 2, (code, len(found))  # once in ja, once in en
