"""The queue page (GET /api/conversations), encoded once per change and answered with ETag/304.

Every console refetches the queue after each frame of events, so after one frame the same page
is asked for by every supervisor, and again by each counselor. A page is built once for its key
and its bytes kept: (what changed: the staff feed's `news` count and the staff names' version;
who sees what; the query). The ETag is the digest of the page's content (EncodedPage), so a
page she already holds is a 304 however much news came meanwhile: the news count moves at
every event anywhere, while a counselor's page (her few and the head of the queue) changes far
less often, and a 304 spares the server the page's bytes (about 100 KB with 200 rows) and her
browser their parsing. `Cache-Control: private, no-cache` has the browser revalidate each time
with If-None-Match.

Why the key is safe (never a stale page once a change is committed and published): the news
count moves BEFORE a page of events goes to the sockets (inbox.feed), and the count is read
before the page's query runs. A page kept under count n was therefore queried after every event
published before n moved, and so after those events' transactions had committed. The newest
event id would not do on PostgreSQL: ids are taken before commit, so an event with a smaller id
can be published after a larger one and leave the newest id where it was. The count also moves
at each poke, which every writer in this process sends once it has committed (the staff's
commands, intake, the router, the outbox): a console that refetches as soon as its own POST
answered gets a new page, not one kept from before its write. A write from elsewhere (another
instance before its NOTIFY, the CLI) moves the count when it is published, which is also when
consoles hear of it.

Visibility (inbox.web.access.can_see): supervisors share one page, phone staff (only) another,
and each counselor has her own (hers plus the unassigned queued ones): no page is ever given to
anyone outside its class. A counselor's page is built from two parts: the unassigned queued
ones, read and encoded once per key for every counselor (SHARED_PARTS), and her own few (a
small indexed query), merged in the queue's order: 200 consoles asking after one change cost
one page of 200 rows and 200 small queries, not 200 pages. Memory is bounded: only pages of
the newest key are kept (an older count is never asked for again), at most MAX_PAGES of them.
A page that must be built takes the rows that did not change from RowJson, encoded once per
content.
"""

from __future__ import annotations

import asyncio
import bisect
import dataclasses
import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable, Collection, Coroutine, Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from aiohttp import web

from inbox.core.model import ConversationStatus, Role, User, UserId
from inbox.web.access import sees_everything

MAX_PAGES = 64
MAX_ROWS = 16_384  # the rows of every page kept: 200 supervisors', and each counselor's own
HEADERS = {"Cache-Control": "private, no-cache", "Vary": "Cookie, Authorization"}


@dataclass(frozen=True, slots=True)
class Seer:
    """Who sees which conversations: `everything` (supervisors), her own `counselor` id and
    whether she is phone staff too, or phone staff alone (neither)."""

    everything: bool
    counselor: UserId | None
    phone: bool


def seer(user: User) -> Seer:
    if sees_everything(user):
        return Seer(everything=True, counselor=None, phone=False)
    counselor = user.id if user.has_any(Role.COUNSELOR) else None
    return Seer(everything=False, counselor=counselor, phone=user.has_any(Role.PHONE_STAFF))


@dataclass(frozen=True, slots=True)
class PageKey:
    news: int  # inbox.feed.EventFeed.news when the request came
    names: int  # inbox.web.server.StaffNames.version
    seer: Seer | None  # None: the unassigned queued part that every counselor's page shares
    statuses: tuple[ConversationStatus, ...]

    def shared(self) -> PageKey:
        """The key of the part of a counselor's page that every counselor's shares."""
        return dataclasses.replace(self, seer=None)


@dataclass(frozen=True, slots=True)
class EncodedPage:
    """A page's bytes and its ETag, the digest of what the bytes are made of."""

    body: bytes
    etag: str

    @classmethod
    def of(cls, body: bytes) -> EncodedPage:
        return cls(body, _etag(hashlib.blake2b(body, digest_size=16)))


T = TypeVar("T")
# A row of a counselor's page in the queue's order (storage.desk QueueOrder), and its JSON.
OrderedRow = tuple[tuple[int, datetime, int], bytes]


class QueuePages(Generic[T]):
    """Encoded queue pages (or the part every counselor's shares: `T` is what is kept) of the
    newest key; concurrent requests for one key share one build."""

    def __init__(self, news: Callable[[], int], *, max_pages: int = MAX_PAGES) -> None:
        self._news = news
        self._max = max_pages
        self._pages: OrderedDict[PageKey, T] = OrderedDict()
        self._building: dict[PageKey, asyncio.Task[T]] = {}
        self.builds = 0  # pages built (for tests and benchmarks)

    def key(
        self, user: User, statuses: Collection[ConversationStatus], names_version: int
    ) -> PageKey:
        """The key of the page `user` asks for now. Read it before anything of the page is."""
        return PageKey(self._news(), names_version, seer(user), tuple(statuses))

    async def page(self, key: PageKey, build: Callable[[], Coroutine[Any, Any, T]]) -> T:
        found = self._pages.get(key)
        if found is not None:
            self._pages.move_to_end(key)
            return found
        task = self._building.get(key)
        if task is None:
            task = asyncio.create_task(build())
            self._building[key] = task
            task.add_done_callback(lambda t: self._built(key, t))
        # shielded: one requester gone (her socket closed) cancels nobody else's page
        return await asyncio.shield(task)

    def _built(self, key: PageKey, task: asyncio.Task[T]) -> None:
        self._building.pop(key, None)
        if task.cancelled() or task.exception() is not None:
            return
        self.builds += 1
        if key.news < self._news():
            return  # news came while it was built: nobody will ask for this key again
        for old in [k for k in self._pages if (k.news, k.names) != (key.news, key.names)]:
            del self._pages[old]
        self._pages[key] = task.result()
        while len(self._pages) > self._max:
            self._pages.popitem(last=False)

    def __len__(self) -> int:
        return len(self._pages)


class RowJson:
    """Each conversation's JSON, encoded once per content: a page that must be built (another
    counselor's, the next change's) reuses the rows that did not change since the last one, so
    it costs a query and a join, not a JSON build of 200 rows. The key is everything the row's
    JSON is made of (the frozen Conversation, the assignee's name, the follow-up marker; the
    urgency categories are the application's, fixed), so a kept row is never a stale one.
    Bounded: the least recently used rows go first, past max_rows."""

    def __init__(self, *, max_rows: int = MAX_ROWS) -> None:
        self._max = max_rows
        self._rows: OrderedDict[Hashable, bytes] = OrderedDict()

    def get(self, key: Hashable, make: Callable[[], Any]) -> bytes:
        found = self._rows.get(key)
        if found is not None:
            self._rows.move_to_end(key)
            return found
        found = self._rows[key] = encode(make())
        if len(self._rows) > self._max:
            self._rows.popitem(last=False)
        return found

    def __len__(self) -> int:
        return len(self._rows)


def page_of(rows: Iterable[bytes]) -> bytes:
    """`{"conversations": [...]}` of rows already encoded."""
    return b'{"conversations": [' + b", ".join(rows) + b"]}"


@dataclass(frozen=True, slots=True)
class SharedPart:
    """The part every counselor's page shares (the unassigned queued ones), split once for
    every page merged from it: their places in the queue's order, their rows, their ids."""

    orders: list[tuple[int, datetime, int]]
    rows: list[bytes]
    ids: frozenset[int]
    digest: bytes  # of the rows and their places: a merged page's ETag starts from it

    @classmethod
    def of(cls, part: Iterable[OrderedRow]) -> SharedPart:
        listed = list(part)
        orders = [order for order, _ in listed]
        rows = [row for _, row in listed]
        return cls(orders, rows, frozenset(o[2] for o in orders), _digest_of(listed).digest())


def merged_page(hers: list[OrderedRow], shared: SharedPart, limit: int) -> EncodedPage:
    """merged(), with an ETag made from the shared part's digest and her few rows (the page
    is a function of the two parts and the limit), not by hashing the page's 100 KB again."""
    made = _digest_of(hers)
    made.update(shared.digest + limit.to_bytes(4, "big"))
    return EncodedPage(merged(hers, shared, limit), _etag(made))


def merged(hers: list[OrderedRow], shared: SharedPart, limit: int) -> bytes:
    """A counselor's page from its parts (hers, and the unassigned queued ones every counselor
    shares), each in the queue's order: the first `limit` of them, in that order. The parts
    were read one after the other: a conversation given to her between the two reads is in
    both, and shown once, as hers (the page is built again at the news of it).

    Her few rows are placed by bisection and the shared rows copied between them as slices:
    200 consoles merge after every change, and a merge row by row in Python was 6% of the
    server's time at 500 msg/s."""
    orders, rows = shared.orders, shared.rows
    if any(order[2] in shared.ids for order, _ in hers):  # the rare race above
        mine = {order[2] for order, _ in hers}
        kept = [i for i, order in enumerate(orders) if order[2] not in mine]
        orders, rows = [orders[i] for i in kept], [rows[i] for i in kept]
    page: list[bytes] = []
    at = 0
    for order, row in hers:
        place = bisect.bisect_left(orders, order, lo=at)
        page += rows[at:place]
        page.append(row)
        at = place
    page += rows[at:]
    return page_of(page[:limit])


QUEUE_PAGES = web.AppKey("queue_pages", QueuePages[EncodedPage])
SHARED_PARTS = web.AppKey("queue_shared_parts", QueuePages[SharedPart])
ROW_JSON = web.AppKey("queue_rows", RowJson)


def encode(value: Any) -> bytes:
    """JSON as aiohttp's json_response writes it."""
    return json.dumps(value).encode()


def _digest_of(part: list[OrderedRow]) -> Any:
    """A running digest of rows with their places, each row's length before it (so that no
    two different parts run together into the same bytes). The places go in as their tuple's
    hash (ints and datetimes: the same in every process), not their text: repr() of 200 was
    0.24 ms of every shared part's 0.4."""
    places = hash(tuple(order for order, _ in part)).to_bytes(8, "big", signed=True)
    made = hashlib.blake2b(places, digest_size=16)
    for _, row in part:
        made.update(len(row).to_bytes(4, "big"))
        made.update(row)
    return made


def _etag(made: Any) -> str:
    return f'"q{made.hexdigest()}"'


def not_modified(request: web.Request, etag: str) -> bool:
    """Whether her If-None-Match names this ETag (or is `*`)."""
    asked = request.headers.get("If-None-Match", "")
    return any(tag.strip() in (etag, "*", f"W/{etag}") for tag in asked.split(","))


def answer(etag: str, body: bytes | None) -> web.Response:
    """The page (None: she holds it, 304), with its ETag and revalidate-every-time caching."""
    headers = HEADERS | {"ETag": etag}
    if body is None:
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, content_type="application/json", headers=headers)
