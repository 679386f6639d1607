"""The counselor's context over HTTP: closing with an outcome, a returning consulter's timeline,
and search (what a counselor finds, a closed conversation she can open, filters, bad input)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from inbox.core.model import ChannelKind
from tests.factories import inbound
from tests.web.conftest import Site, sign_in
from tests.web.test_supervision import call, everyone_away, now_inbound, sato, seed

__all__ = ["sato"]  # the fixture, used by name


async def _close(
    site: Site, who: aiohttp.ClientSession, conv: int, body: object
) -> tuple[int, dict[str, object]]:
    return await call(who, "POST", f"{site.url}/api/conversations/{conv}/close", body)


async def _give(site: Site, boss: aiohttp.ClientSession, conv: int, to: str) -> None:
    url = f"{site.url}/api/conversations/{conv}/assign"
    assert (await call(boss, "POST", url, {"user_id": site.id(to)}))[0] == 200


@pytest.mark.both_stores
async def test_closing_needs_a_known_outcome_and_keeps_it(
    site: Site, boss: aiohttp.ClientSession, sato: aiohttp.ClientSession
) -> None:
    await everyone_away(site, boss)
    (conv,) = await seed(site, now_inbound("a@example.jp", body="相談したいです"))
    await _give(site, boss, conv, "sato")
    status, body = await _close(site, sato, conv, {})
    assert (status, body["error"]["field"]) == (400, "outcome")  # type: ignore[index]
    status, body = await _close(site, sato, conv, {"outcome": "solved_everything"})
    assert (status, body["error"]["field"]) == (400, "outcome")  # type: ignore[index]
    assert "referred" in body["error"]["message"]  # type: ignore[index]
    status, body = await _close(site, sato, conv, {"outcome": "referred", "note": "x" * 2001})
    assert (status, body["error"]["field"]) == (413, "note")  # type: ignore[index]
    status, body = await _close(
        site, sato, conv, {"outcome": "referred", "note": " 福祉事務所を紹介 "}
    )
    assert status == 200
    closed = body["conversation"]
    assert (closed["status"], closed["outcome"], closed["outcome_note"]) == (  # type: ignore[index]
        "closed",
        "referred",
        "福祉事務所を紹介",
    )
    status, outcomes = await call(sato, "GET", f"{site.url}/api/outcomes")
    assert status == 200
    assert {
        "id": "referred",
        "ja": "他機関を紹介（連携）",
        "en": "Referred to a partner agency",
    } in (outcomes["outcomes"])
    # a phone callback's endings are shown in words, never offered when closing
    shown = {o["id"]: o["ja"] for o in outcomes["shown"]}
    assert shown["callback_tries_used"] == "折り返し：試行回数の上限"
    assert shown["no_answer"] == "応答なし"
    assert not set(shown) & {o["id"] for o in outcomes["outcomes"]}


async def test_a_returning_consulter_shows_her_history_and_who_helped_her(
    site: Site, boss: aiohttp.ClientSession, sato: aiohttp.ClientSession
) -> None:
    await everyone_away(site, boss)
    (first,) = await seed(site, now_inbound("a@example.jp", body="前回の相談です"))
    await _give(site, boss, first, "sato")
    url = f"{site.url}/api/conversations"
    assert (await call(sato, "POST", f"{url}/{first}/replies", {"body": "お話を聞かせてください"}))[
        0
    ] == 201
    assert (await _close(site, sato, first, {"outcome": "listened"}))[0] == 200
    (second,) = await seed(site, now_inbound("a@example.jp", body="また相談させてください"))
    await _give(site, boss, second, "suzuki")

    async with await sign_in(site.url, "suzuki") as suzuki:
        status, opened = await call(suzuki, "GET", f"{url}/{second}")
        assert status == 200
        assert opened["conversation"]["returning"] is True
        assert opened["conversation"]["last_helped_by"] == "Sato"
        status, timeline = await call(suzuki, "GET", f"{url}/{second}/timeline")
        assert status == 200
        lines = timeline["conversations"]
        assert [(c["id"], c["current"]) for c in lines] == [(second, True), (first, False)]
        earlier = lines[1]
        assert (earlier["status"], earlier["outcome"], earlier["handled_by_name"]) == (
            "closed",
            "listened",
            "Sato",
        )
        status, page = await call(suzuki, "GET", f"{url}/{second}/timeline/{first}/messages")
        assert status == 200
        # what people wrote (an automatic waiting-line reply may come between, or not)
        written_and_automatic = page["messages"]
        written = [
            m for m in written_and_automatic if m["direction"] == "inbound" or m["author_id"]
        ]
        assert [m["body"] for m in written] == [
            "前回の相談です",
            "お話を聞かせてください",
        ]
        status, page = await call(
            suzuki, "GET", f"{url}/{second}/timeline/{first}/messages?limit=1"
        )
        every = [m["id"] for m in written_and_automatic]
        assert [m["id"] for m in page["messages"]] == every[-1:]
        # the last: the satisfaction survey's question, sent when it was closed ([survey])
        assert page["messages"][0]["body"] == "今回の相談はいかがでしたか？"
        status, page = await call(
            suzuki,
            "GET",
            f"{url}/{second}/timeline/{first}/messages?limit=1&before={page['next_before']}",
        )
        assert [m["id"] for m in page["messages"]] == every[-2:-1]  # a page back, in order
        # another consulter's conversation is not part of her timeline
        (stranger,) = await seed(site, now_inbound("b@example.jp"))
        status, _ = await call(suzuki, "GET", f"{url}/{second}/timeline/{stranger}/messages")
        assert status == 404
        # nor may suzuki read a timeline from a conversation she cannot see
        status, _ = await call(suzuki, "GET", f"{url}/{first}/timeline")
        assert status == 404

    status, opened = await call(sato, "GET", f"{url}/{first}")
    assert (status, opened["conversation"]["returning"]) == (200, False)


async def test_her_history_is_for_whoever_helps_her_not_for_anyone_who_sees_the_queue(
    site: Site, boss: aiohttp.ClientSession, sato: aiohttp.ClientSession
) -> None:
    """A queued conversation is readable by every counselor on duty; her earlier ones (their
    notes and closing notes) only by its assignee and by supervisors: the others' timeline
    holds what they may see anyway."""
    await everyone_away(site, boss)
    (first,) = await seed(site, now_inbound("c@example.jp", body="前にも書きました"))
    await _give(site, boss, first, "suzuki")
    url = f"{site.url}/api/conversations"
    assert (await call(boss, "POST", f"{url}/{first}/notes", {"body": "内部メモ"}))[0] == 201
    assert (await _close(site, boss, first, {"outcome": "listened", "note": "終了メモ"}))[0] == 200
    (second,) = await seed(site, now_inbound("c@example.jp", body="また書きます"))
    status, queued = await call(sato, "GET", f"{url}/{second}")
    assert (status, queued["conversation"]["status"]) == (200, "queued")

    status, history = await call(sato, "GET", f"{url}/{second}/timeline")
    assert (status, history["restricted"]) == (200, True)
    assert [c["id"] for c in history["conversations"]] == [second]  # what she sees anyway
    status, _ = await call(sato, "GET", f"{url}/{second}/timeline/{first}/messages")
    assert status == 404
    status, history = await call(boss, "GET", f"{url}/{second}/timeline")
    assert (status, history["restricted"]) == (200, False)
    assert [c["id"] for c in history["conversations"]] == [second, first]

    await _give(site, boss, second, "sato")
    status, history = await call(sato, "GET", f"{url}/{second}/timeline")
    assert (history["restricted"], [c["id"] for c in history["conversations"]]) == (
        False,
        [second, first],
    )
    status, page = await call(sato, "GET", f"{url}/{second}/timeline/{first}/messages")
    assert status == 200 and "内部メモ" in [m["body"] for m in page["messages"]]


@pytest.mark.both_stores
async def test_a_counselor_finds_a_closed_conversation_by_a_japanese_word_and_opens_it(
    site: Site, boss: aiohttp.ClientSession, sato: aiohttp.ClientSession
) -> None:
    await everyone_away(site, boss)
    hers, moved, others = await seed(
        site,
        now_inbound("a@example.jp", body="夜になると眠れない日が続いています"),
        now_inbound("b@example.jp", body="眠れないし食欲もありません"),
        now_inbound("c@example.jp", body="眠れない夜です"),
    )
    await _give(site, boss, hers, "sato")
    await _give(site, boss, moved, "sato")
    replies = f"{site.url}/api/conversations/{moved}/replies"
    assert (await call(sato, "POST", replies, {"body": "お返事します"}))[0] == 201
    await _give(site, boss, moved, "suzuki")  # moved away: she wrote in it, so it is still hers
    assert (await _close(site, boss, moved, {"outcome": "lost_contact"}))[0] == 200
    await _give(site, boss, others, "suzuki")

    status, found = await call(sato, "GET", f"{site.url}/api/search?q=眠れない")
    assert status == 200
    assert [r["id"] for r in found["results"]] == [moved, hers]
    closed = found["results"][0]
    assert (closed["status"], closed["outcome"], closed["handled_by_name"]) == (
        "closed",
        "lost_contact",
        "Suzuki",
    )
    assert "眠れない" in closed["snippet"] and found["scope"] == "all"
    status, opened = await call(sato, "GET", f"{site.url}/api/conversations/{moved}")
    assert status == 200 and opened["conversation"]["status"] == "closed"
    # reading is not acting: for replies it is still someone else's conversation
    assert (await call(sato, "POST", replies, {"body": "再送"}))[0] == 404

    status, everything = await call(boss, "GET", f"{site.url}/api/search?q=眠れない")
    assert [r["id"] for r in everything["results"]] == [others, moved, hers]
    status, only_closed = await call(boss, "GET", f"{site.url}/api/search?status=closed")
    assert [r["id"] for r in only_closed["results"]] == [moved]
    alias = closed["contact_alias"]
    status, by_alias = await call(
        boss, "GET", f"{site.url}/api/search?alias={alias.removeprefix('相談者-').lower()}"
    )
    assert [r["id"] for r in by_alias["results"]] == [moved]


async def test_search_by_tokyo_days_channel_short_words_and_pages(
    site: Site, boss: aiohttp.ClientSession
) -> None:
    await everyone_away(site, boss)
    # 2026-11-30 23:30 and 2026-12-01 00:30 in Tokyo
    late = datetime(2026, 11, 30, 14, 30, tzinfo=UTC)
    before_midnight, after_midnight = await seed(
        site,
        inbound("a@example.jp", body="離婚について", received_at=late),
        inbound(
            "+819011112222",
            body="離婚したい",
            channel=ChannelKind.SMS,
            received_at=late + timedelta(hours=1),
        ),
    )
    search = f"{site.url}/api/search"
    status, nov = await call(boss, "GET", f"{search}?from=2026-11-30&to=2026-11-30")
    assert [r["id"] for r in nov["results"]] == [before_midnight]
    status, dec = await call(boss, "GET", f"{search}?from=2026-12-01")
    assert [r["id"] for r in dec["results"]] == [after_midnight]
    status, sms = await call(boss, "GET", f"{search}?channel=sms,line")
    assert [r["id"] for r in sms["results"]] == [after_midnight]
    status, short = await call(boss, "GET", f"{search}?q=離婚")
    assert (status, short["scope"]) == (200, "recent")
    assert [r["id"] for r in short["results"]] == [after_midnight, before_midnight]
    status, first = await call(boss, "GET", f"{search}?q=離婚&limit=1")
    assert [r["id"] for r in first["results"]] == [after_midnight]
    status, second = await call(
        boss, "GET", f"{search}?q=離婚&limit=1&before={first['next_before']}"
    )
    assert [r["id"] for r in second["results"]] == [before_midnight]
    for bad, field in (
        ("status=finished", "status"),
        ("channel=fax", "channel"),
        ("from=2026-13-01", "from"),
        ("to=yesterday", "to"),
        ("alias=nobody", "alias"),
        ("limit=0", "limit"),
        ("before=-1", "before"),
    ):
        status, body = await call(boss, "GET", f"{search}?{bad}")
        assert (status, body["error"]["field"]) == (400, field), bad


async def test_phone_staff_search_phone_conversations_only(
    site: Site, boss: aiohttp.ClientSession
) -> None:
    await everyone_away(site, boss)
    web, phone = await seed(
        site,
        now_inbound("a@example.jp", body="電話の件"),
        now_inbound("+81312345678", body="電話の件", channel=ChannelKind.PHONE),
    )
    async with await sign_in(site.url, "phone") as staff:
        status, found = await call(staff, "GET", f"{site.url}/api/search?q=電話の件")
        assert [r["id"] for r in found["results"]] == [phone]
        status, found = await call(staff, "GET", f"{site.url}/api/search?channel=webchat")
        assert (status, found["results"]) == (200, [])
        status, timeline = await call(
            staff, "GET", f"{site.url}/api/conversations/{phone}/timeline"
        )
        assert (status, [c["id"] for c in timeline["conversations"]]) == (200, [phone])
        status, _ = await call(staff, "GET", f"{site.url}/api/conversations/{web}/timeline")
        assert status == 404
    assert web != phone
