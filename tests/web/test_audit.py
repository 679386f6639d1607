"""The audit log over HTTP: staff reads are audited once per open, the log filters and pages,
only supervisors and admins read it (an admin without a conversation's details), and the CSV."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from inbox.core.audit import ACCOUNT_KINDS, AuditQuery
from inbox.core.errors import DatabaseUnavailable
from inbox.core.model import ChannelKind, Event
from inbox.web import audit_csv
from storage.events import Events
from tests.factories import new_user
from tests.staff_frames import next_staff_event
from tests.web.conftest import Site, sign_in
from tests.web.test_supervision import call, everyone_away, now_inbound, seed

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture
async def sato(site: Site) -> AsyncIterator[aiohttp.ClientSession]:
    async with await sign_in(site.url, "sato") as session:
        yield session


async def audit(session: aiohttp.ClientSession, site: Site, query: str = "") -> dict[str, Any]:
    status, body = await call(session, "GET", f"{site.url}/api/audit?{query}")
    assert status == 200, body
    return dict(body)


def reads(page: dict[str, Any]) -> list[tuple[int | None, int | None]]:
    return [
        (e["actor_id"], e["conversation_id"])
        for e in page["events"]
        if e["kind"] == "conversation_read"
    ]


async def queued_and_hers(site: Site, boss: aiohttp.ClientSession) -> tuple[int, int]:
    """A queued conversation Q (any counselor may open it) and S, assigned to sato."""
    await everyone_away(site, boss)
    q, s = await seed(site, now_inbound("q@example.jp"), now_inbound("s@example.jp"))
    status, _ = await call(
        boss, "POST", f"{site.url}/api/conversations/{s}/assign", {"user_id": site.id("sato")}
    )
    assert status == 200
    return q, s


@pytest.mark.both_stores
async def test_an_open_is_one_read_however_often_her_screen_refetches(
    site: Site, boss: aiohttp.ClientSession, sato: aiohttp.ClientSession
) -> None:
    q, s = await queued_and_hers(site, boss)
    for _ in range(3):  # she opens it; her console refetches it on each event that concerns it
        status, _ = await call(sato, "GET", f"{site.url}/api/conversations/{s}")
        assert status == 200
    status, _ = await call(boss, "GET", f"{site.url}/api/conversations/{s}")
    assert status == 200
    # a conversation she may not read: refused, and no read is written
    status, _ = await call(sato, "GET", f"{site.url}/api/conversations/999")
    assert status == 404
    page = await audit(boss, site, "kind=conversation_read")
    assert reads(page) == [(site.id("boss"), s), (site.id("sato"), s)]
    row = page["events"][1]
    assert row["actor_name"] == "Sato" and row["details"] == {}
    assert q not in {c for _, c in reads(page)}


async def test_reading_an_earlier_conversation_from_her_timeline_is_a_read(
    site: Site, boss: aiohttp.ClientSession
) -> None:
    await everyone_away(site, boss)
    (first,) = await seed(site, now_inbound("same@example.jp"))
    await site.store.close(first, actor_id=site.id("boss"), now=datetime.now(UTC))
    (second,) = await seed(site, now_inbound("same@example.jp"))
    assert second != first
    url = f"{site.url}/api/conversations/{second}/timeline/{first}/messages"
    for query in ("", "?limit=1", "?limit=1&before=999999"):  # her pages: the same read
        status, body = await call(boss, "GET", url + query)
        assert status == 200, body
    assert reads(await audit(boss, site, "kind=conversation_read")) == [(site.id("boss"), first)]


async def test_the_log_filters_by_person_kind_conversation_and_day(
    site: Site, boss: aiohttp.ClientSession, sato: aiohttp.ClientSession
) -> None:
    q, s = await queued_and_hers(site, boss)
    await call(sato, "GET", f"{site.url}/api/conversations/{q}")
    await call(sato, "GET", f"{site.url}/api/conversations/{s}")
    await call(sato, "POST", f"{site.url}/api/conversations/{s}/notes", {"body": "秘密のメモ"})
    await call(boss, "GET", f"{site.url}/api/conversations/{q}")
    sato_id, boss_id = site.id("sato"), site.id("boss")

    mine = await audit(boss, site, f"actor={sato_id}")
    assert [(e["kind"], e["conversation_id"]) for e in mine["events"]][:3] == [
        ("note_added", s),
        ("conversation_read", s),
        ("conversation_read", q),
    ]
    assert all(e["actor_id"] == sato_id for e in mine["events"])
    assert "秘密" not in str(mine)  # never a body
    two_kinds = await audit(boss, site, "kind=note_added&kind=conversation_assigned")
    assert {e["kind"] for e in two_kinds["events"]} == {"note_added", "conversation_assigned"}
    assert await audit(boss, site, "kind=note_added,conversation_assigned") == two_kinds
    assigned = next(e for e in two_kinds["events"] if e["kind"] == "conversation_assigned")
    assert assigned["details"]["user_id"] == sato_id
    assert assigned["details"]["user_name"] == "Sato"
    assert assigned["actor_name"] == "Boss"

    on_q = await audit(boss, site, f"conversation={q}&kind=conversation_read")
    assert reads(on_q) == [(boss_id, q), (sato_id, q)]
    system = await audit(boss, site, "actor=system")
    assert system["events"] and all(e["actor_id"] is None for e in system["events"])
    staff = await audit(boss, site, "actor=staff")
    assert staff["events"] and all(e["actor_id"] is not None for e in staff["events"])

    today = datetime.now(TOKYO).date()
    on_today = reads(await audit(boss, site, f"day={today}&kind=conversation_read"))
    assert on_today == [(boss_id, q), (sato_id, s), (sato_id, q)]
    yesterday = today - timedelta(days=1)
    assert (await audit(boss, site, f"day={yesterday}"))["events"] == []
    ranged = await audit(boss, site, f"from={yesterday}&to={today}&kind=conversation_read")
    assert len(reads(ranged)) == 3


async def test_the_log_pages_newest_first(
    site: Site, boss: aiohttp.ClientSession, sato: aiohttp.ClientSession
) -> None:
    await everyone_away(site, boss)
    convs = await seed(site, *(now_inbound(f"{n}@example.jp") for n in "abcde"))
    for c in convs:
        await call(boss, "GET", f"{site.url}/api/conversations/{c}")
    seen: list[int] = []
    query = "kind=conversation_read&limit=2"
    while True:
        page = await audit(boss, site, query)
        seen += [e["conversation_id"] for e in page["events"]]
        if page["next_before"] is None:
            break
        query = f"kind=conversation_read&limit=2&before={page['next_before']}"
    assert seen == list(reversed(convs))


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("actor=someone", "actor"),
        ("kind=DROP%20TABLE", "kind"),
        ("conversation=-1", "conversation"),
        ("day=2026-13-01", "day"),
        ("day=2026-11-01&from=2026-11-01", "day"),
        ("from=2026-11-02&to=2026-11-01", "to"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("before=x", "before"),
    ],
)
async def test_a_bad_filter_names_its_field(
    site: Site, boss: aiohttp.ClientSession, query: str, field: str
) -> None:
    status, body = await call(boss, "GET", f"{site.url}/api/audit?{query}")
    assert (status, body["error"]["code"], body["error"]["field"]) == (400, "validation", field)
    if field != "limit":  # the CSV has no pages
        status, body = await call(boss, "GET", f"{site.url}/api/audit.csv?{query}")
        assert (status, body["error"]["field"]) == (400, field)


async def test_only_supervisors_and_admins_read_it_and_admins_without_case_details(
    site: Site, boss: aiohttp.ClientSession, sato: aiohttp.ClientSession
) -> None:
    await everyone_away(site, boss)
    (p,) = await seed(site, now_inbound("+81312345678", channel=ChannelKind.PHONE))
    status, _ = await call(
        boss, "POST", f"{site.url}/api/conversations/{p}/reveal", {"reason": "警察からの照会"}
    )
    assert status == 200
    await call(
        boss, "PATCH", f"{site.url}/api/counselors/{site.id('sato')}", {"presence": "available"}
    )
    async with await sign_in(site.url, "phone") as phone, await sign_in(site.url, "admin") as admin:
        for session in (sato, phone):
            for path in ("/api/audit", "/api/audit.csv"):
                status, _ = await call(session, "GET", f"{site.url}{path}")
                assert status == 403
        for session in (boss, admin):
            page = await audit(session, site, "actor=staff")
            assert "+8131" not in str(page)  # never an address
            # an event about a staff member: for admins too, with its details
            update = next(e for e in page["events"] if e["kind"] == "counselor_updated")
            assert update["details"]["user_name"] == "Sato"
            assert update["details"]["fields"] == ["presence"]
        reveal = next(
            e for e in (await audit(boss, site))["events"] if e["kind"] == "address_revealed"
        )
        assert reveal["actor_name"] == "Boss" and reveal["conversation_id"] == p
        assert reveal["details"]["reason"] == "警察からの照会"
        # An admin manages accounts, not the work: no conversation's event at all, not its id
        # nor its kind (an urgent triage's supervisors_alerted tells what kind of case it is),
        # whatever she filters by.
        for query in ("", "actor=staff", f"conversation={p}", "kind=address_revealed,signed_in"):
            page = await audit(admin, site, query)
            assert all(e["conversation_id"] is None for e in page["events"]), query
            assert {e["kind"] for e in page["events"]} <= ACCOUNT_KINDS, query
        assert {e["kind"] for e in (await audit(admin, site))["events"]} >= {
            "signed_in",
            "counselor_updated",
        }
        assert (await audit(admin, site, f"conversation={p}"))["events"] == []
        async with admin.get(f"{site.url}/api/audit.csv?lang=en") as r:
            rows = list(csv.reader(io.StringIO(await r.text(encoding="utf-8-sig"), newline="")))
        assert rows[1:] and all(row[6] == "" for row in rows[1:])  # the conversation column
        assert {row[5] for row in rows[1:]} <= ACCOUNT_KINDS and "警察" not in str(rows)


async def test_the_event_log_gives_an_admin_the_events_about_accounts_alone(
    site: Site, boss: aiohttp.ClientSession, sato: aiohttp.ClientSession
) -> None:
    """GET /api/events as the audit log: an admin (not also a supervisor) gets no
    conversation's event, and pages on past them with next_after; one who is also a supervisor
    reads it all."""
    q, _ = await queued_and_hers(site, boss)
    await call(sato, "GET", f"{site.url}/api/conversations/{q}")

    async def events(session: aiohttp.ClientSession, after: int = 0) -> dict[str, Any]:
        status, body = await call(session, "GET", f"{site.url}/api/events?after={after}")
        assert status == 200, body
        return dict(body)

    everything = await events(boss)
    assert {e["conversation_id"] for e in everything["events"]} >= {q}
    last = everything["events"][-1]["id"]
    assert everything["next_after"] == last
    async with await sign_in(site.url, "admin") as admin:
        hers = await events(admin)
        assert hers["next_after"] >= last  # past the events she is not shown
        assert {e["kind"] for e in hers["events"]} <= ACCOUNT_KINDS
        assert all(e["conversation_id"] is None for e in hers["events"])
        assert "counselor_updated" in {e["kind"] for e in hers["events"]}
        assert all("data" in e for e in hers["events"])
        ahead = hers["next_after"]
        # nothing more for her; a worker's event meanwhile (a deadline's alarm on q) moves
        # next_after on past it, still unshown
        later = await events(admin, ahead)
        assert later["events"] == [] and later["next_after"] >= ahead
        status, _ = await call(
            admin, "PATCH", f"{site.url}/api/users/admin", {"roles": ["admin", "supervisor"]}
        )
        assert status == 200
        both = await events(admin)
        assert {e["conversation_id"] for e in both["events"]} >= {q}
        assert "conversation_read" in {e["kind"] for e in (await audit(admin, site))["events"]}


async def _csv(session: aiohttp.ClientSession, site: Site, query: str) -> tuple[Any, list[Any]]:
    async with session.get(f"{site.url}/api/audit.csv?{query}") as r:
        assert r.status == 200
        raw = await r.read()
        assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM: Excel in Japan reads it
        assert r.headers["Content-Type"].startswith("text/csv")
        assert r.headers["Content-Disposition"].startswith('attachment; filename="audit-')
        return r.headers, list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


async def test_the_csv_has_the_same_rows_in_her_language_and_japan_time(
    site: Site, boss: aiohttp.ClientSession, sato: aiohttp.ClientSession
) -> None:
    _, s = await queued_and_hers(site, boss)
    await call(sato, "GET", f"{site.url}/api/conversations/{s}")
    before = datetime.now(UTC)
    _, rows = await _csv(boss, site, f"actor={site.id('sato')}&kind=conversation_read")
    header, *body = rows
    assert header == [
        "記録ID",
        "日時（日本時間）",
        "職員ID",
        "職員",
        "種類",
        "種類コード",
        "相談番号",
        "内容",
    ]
    (read,) = body
    assert read[2:] == [str(site.id("sato")), "Sato", "相談を閲覧", "conversation_read", str(s), ""]
    when = datetime.fromisoformat(read[1])
    assert when.utcoffset() == timedelta(hours=9)
    assert abs(when - before) < timedelta(minutes=1)

    _, rows = await _csv(boss, site, "kind=conversation_assigned&lang=en")
    header, assigned = rows
    assert header[1] == "When (Japan time)" and assigned[4] == "Assigned"
    assert assigned[3] == "Boss" and assigned[7] == "staff: Sato"
    # the staff's events: the workers' own (an automatic reply, an alarm) may come meanwhile
    page = await audit(boss, site, "actor=staff")
    _, rows = await _csv(boss, site, "actor=staff")
    assert len(rows) > 3 and [int(r[0]) for r in rows[1:]] == [e["id"] for e in page["events"]]
    _, rows = await _csv(boss, site, "actor=system&lang=en")
    assert rows[1][3] == "System"


async def test_a_csv_cell_is_never_a_formula(site: Site) -> None:
    """A display name is anyone's words: a spreadsheet must not run it."""
    odd = await site.store.create_user(
        dataclasses.replace(new_user("odd"), display_name='=HYPERLINK("http://example.com")'),
        now=datetime.now(UTC),
    )
    await site.store.record_event("signed_in", now=datetime.now(UTC), actor_id=odd.id)
    async with await sign_in(site.url, "boss") as boss:
        _, rows = await _csv(boss, site, f"actor={odd.id}&lang=en")
        assert rows[1][3] == '\'=HYPERLINK("http://example.com")'
        status, body = await call(boss, "GET", f"{site.url}/api/audit.csv?before=5")
        assert (status, body["error"]["field"]) == (400, "before")


async def test_the_csv_pages_through_the_log_and_says_where_it_stopped(
    site: Site, boss: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read a page at a time (here 2 rows) up to the cap (here 5), then one line says more
    were left out; a log within the cap has no such line."""
    monkeypatch.setattr(audit_csv, "CSV_PAGE", 2)
    monkeypatch.setattr(audit_csv, "CSV_MAX_ROWS", 5)
    (conv,) = await seed(site, now_inbound("a@example.jp"))
    for _ in range(6):
        await site.store.record_event(
            "conversation_read",
            now=datetime.now(UTC),
            actor_id=site.id("boss"),
            conversation_id=conv,
        )
    page = await audit(boss, site, "kind=conversation_read")
    _, rows = await _csv(boss, site, "kind=conversation_read&lang=en")
    assert [int(r[0]) for r in rows[1:6]] == [e["id"] for e in page["events"]][:5]
    assert rows[6] == ["Over 5 rows: the rest is left out. Narrow the filters."]
    assert len(rows) == 7
    monkeypatch.setattr(audit_csv, "CSV_MAX_ROWS", 6)  # exactly the cap: nothing left out
    _, rows = await _csv(boss, site, "kind=conversation_read&lang=en")
    assert len(rows) == 7 and rows[6][5] == "conversation_read"


async def test_a_csv_the_database_fails_during_is_a_failed_download(
    site: Site, boss: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The head is out when a later page fails: the connection is cut, so no short file can
    pass for the whole log."""
    monkeypatch.setattr(audit_csv, "CSV_PAGE", 2)
    (conv,) = await seed(site, now_inbound("a@example.jp"))
    for _ in range(5):
        await site.store.record_event(
            "conversation_read",
            now=datetime.now(UTC),
            actor_id=site.id("boss"),
            conversation_id=conv,
        )
    real = Events.audit_events
    calls = 0

    async def failing_later(self: Events, query: AuditQuery) -> list[Event]:
        nonlocal calls
        calls += 1
        if calls > 1:
            raise DatabaseUnavailable("PostgreSQL connection lost")
        return await real(self, query)

    monkeypatch.setattr(Events, "audit_events", failing_later)
    with pytest.raises(aiohttp.ClientPayloadError):
        async with boss.get(f"{site.url}/api/audit.csv?kind=conversation_read") as r:
            assert r.status == 200
            await r.read()


async def test_a_read_is_no_news_on_the_staff_sockets(
    site: Site, boss: aiohttp.ClientSession, sato: aiohttp.ClientSession
) -> None:
    """Every console refetches what an event concerns: a read sent to every staff socket would
    make each refetch its queue (and any that has the conversation open, the conversation: a
    read of its own) on every open by anyone."""
    _, s = await queued_and_hers(site, boss)
    ws = await boss.ws_connect(site.server.ws_url("/api/ws"))
    try:
        status, _ = await call(sato, "GET", f"{site.url}/api/conversations/{s}")
        assert status == 200
        status, _ = await call(
            sato, "POST", f"{site.url}/api/conversations/{s}/notes", {"body": "x"}
        )
        assert status == 201
        seen: list[str] = []
        async with asyncio.timeout(10):
            while "note_added" not in seen:
                seen.append((await next_staff_event(ws))["kind"])
        assert "conversation_read" not in seen
    finally:
        await ws.close()
    assert reads(await audit(boss, site, "kind=conversation_read")) == [(site.id("sato"), s)]


def test_the_audit_page_offers_an_admin_the_kinds_the_server_gives_her() -> None:
    """static/audit/rows.js ACCOUNT_KINDS is inbox.core.audit.ACCOUNT_KINDS, word for word."""
    rows_js = (Path(audit_csv.__file__).parent / "static" / "audit" / "rows.js").read_text()
    listed = rows_js.split("export const ACCOUNT_KINDS = Object.freeze([", 1)[1].split("]", 1)[0]
    assert set(re.findall(r'"([a-z_]+)"', listed)) == ACCOUNT_KINDS
