"""GET /api/conversations, built once per change (inbox.web.queue_page): an ETag and a 304 for
the page she holds, a new page as soon as a change is committed, and never anyone else's page."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import json
from datetime import timedelta
from typing import Any

import aiohttp
from hypothesis import given
from hypothesis import strategies as st

from inbox.core.model import ConversationStatus, Role, User, UserId
from inbox.web.queue_page import OrderedRow, QueuePages, SharedPart, merged, merged_page, seer
from tests.factories import T0
from tests.web.conftest import Server, sign_in
from tests.web.test_webchat import chat, next_event, say

QUEUE = "/api/conversations"


async def _get(
    staff: aiohttp.ClientSession, server: Server, etag: str | None = None
) -> tuple[int, str, dict[str, Any] | None, str]:
    headers = {} if etag is None else {"If-None-Match": etag}
    async with staff.get(server.url + QUEUE, headers=headers) as r:
        page = await r.json() if r.status == 200 else None
        return r.status, r.headers["ETag"], page, r.headers.get("Cache-Control", "")


async def _conversations(server: Server, http: aiohttp.ClientSession, n: int) -> list[int]:
    """n conversations of n consulters, each once the router has given it to someone."""
    boss = await sign_in(server.url, "boss")
    async with boss:
        events = await boss.ws_connect(server.ws_url("/api/ws"))
        ids = []
        for _ in range(n):
            ws, _ = await chat(http, server)
            await say(ws, "相談があります")
            await ws.close()
            ids.append(int((await next_event(events, "conversation_assigned"))["conversation_id"]))
        await events.close()
    return ids


async def _held(
    staff: aiohttp.ClientSession, server: Server, etag: str, page: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """Ask again holding `etag` until the answer is a 304 (the same ETag, no body): the
    workers' own events (the feed's rounds come a moment apart) may still move the page
    meanwhile, each time with a new ETag and the page to hold; the ETag and page held last."""
    for _ in range(20):
        status, again, body, _ = await _get(staff, server, etag)
        if status == 304:
            assert (again, body) == (etag, None)
            return etag, page
        assert status == 200 and again != etag and body is not None
        etag, page = again, body
        await asyncio.sleep(0.05)
    raise AssertionError("the page never stayed the same")


async def _assign(boss: aiohttp.ClientSession, server: Server, conv: int, to: int) -> None:
    async with boss.post(
        f"{server.url}/api/conversations/{conv}/assign", json={"user_id": to}
    ) as r:
        assert r.status == 200, await r.text()


async def test_the_page_she_holds_is_a_304_until_a_change(
    server: Server, http: aiohttp.ClientSession
) -> None:
    (conv,) = await _conversations(server, http, 1)
    boss = await sign_in(server.url, "boss")
    async with boss:
        status, etag, page, caching = await _get(boss, server)
        assert status == 200 and page is not None
        assert "no-cache" in caching and "private" in caching  # she revalidates every time
        etag, page = await _held(boss, server, etag, page)

        # a change: the page she holds is no longer the page, at once (no wait for the feed)
        sato = server.ids["sato"]
        current = next(c for c in page["conversations"] if c["id"] == conv)["assignee_id"]
        other = server.ids["suzuki"] if current == sato else sato
        await _assign(boss, server, conv, other)
        status, changed, page, _ = await _get(boss, server, etag)
        assert status == 200 and changed != etag and page is not None
        assert next(c for c in page["conversations"] if c["id"] == conv)["assignee_id"] == other
        await _held(boss, server, changed, page)


async def test_news_that_leaves_her_page_as_it_was_is_a_304(
    server: Server, http: aiohttp.ClientSession
) -> None:
    """The ETag is her page's content, not the news count: another counselor's conversation
    closed is news to every console, a new page for supervisors, and a 304 for her."""
    first, second = await _conversations(server, http, 2)
    boss, sato = [await sign_in(server.url, n) for n in ("boss", "sato")]
    try:
        await _assign(boss, server, first, server.ids["sato"])
        await _assign(boss, server, second, server.ids["suzuki"])
        status, hers, page, _ = await _get(sato, server)
        assert status == 200 and page is not None
        hers, page = await _held(sato, server, hers, page)
        assert [c["id"] for c in page["conversations"]] == [first]
        status, boss_etag, boss_page, _ = await _get(boss, server)
        assert status == 200 and boss_page is not None
        boss_etag, _ = await _held(boss, server, boss_etag, boss_page)

        close = f"{server.url}/api/conversations/{second}/close"
        async with boss.post(close, json={"outcome": "referred"}) as r:
            assert r.status == 200, await r.text()
        status, changed, boss_page, _ = await _get(boss, server, boss_etag)
        assert status == 200 and changed != boss_etag and boss_page is not None
        assert second not in [c["id"] for c in boss_page["conversations"]]
        assert (await _get(sato, server, hers))[:3] == (304, hers, None)
    finally:
        await boss.close()
        await sato.close()


async def test_a_counselor_never_gets_another_counselors_page(
    server: Server, http: aiohttp.ClientSession
) -> None:
    first, second = await _conversations(server, http, 2)
    boss, sato, suzuki, phone = [
        await sign_in(server.url, n) for n in ("boss", "sato", "suzuki", "phone")
    ]
    try:
        events = await boss.ws_connect(server.ws_url("/api/ws"))
        await _assign(boss, server, first, server.ids["sato"])
        await _assign(boss, server, second, server.ids["suzuki"])
        # the news of both is out (the feed's rounds come a moment apart): nothing changes next
        for _ in range(2):
            await next_event(events, "conversation_assigned")
        await events.close()
        pages = {}
        for name, staff in (("sato", sato), ("suzuki", suzuki), ("phone", phone)):
            status, etag, page, _ = await _get(staff, server)
            assert status == 200 and page is not None
            pages[name] = (etag, {c["id"] for c in page["conversations"]})
        # asked again after nothing changed: each her own, never another's kept page
        for name, staff in (("suzuki", suzuki), ("sato", sato)):
            status, etag, page, _ = await _get(staff, server)
            assert page is not None and etag == pages[name][0]
            assert {c["id"] for c in page["conversations"]} == pages[name][1]
        assert first in pages["sato"][1] and second not in pages["sato"][1]
        assert second in pages["suzuki"][1] and first not in pages["suzuki"][1]
        assert not pages["phone"][1]  # web chat: none of phone staff's
        assert len({etag for etag, _ in pages.values()}) == 3
        # her ETag is no key to another's page: suzuki holding sato's gets her own
        status, etag, page, _ = await _get(suzuki, server, pages["sato"][0])
        assert status == 200 and etag == pages["suzuki"][0] and page is not None
        assert {c["id"] for c in page["conversations"]} == pages["suzuki"][1]
    finally:
        for s in (boss, sato, suzuki, phone):
            await s.close()


def _user(uid: int, *roles: Role) -> User:
    return User(
        id=UserId(uid),
        username=f"u{uid}",
        display_name=f"U{uid}",
        roles=frozenset(roles),
        capacity=3,
        created_at=T0,
    )


async def test_one_build_per_key_and_only_the_newest_key_kept() -> None:
    news = [0]
    pages: QueuePages[bytes] = QueuePages(lambda: news[0], max_pages=2)
    started = asyncio.Event()
    release = asyncio.Event()

    async def slow() -> bytes:
        started.set()
        await release.wait()
        return b"{}"

    boss, sato, suzuki = (
        _user(1, Role.SUPERVISOR),
        _user(2, Role.COUNSELOR),
        _user(3, Role.COUNSELOR),
    )
    queued = (ConversationStatus.QUEUED,)
    key = pages.key(boss, queued, 0)
    asked = [asyncio.create_task(pages.page(key, slow)) for _ in range(5)]
    await started.wait()
    release.set()
    assert await asyncio.gather(*asked) == [b"{}"] * 5
    assert pages.builds == 1 and len(pages) == 1
    # counselors are told apart, supervisors are one class
    assert pages.key(sato, queued, 0) != pages.key(suzuki, queued, 0)
    assert pages.key(boss, queued, 0) == pages.key(_user(9, Role.SUPERVISOR), queued, 0)
    assert seer(_user(4, Role.PHONE_STAFF)) == seer(_user(5, Role.PHONE_STAFF))

    async def fresh() -> bytes:
        return b"[]"

    news[0] = 1  # news: the next page drops every kept one of before
    assert await pages.page(pages.key(sato, queued, 0), fresh) == b"[]"
    assert len(pages) == 1 and await pages.page(key, fresh) == b"[]"  # old key: built again

    async def raced() -> bytes:
        news[0] = 2  # news came while it was being built: not kept
        return b"old"

    assert await pages.page(pages.key(suzuki, queued, 0), raced) == b"old"
    assert pages.key(suzuki, queued, 0) not in pages._pages


async def test_a_counselor_still_lists_her_closed_conversations(
    server: Server, http: aiohttp.ClientSession
) -> None:
    """Her page asked with `closed` among the statuses is not the queue's two parts (open ones
    only): her closed conversation is listed, as before."""
    (conv,) = await _conversations(server, http, 1)
    boss, sato = [await sign_in(server.url, n) for n in ("boss", "sato")]
    try:
        await _assign(boss, server, conv, server.ids["sato"])
        close = f"{server.url}/api/conversations/{conv}/close"
        async with boss.post(close, json={"outcome": "referred"}) as r:
            assert r.status == 200, await r.text()
        for asked in ("closed", "queued,closed"):
            async with sato.get(f"{server.url}/api/conversations?status={asked}") as r:
                assert r.status == 200
                listed = [c["id"] for c in (await r.json())["conversations"]]
            assert conv in listed, asked
    finally:
        await boss.close()
        await sato.close()


def test_a_conversation_in_both_parts_is_hers_once() -> None:
    """Given to her between the reads of the two parts: in both, shown once, as hers."""
    t = T0
    hers = [((0, t, 5), b'"hers-5"')]
    shared = [((-1, t, 9), b'"q-9"'), ((0, t, 4), b'"q-4"'), ((0, t, 5), b'"q-5"')]
    part = SharedPart.of(shared)
    assert json.loads(merged(hers, part, 200)) == {"conversations": ["q-9", "q-4", "hers-5"]}
    assert json.loads(merged(hers, part, 2)) == {"conversations": ["q-9", "q-4"]}


_ROW = st.tuples(st.integers(-2, 0), st.integers(0, 5), st.integers(1, 60))


@given(st.lists(_ROW, max_size=8), st.lists(_ROW, max_size=40), st.integers(0, 50))
def test_a_merged_page_is_the_parts_in_the_queues_order(
    hers: list[tuple[int, int, int]], shared: list[tuple[int, int, int]], limit: int
) -> None:
    """As a row-by-row merge of the two parts would have it (heapq.merge, hers kept where an
    id is in both), whatever the sizes, the overlap and the limit."""

    def part(found: list[tuple[int, int, int]]) -> list[OrderedRow]:
        unique = {conv: (priority, minute) for priority, minute, conv in found}
        ordered = sorted((p, T0 + timedelta(minutes=m), c) for c, (p, m) in unique.items())
        return [(order, json.dumps(f"q-{order[2]}").encode()) for order in ordered]

    own = [(o, row.replace(b'"', b'"h', 1)) for o, row in part(hers)]  # "h…": hers
    common = part(shared)
    mine = {order[2] for order, _ in own}
    others = (item for item in common if item[0][2] not in mine)
    expected = [row for _, row in itertools.islice(heapq.merge(own, others), limit)]
    got = json.loads(merged(own, SharedPart.of(common), limit))["conversations"]
    assert got == [json.loads(row) for row in expected]


def test_a_merged_pages_etag_follows_its_content() -> None:
    """The same parts give the same ETag (a 304); a row of either part changed, or moved to
    another place in the queue with the same bytes, gives another."""
    t = T0
    hers = [((0, t, 5), b'"h-5"')]
    shared = [((-1, t, 9), b'"q-9"'), ((0, t, 4), b'"q-4"')]
    page = merged_page(hers, SharedPart.of(shared), 200)
    assert page == merged_page(list(hers), SharedPart.of(list(shared)), 200)
    assert json.loads(page.body) == {"conversations": ["q-9", "q-4", "h-5"]}
    others = [
        merged_page([((0, t, 5), b'"h-5*"')], SharedPart.of(shared), 200),
        merged_page(hers, SharedPart.of([shared[0], ((0, t, 4), b'"q-4*"')]), 200),
        merged_page([((-2, t, 5), b'"h-5"')], SharedPart.of(shared), 200),  # first now
        merged_page(hers, SharedPart.of(shared), 2),
    ]
    assert len({page.etag, *(p.etag for p in others)}) == 5
