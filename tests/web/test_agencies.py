"""Partner agencies and referrals over HTTP: the directory kept by a supervisor (a clear 409 on a
taken name, archive, filters), a CSV from Excel previewed then imported, a bad row refused whole
with its row and column, and referrals recorded, listed and deleted on a conversation and a
call, each error naming its field. Who may do what: tests/web/test_permissions.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from tests.web.conftest import Site, sign_in
from tests.web.test_supervision import call, everyone_away, now_inbound, sato, seed

__all__ = ["sato"]  # the fixture, used by name

TOKYO = ZoneInfo("Asia/Tokyo")
CSV = (
    "名称,種別,地域,連絡先,備考\r\n"
    "中央警察署,警察,中央区,110,\r\n"
    "みどりの家,シェルター,北区,,夜間も可\r\n"
)


@pytest.fixture
async def phone(site: Site) -> AsyncIterator[aiohttp.ClientSession]:
    async with await sign_in(site.url, "phone") as session:
        yield session


async def upload(
    who: aiohttp.ClientSession, url: str, body: bytes, *, preview: bool = False
) -> tuple[int, Any]:
    query = "?preview=1" if preview else ""
    headers = {"Content-Type": "text/csv"}
    async with who.post(f"{url}/api/agencies/import{query}", data=body, headers=headers) as r:
        return r.status, await r.json()


@pytest.mark.both_stores
async def test_a_supervisor_keeps_the_directory_and_imports_excel_csv(
    site: Site, boss: aiohttp.ClientSession
) -> None:
    url = site.url
    status, made = await call(
        boss,
        "POST",
        f"{url}/api/agencies",
        {"name": " 中央警察署 ", "kind": "警察", "area": "中央区"},
    )
    assert status == 201, made
    police = made["agency"]
    assert (police["name"], police["kind"], police["archived"]) == ("中央警察署", "police", False)
    status, taken = await call(
        boss,
        "POST",
        f"{url}/api/agencies",
        {"name": "中央警察署", "kind": "police", "area": "中央区"},
    )
    assert (status, taken["error"]["code"], taken["error"]["field"]) == (409, "conflict", "name")
    assert "中央警察署" in taken["error"]["message"]

    raw = b"\xef\xbb\xbf" + CSV.encode()
    status, preview = await upload(boss, url, raw, preview=True)
    assert status == 200, preview
    seen = preview["import"]
    assert (seen["applied"], seen["added"], seen["updated"], seen["unchanged"]) == (False, 1, 1, 0)
    assert [(r["row"], r["action"]) for r in seen["rows"]] == [(2, "update"), (3, "add")]
    assert len((await call(boss, "GET", f"{url}/api/agencies"))[1]["agencies"]) == 1

    status, done = await upload(boss, url, raw)
    assert status == 201 and (done["import"]["added"], done["import"]["updated"]) == (1, 1)
    status, listed = await call(boss, "GET", f"{url}/api/agencies")
    assert [(a["name"], a["contact"]) for a in listed["agencies"]] == [
        ("中央警察署", "110"),
        ("みどりの家", ""),
    ]
    assert {k["id"] for k in listed["referral_kinds"]} == {
        "information",
        "handover",
        "accompaniment",
    }
    assert any(k["ja"] == "配偶者暴力相談支援センター" for k in listed["kinds"])

    bad = ("名称,種別\n新しい機関,NPO\n壊れた行,交番\n").encode()
    status, refused = await upload(boss, url, bad)
    error = refused["error"]
    assert (status, error["field"], error["row"], error["column"], error["problem"]) == (
        400,
        "csv",
        3,
        "kind",
        "unknown_kind",
    )
    assert len((await call(boss, "GET", f"{url}/api/agencies"))[1]["agencies"]) == 2  # none added
    status, wrong = await upload(boss, url, "名称,種別\nA,警察\n".encode("utf-16"))
    assert (status, wrong["error"]["problem"]) == (400, "encoding")

    shelter = next(a for a in listed["agencies"] if a["kind"] == "shelter")
    status, archived = await call(
        boss, "PATCH", f"{url}/api/agencies/{shelter['id']}", {"archived": True, "note": "閉所"}
    )
    assert status == 200 and archived["agency"]["archived"] and archived["agency"]["note"] == "閉所"
    active = (await call(boss, "GET", f"{url}/api/agencies"))[1]["agencies"]
    assert [a["id"] for a in active] == [police["id"]]
    everything = (await call(boss, "GET", f"{url}/api/agencies?archived=all&kind=シェルター"))[1]
    assert [a["id"] for a in everything["agencies"]] == [shelter["id"]]
    status, bad_kind = await call(
        boss, "PATCH", f"{url}/api/agencies/{police['id']}", {"kind": "x"}
    )
    assert (status, bad_kind["error"]["field"]) == (400, "kind")


@pytest.mark.both_stores
async def test_referrals_on_her_conversation_and_on_a_call(
    site: Site,
    boss: aiohttp.ClientSession,
    sato: aiohttp.ClientSession,
    phone: aiohttp.ClientSession,
) -> None:
    url = site.url
    await everyone_away(site, boss)
    (conv,) = await seed(site, now_inbound("a@example.jp"))
    status, _ = await call(
        boss, "POST", f"{url}/api/conversations/{conv}/assign", {"user_id": site.id("sato")}
    )
    assert status == 200
    agency = (
        await call(
            boss,
            "POST",
            f"{url}/api/agencies",
            {"name": "北区福祉事務所", "kind": "welfare_office"},
        )
    )[1]["agency"]
    closed = (await call(boss, "POST", f"{url}/api/agencies", {"name": "旧", "kind": "npo"}))[1]
    await call(boss, "PATCH", f"{url}/api/agencies/{closed['agency']['id']}", {"archived": True})

    path = f"{url}/api/conversations/{conv}/referrals"
    today = datetime.now(TOKYO).date()
    status, made = await call(
        sato, "POST", path, {"agency_id": agency["id"], "kind": "handover", "note": "面談予約"}
    )
    assert status == 201, made
    r = made["referral"]
    assert (r["on_day"], r["kind"], r["note"], r["conversation"], r["call"]) == (
        today.isoformat(),
        "handover",
        "面談予約",
        conv,
        None,
    )
    assert r["agency"] == {"id": agency["id"], "name": "北区福祉事務所", "kind": "welfare_office"}
    assert r["staff"] == {"id": site.id("sato"), "name": "Sato"}
    for body, field, code in [
        ({"agency_id": agency["id"], "kind": "lunch"}, "kind", 400),
        ({"kind": "handover"}, "agency_id", 400),
        (
            {
                "agency_id": agency["id"],
                "kind": "handover",
                "on_day": (today + timedelta(days=1)).isoformat(),
            },
            "on_day",
            400,
        ),
        ({"agency_id": agency["id"], "kind": "handover", "on_day": "2026-13-01"}, "on_day", 400),
        ({"agency_id": agency["id"], "kind": "handover", "extra": 1}, "extra", 400),
    ]:
        status, refused = await call(sato, "POST", path, body)
        assert (status, refused["error"]["field"]) == (code, field), body
    status, archived = await call(
        sato, "POST", path, {"agency_id": closed["agency"]["id"], "kind": "information"}
    )
    assert (status, archived["error"]["code"]) == (409, "conflict")

    status, boss_made = await call(
        boss,
        "POST",
        path,
        {"agency_id": agency["id"], "kind": "information", "on_day": "2026-04-01"},
    )
    assert status == 201
    listed = (await call(sato, "GET", path))[1]["referrals"]
    assert [x["id"] for x in listed] == [boss_made["referral"]["id"], r["id"]]  # by day
    status, _ = await call(sato, "DELETE", f"{url}/api/referrals/{boss_made['referral']['id']}")
    assert status == 403  # not hers
    status, _ = await call(sato, "DELETE", f"{url}/api/referrals/{r['id']}")
    assert status == 204
    assert [x["id"] for x in (await call(sato, "GET", path))[1]["referrals"]] == [
        boss_made["referral"]["id"]
    ]

    # a call logged by hand, then the agency referral beside its quick labels
    logged = (
        await call(
            phone,
            "POST",
            f"{url}/api/calls",
            {
                "direction": "inbound",
                "started_at": datetime.now(TOKYO).replace(microsecond=0).isoformat(),
                "duration_s": 120,
                "withheld": True,
                "outcome": "reached",
                "referrals": ["police"],
            },
        )
    )[1]["call"]
    call_path = f"{url}/api/calls/{logged['id']}/referrals"
    status, on_call = await call(
        phone, "POST", call_path, {"agency_id": agency["id"], "kind": "accompaniment"}
    )
    assert status == 201 and on_call["referral"]["call"] == logged["id"]
    assert [x["id"] for x in (await call(phone, "GET", call_path))[1]["referrals"]] == [
        on_call["referral"]["id"]
    ]
    assert (await call(phone, "GET", f"{url}/api/calls/{logged['id']}"))[1]["call"][
        "referrals"
    ] == ["police"]  # the quick labels stay as they were
    kinds = [e.kind for e in await site.store.list_events()]
    assert kinds.count("referral_recorded") == 3 and kinds.count("referral_deleted") == 1
    assert "面談予約" not in repr([e.data for e in await site.store.list_events()])
