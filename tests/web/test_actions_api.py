"""What the board's actions read besides the board: a counselor's whole routing profile, for
the profile editor (GET /api/counselors/{id}); a supervisor reads anyone's, a counselor her own."""

from __future__ import annotations

import aiohttp

from tests.web.conftest import Site, sign_in
from tests.web.test_supervision import call


async def test_a_supervisor_reads_the_profile_she_edits(
    site: Site, boss: aiohttp.ClientSession
) -> None:
    url = f"{site.url}/api/counselors/{site.id('suzuki')}"
    shift = {"timezone": "Asia/Tokyo", "weekly": {"monday": ["09:00-17:30"]}, "exceptions": {}}
    change = {"capacity": 4, "channel_capacity": {"mail": 2}, "skills": ["dv"], "shift": shift}
    status, body = await call(boss, "PATCH", url, change)
    assert status == 200, body
    status, body = await call(boss, "GET", url)
    assert status == 200, body
    counselor = body["counselor"]
    assert (counselor["id"], counselor["capacity"]) == (site.id("suzuki"), 4)
    assert counselor["channel_capacity"] == {"mail": 2}
    assert (counselor["skills"], counselor["languages"], counselor["teams"]) == (["dv"], ["ja"], [])
    assert counselor["shift"] == shift | {"closed_days": "follow"}  # the desk's closed days
    assert counselor["presence"] == "available"
    assert isinstance(counselor["on_shift"], bool)

    # No counselor by that id: not found (a supervisor's own id, an unknown one).
    assert (await call(boss, "GET", f"{site.url}/api/counselors/{site.id('boss')}"))[0] == 404
    assert (await call(boss, "GET", f"{site.url}/api/counselors/99999"))[0] == 404


async def test_a_counselor_reads_only_her_own_profile(site: Site) -> None:
    async with await sign_in(site.url, "sato") as sato:
        status, body = await call(sato, "GET", f"{site.url}/api/counselors/{site.id('sato')}")
        assert status == 200 and body["counselor"]["username"] == "sato"
        status, body = await call(sato, "GET", f"{site.url}/api/counselors/{site.id('suzuki')}")
        assert status == 403 and "suzuki" not in str(body)
