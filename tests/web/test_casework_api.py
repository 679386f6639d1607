"""Casework over HTTP (issue 17): topics and age group on a conversation (shown in its detail,
never needed to close), a call's topics, activities logged, edited, deleted and listed by fiscal
year with totals; 400s that name the field."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import aiohttp

from inbox.core.fiscal import fiscal_year_bounds, fiscal_year_of
from inbox.core.phone import CallDirection, NewCall
from tests.web.conftest import Site, sign_in
from tests.web.test_calls_api import form
from tests.web.test_supervision import call, everyone_away, now_inbound, sato, seed

__all__ = ["sato"]  # the fixture, used by name
TOKYO = ZoneInfo("Asia/Tokyo")


async def test_topics_and_age_group_are_set_shown_and_never_needed_to_close(
    site: Site, boss: aiohttp.ClientSession, sato: aiohttp.ClientSession
) -> None:
    await everyone_away(site, boss)
    (conv,) = await seed(site, now_inbound("a@example.jp"))
    status, _ = await call(
        boss, "POST", f"{site.url}/api/conversations/{conv}/assign", {"user_id": site.id("sato")}
    )
    assert status == 200
    url = f"{site.url}/api/conversations/{conv}"
    status, words = await call(sato, "GET", f"{site.url}/api/casework")
    assert status == 200
    assert words["topics"][0] == {"id": "dv", "ja": "DV", "en": "Domestic violence"}
    assert [a["id"] for a in words["age_groups"]][-1] == "unknown"
    assert {k["id"] for k in words["activity_kinds"]} >= {"outreach", "drop_in"}

    status, detail = await call(sato, "GET", url)
    assert (detail["conversation"]["topics"], detail["conversation"]["age_group"]) == (
        [],
        "unknown",
    )
    # closing asks for neither
    status, closed = await call(sato, "POST", f"{url}/close", {"outcome": "other"})
    assert status == 200, closed

    status, body = await call(sato, "PUT", f"{url}/topics", {"topics": ["work", "dv"]})
    assert (status, body) == (200, {"topics": ["dv", "work"]})
    status, body = await call(sato, "PUT", f"{url}/age-group", {"age_group": "20s"})
    assert (status, body) == (200, {"age_group": "20s"})
    status, detail = await call(sato, "GET", url)
    assert (detail["conversation"]["topics"], detail["conversation"]["age_group"]) == (
        ["dv", "work"],
        "20s",
    )
    status, body = await call(sato, "PUT", f"{url}/age-group", {"age_group": None})
    assert (status, body) == (200, {"age_group": "unknown"})

    for path, data, field in (
        ("topics", {"topics": ["nope"]}, "topics"),
        ("topics", {"topics": "dv"}, "topics"),
        ("age-group", {"age_group": "99s"}, "age_group"),
        ("age-group", {}, "age_group"),
    ):
        status, body = await call(sato, "PUT", f"{url}/{path}", data)
        assert (status, body["error"]["field"]) == (400, field)


async def test_a_calls_topics_are_set_by_phone_staff(
    site: Site, boss: aiohttp.ClientSession
) -> None:
    logged = await site.store.log_call(
        NewCall(
            direction=CallDirection.INBOUND,
            started_at=datetime.now(UTC),
            duration_s=60,
            outcome="reached",
            staff_id=site.id("phone"),
            withheld=True,
        ),
        now=datetime.now(UTC),
        retry=lambda tries, window: None,  # type: ignore[arg-type,return-value]
    )
    async with await sign_in(site.url, "phone") as phone:
        url = f"{site.url}/api/calls/{logged.call.id}/topics"
        status, body = await call(phone, "PUT", url, {"topics": ["poverty", "housing"]})
        assert (status, body) == (200, {"topics": ["housing", "poverty"]})
        status, body = await call(phone, "PUT", url, {"topics": ["x"]})
        assert (status, body["error"]["field"]) == (400, "topics")
        # her age group: a withheld call has no contact to keep it on
        ages = f"{site.url}/api/calls/{logged.call.id}/age-group"
        status, body = await call(phone, "PUT", ages, {"age_group": "30s"})
        assert (status, body["error"]["code"]) == (409, "withheld_call")
        # a call from a number: on that number's contact, shown on her conversations too
        status, body = await call(phone, "POST", f"{site.url}/api/calls", form())
        assert status == 201, body
        ages = f"{site.url}/api/calls/{body['call']['id']}/age-group"
        status, answer = await call(phone, "PUT", ages, {"age_group": "40s"})
        assert (status, answer) == (200, {"age_group": "40s"})
        status, answer = await call(phone, "PUT", ages, {"age_group": "99s"})
        assert (status, answer["error"]["field"]) == (400, "age_group")
    stored = await site.store.get_call(body["call"]["id"])
    assert stored.contact_id is not None
    assert await site.store.age_group_of(stored.contact_id) == "40s"
    assert await site.store.call_topics(logged.call.id) == ("housing", "poverty")


async def test_activities_are_logged_edited_deleted_and_totalled_this_fiscal_year(
    site: Site, boss: aiohttp.ClientSession, sato: aiohttp.ClientSession
) -> None:
    url = f"{site.url}/api/activities"
    today = datetime.now(TOKYO).date()
    status, body = await call(
        sato,
        "POST",
        url,
        {
            "kind": "outreach",
            "place_kind": " 公民館 ",
            "people": 5,
            "new_people": 2,
            "note": "メモ",
        },
    )
    assert status == 201, body
    mine = body["activity"]
    assert (mine["day"], mine["place_kind"], mine["staff"]["id"], mine["editable"]) == (
        today.isoformat(),
        "公民館",
        site.id("sato"),
        True,
    )
    status, body = await call(
        boss, "POST", url, {"kind": "drop_in", "day": today.isoformat(), "people": 3}
    )
    theirs = body["activity"]
    status, body = await call(
        boss, "POST", url, {"kind": "talk", "day": "2001-05-05", "people": 30, "new_people": 30}
    )
    assert status == 201
    old = body["activity"]

    status, listed = await call(sato, "GET", url)
    first, last = fiscal_year_bounds(fiscal_year_of(today))
    assert (listed["from"], listed["to"]) == (first.isoformat(), last.isoformat())
    assert listed["fiscal_year"]["ja"].startswith(f"{first.year}年度（令和")
    assert {a["id"]: a["editable"] for a in listed["activities"]} == {
        mine["id"]: True,
        theirs["id"]: False,
    }
    totals = {t["kind"]: (t["count"], t["people"], t["new_people"]) for t in listed["totals"]}
    assert totals["outreach"] == (1, 5, 2) and totals["drop_in"] == (1, 3, 0)
    assert totals["talk"] == (0, 0, 0)
    status, listed = await call(sato, "GET", f"{url}?from=2001-04-01&to=2002-03-31")
    assert [a["id"] for a in listed["activities"]] == [old["id"]]

    # each edits her own; a supervisor any
    status, body = await call(sato, "PATCH", f"{url}/{mine['id']}", {"people": 7})
    assert (status, body["activity"]["people"], body["activity"]["new_people"]) == (200, 7, 2)
    status, body = await call(sato, "PATCH", f"{url}/{theirs['id']}", {"people": 1})
    assert status == 403
    status, body = await call(sato, "DELETE", f"{url}/{theirs['id']}")
    assert status == 403
    status, body = await call(boss, "PATCH", f"{url}/{mine['id']}", {"note": ""})
    assert status == 200 and body["activity"]["note"] == ""
    status, _ = await call(boss, "DELETE", f"{url}/{mine['id']}")
    assert status == 204
    status, _ = await call(boss, "DELETE", f"{url}/{mine['id']}")
    assert status == 404

    for data, field in (
        ({"kind": "party", "people": 1}, "kind"),
        ({"people": 1}, "kind"),
        ({"kind": "talk", "people": 2, "new_people": 3}, "new_people"),
        ({"kind": "talk", "people": -1}, "people"),
        ({"kind": "talk", "day": "2026-13-01"}, "day"),
        ({"kind": "talk", "day": "20260401"}, "day"),
        ({"kind": "talk", "place_kind": "x" * 41}, "place_kind"),
        ({"kind": "talk", "who": "me"}, "who"),
    ):
        status, body = await call(sato, "POST", url, data)
        assert status in (400, 413) and body["error"]["field"] == field, data
    # a supervisor's own: checked against the stored people (3), the field named
    status, body = await call(boss, "PATCH", f"{url}/{theirs['id']}", {"new_people": 9})
    assert (status, body["error"]["field"]) == (400, "new_people")
