"""The permission matrix (README, Roles): each role against each guarded call, on the server.

Admins manage accounts, edit the canned replies and read the event log, nothing else; counselors
note only their own conversations; phone staff see and note phone conversations only."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from inbox.app import build_store
from inbox.auth import hash_password
from inbox.core.activity import ActivityDraft
from inbox.core.agencies import AgencyDraft, NewReferral
from inbox.core.follow_ups import NewFollowUp
from inbox.core.model import ChannelKind, ConversationId
from inbox.core.phone import CallDirection, NewCall
from routing.hours import TOKYO
from tests.factories import T0, new_user
from tests.web.conftest import PASSWORD, STAFF, Server, Site, make_config, running, sign_in
from tests.web.test_supervision import call, everyone_away, now_inbound, seed

ROLES = ("sato", "boss", "phone", "admin")  # counselor, supervisor, phone_staff, admin
# Conversations: Q queued, S sato's, Z suzuki's, P a queued phone call.
MATRIX: list[tuple[str, str, object, tuple[int, int, int, int]]] = [
    ("POST /api/conversations/{Q}/notes", "", {"body": "メモ"}, (403, 201, 404, 403)),
    ("POST /api/conversations/{S}/notes", "", {"body": "メモ"}, (201, 201, 404, 403)),
    ("POST /api/conversations/{Z}/notes", "", {"body": "メモ"}, (404, 201, 404, 403)),
    ("POST /api/conversations/{P}/notes", "", {"body": "メモ"}, (403, 201, 201, 403)),
    # desk: tags as notes (before the new user below takes the queue)
    ("PUT /api/conversations/{Q}/tags", "", {"tags": ["dv"]}, (403, 200, 404, 403)),
    ("PUT /api/conversations/{S}/tags", "", {"tags": ["dv"]}, (200, 200, 404, 403)),
    ("PUT /api/conversations/{Z}/tags", "", {"tags": ["dv"]}, (404, 200, 404, 403)),
    ("PUT /api/conversations/{P}/tags", "", {"tags": ["dv"]}, (403, 200, 200, 403)),
    # --- casework: the directory is read by all, kept by supervisors and admins (the admin's
    # 409: she passed the role check, and the boss had added it); referrals as notes
    ("GET /api/agencies", "", None, (200, 200, 200, 200)),
    (
        "POST /api/agencies",
        "",
        {"name": "北区役所", "kind": "welfare_office"},
        (403, 201, 403, 409),
    ),
    ("PATCH /api/agencies/{Y}", "", {"note": "平日のみ"}, (403, 200, 403, 200)),
    ("POST /api/agencies/import", "not a CSV", {"csv": ""}, (403, 400, 403, 400)),
    ("GET /api/conversations/{S}/referrals", "", None, (200, 200, 404, 403)),
    ("POST /api/conversations/{Q}/referrals", "", "referral", (403, 201, 404, 403)),
    ("POST /api/conversations/{S}/referrals", "", "referral", (201, 201, 404, 403)),
    ("POST /api/conversations/{P}/referrals", "", "referral", (403, 201, 201, 403)),
    ("POST /api/calls/{K}/referrals", "her call", "referral", (403, 201, 201, 403)),
    ("GET /api/calls/{K}/referrals", "her call", None, (403, 200, 200, 403)),
    # the boss's referral: not sato's to delete; then gone
    ("DELETE /api/referrals/{R}", "", None, (403, 204, 404, 403)),
    # --- casework: topics and age group as tags (whoever may add notes)
    ("PUT /api/conversations/{Q}/topics", "", {"topics": ["dv"]}, (403, 200, 404, 403)),
    ("PUT /api/conversations/{S}/topics", "", {"topics": ["dv"]}, (200, 200, 404, 403)),
    ("PUT /api/conversations/{Z}/topics", "", {"topics": ["dv"]}, (404, 200, 404, 403)),
    ("PUT /api/conversations/{P}/topics", "", {"topics": ["dv"]}, (403, 200, 200, 403)),
    ("PUT /api/conversations/{S}/age-group", "", {"age_group": "30s"}, (200, 200, 404, 403)),
    ("PUT /api/conversations/{P}/age-group", "", {"age_group": "30s"}, (403, 200, 200, 403)),
    ("GET /api/conversations", "", None, (200, 200, 200, 403)),
    ("GET /api/conversations/{Q}", "", None, (200, 200, 404, 403)),
    ("GET /api/conversations/{P}", "", None, (200, 200, 200, 403)),
    # context: her timeline follows the conversation it is opened from (before the queue moves)
    ("GET /api/conversations/{S}/timeline", "", None, (200, 200, 404, 403)),
    ("GET /api/conversations/{Z}/timeline", "", None, (404, 200, 404, 403)),
    ("GET /api/conversations/{P}/timeline", "", None, (200, 200, 200, 403)),
    # a web-chat session has no address to reveal (409, nothing audited); a phone number has
    ("POST /api/conversations/{Q}/reveal", "", {"reason": "確認のため"}, (403, 409, 404, 403)),
    # phone staff read a number to call back on an ordinary line (privacy.reveal_roles default)
    ("POST /api/conversations/{P}/reveal", "", {"reason": "確認のため"}, (403, 200, 200, 403)),
    ("GET /api/supervision", "", None, (403, 200, 403, 403)),
    # --- board: the live board and its alerts, a supervisor's alone
    ("GET /api/board", "", None, (403, 200, 403, 403)),
    ("POST /api/alerts/{A}/ack", "", None, (403, 200, 403, 403)),
    ("GET /api/channels", "", None, (403, 200, 403, 403)),
    ("POST /api/channels/webchat/pause", "", None, (403, 200, 403, 403)),
    ("POST /api/channels/webchat/resume", "", None, (403, 200, 403, 403)),
    ("POST /api/conversations/move", "Z to suzuki", "move", (403, 200, 403, 403)),
    ("PATCH /api/counselors/{suzuki}", "", {"presence": "away"}, (403, 200, 403, 403)),
    # --- actions: the profile editor reads her profile
    ("GET /api/counselors/{suzuki}", "", None, (403, 200, 403, 403)),
    ("GET /api/counselors/{sato}", "her own", None, (200, 200, 403, 403)),
    # phone staff are offered callbacks by presence: they set their own, and nothing else
    ("GET /api/counselors/{phone}", "her own", None, (403, 200, 200, 403)),
    ("PATCH /api/counselors/{phone}", "her own", {"presence": "away"}, (403, 200, 200, 403)),
    ("PATCH /api/counselors/{phone}", "her capacity", {"capacity": 2}, (403, 200, 403, 403)),
    # --- fefix: the handover notice reads who gave it and the note: its assignee, supervisors
    ("GET /api/conversations/{S}/handover", "", None, (200, 200, 403, 403)),
    ("GET /api/conversations/{Z}/handover", "", None, (404, 200, 403, 403)),
    ("POST /api/counselors/{suzuki}/drain", "", "drain", (403, 200, 403, 403)),
    ("POST /api/counselors/{sato}/drain", "her own", "drain", (200, 200, 403, 403)),
    ("GET /api/users", "", None, (403, 200, 403, 200)),
    ("POST /api/users", "", "new user", (403, 403, 403, 201)),
    ("GET /api/events", "", None, (403, 200, 403, 200)),
    ("GET /api/search?q=こんにちは", "", None, (200, 200, 200, 403)),
    ("GET /api/outcomes", "", None, (200, 200, 200, 403)),
    (
        "POST /api/conversations/{Z}/close",
        "unknown outcome",
        {"outcome": "x"},
        (404, 400, 404, 403),
    ),
    ("POST /api/conversations/{Z}/close", "", {"outcome": "other"}, (404, 200, 404, 403)),
    # --- desk: labels, tags, canned replies
    ("GET /api/labels", "", None, (200, 200, 200, 200)),
    ("GET /api/me", "", None, (200, 200, 200, 200)),
    ("GET /api/canned-replies", "", None, (200, 200, 200, 200)),
    ("POST /api/canned-replies", "", {"title_ja": "件名", "body_ja": "本文"}, (403, 201, 403, 201)),
    ("PATCH /api/canned-replies/{C}", "", {"body_en": "Hello"}, (403, 200, 403, 200)),
    # the admin's 404: she passed the role check, and the boss had deleted it
    ("DELETE /api/canned-replies/{C}", "", None, (403, 204, 403, 404)),
    ("GET /api/staff", "", None, (200, 200, 200, 200)),
    # --- link: one consulter across channels, a supervisor's decision only
    ("POST /api/conversations/{S}/link", "Q is hers", "link", (403, 200, 403, 403)),
    # --- audit: the audit log (reads included), supervisors and admins only
    ("GET /api/audit", "", None, (403, 200, 403, 200)),
    ("GET /api/audit?kind=conversation_read", "", None, (403, 200, 403, 200)),
    ("GET /api/audit.csv", "a CSV", None, (403, 200, 403, 200)),
    # --- the grant report: supervisors and admins, each export audited
    ("GET /api/report", "", None, (403, 200, 403, 200)),
    ("GET /api/report?fy=2025", "", None, (403, 200, 403, 200)),
    ("GET /api/report.csv?lang=en", "a CSV", None, (403, 200, 403, 200)),
    ("POST /api/report/exports", "", "print", (403, 201, 403, 201)),
    # --- follow-ups (近況確認): counselors' and supervisors'; set by the assignee or a
    # supervisor, read where the conversation is readable; F is sato's, G suzuki's
    ("GET /api/conversations/{S}/follow-ups", "", None, (200, 200, 404, 403)),
    ("GET /api/conversations/{P}/follow-ups", "no counselor's notes", None, (200, 200, 403, 403)),
    ("POST /api/conversations/{S}/follow-ups", "", "follow-up", (201, 201, 404, 403)),
    ("POST /api/conversations/{Q}/follow-ups", "", "follow-up", (403, 201, 404, 403)),
    ("POST /api/conversations/{Z}/follow-ups", "", "follow-up", (404, 201, 404, 403)),
    ("POST /api/follow-ups/{G}/cancel", "suzuki's", None, (404, 200, 403, 403)),
    (
        "POST /api/follow-ups/{F}/resolve",
        "hers, then over",
        {"outcome": "done"},
        (200, 409, 403, 403),
    ),
    # --- accounts: admins manage accounts (suzuki, who signs in nowhere here); anyone her own
    ("PATCH /api/users/suzuki", "", {"display_name": "鈴木"}, (403, 403, 403, 200)),
    ("POST /api/users/suzuki/password", "", None, (403, 403, 403, 200)),
    ("POST /api/users/suzuki/disable", "", None, (403, 403, 403, 200)),
    ("POST /api/users/suzuki/enable", "", None, (403, 403, 403, 200)),
    ("POST /api/users/admin/disable", "herself", None, (403, 403, 403, 409)),
    ("POST /api/session/password", "a wrong current", "own password", (400, 400, 400, 400)),
    # --- casework: a call's topics (K: phone's call); activities (V: sato's, W: the boss's)
    ("PUT /api/calls/{K}/topics", "", {"topics": ["dv"]}, (403, 200, 200, 403)),
    ("PUT /api/calls/{K}/age-group", "withheld", {"age_group": "30s"}, (403, 409, 409, 403)),
    ("GET /api/casework", "", None, (200, 200, 200, 403)),
    ("GET /api/activities", "", None, (200, 200, 200, 403)),
    ("POST /api/activities", "", {"kind": "talk", "people": 3}, (201, 201, 201, 403)),
    ("PATCH /api/activities/{V}", "sato's", {"people": 4}, (200, 200, 403, 403)),
    ("DELETE /api/activities/{W}", "the boss's", None, (403, 204, 404, 403)),
]


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    cfg = make_config(tmp_path)
    async with build_store(cfg.database) as store:
        await store.migrate()
        password_hash = hash_password(PASSWORD)
        ids: dict[str, int] = {}
        for name, roles in STAFF.items():
            user = dataclasses.replace(new_user(name, roles=roles), password_hash=password_hash)
            ids[name] = (await store.create_user(user, now=T0)).id
        async with running(cfg) as url:
            yield Site(Server(url=url, cfg=cfg, ids=ids), store)


async def conversations(site: Site, boss: aiohttp.ClientSession) -> dict[str, int]:
    await everyone_away(site, boss)  # the router leaves the queue as it is
    q, s, z = await seed(site, *(now_inbound(f"{n}@example.jp") for n in "qsz"))
    (p,) = await seed(site, now_inbound("+81312345678", channel=ChannelKind.PHONE))
    for conv, owner in ((s, "sato"), (z, "suzuki")):
        status, _ = await call(
            boss, "POST", f"{site.url}/api/conversations/{conv}/assign", {"user_id": site.id(owner)}
        )
        assert status == 200
    canned = (await site.store.list_canned_replies())[0].id
    agency = await site.store.create_agency(
        AgencyDraft(name="中央警察署", kind="police"), actor_id=site.id("boss"), now=T0
    )
    referral = await site.store.record_referral(
        NewReferral(
            agency_id=agency.id,
            kind="handover",
            on_day=T0.date(),
            staff_id=site.id("boss"),
            conversation_id=ConversationId(s),
        ),
        now=T0,
    )
    logged = await site.store.log_call(
        NewCall(
            direction=CallDirection.INBOUND,
            started_at=T0,
            duration_s=60,
            outcome="reached",
            staff_id=site.id("phone"),
            withheld=True,
        ),
        now=T0,
        retry=lambda tries, window: pytest.fail("no callback here"),
    )
    await site.store.record_event("deadline_warning", now=T0, conversation_id=q)
    alert = await site.store.last_event_id()
    made = {}
    for key, conv, owner in (("F", s, "sato"), ("G", z, "suzuki")):
        new = NewFollowUp(from_conversation_id=ConversationId(conv), due_on=_week_ahead())
        made[key] = (await site.store.set_follow_up(new, actor_id=site.id(owner), now=T0)).id
    draft = ActivityDraft(kind="outreach", day=T0.date(), people=2)
    hers = await site.store.add_activity(draft, staff_id=site.id("sato"), now=T0)
    theirs = await site.store.add_activity(draft, staff_id=site.id("boss"), now=T0)
    casework = {"Y": agency.id, "R": referral.id, "K": logged.call.id, "V": hers.id, "W": theirs.id}
    return {"Q": q, "S": s, "Z": z, "P": p, "C": canned, "A": alert} | made | casework


def _week_ahead() -> date:
    return (datetime.now(TOKYO) + timedelta(days=7)).date()


def body_for(kind: object, ids: dict[str, int]) -> object:
    match kind:
        case "move":
            return {"conversation_ids": [ids["Z"]], "to_user_id": ids["suzuki"]}
        case "drain":
            return {"keep": True, "presence": "away"}
        case "link":
            return {"conversation_id": ids["Q"], "reason": "同じ方と確認"}
        case "new user":
            return {"username": "tanaka", "password": PASSWORD, "roles": ["counselor"]}
        case "print":
            return {"kind": "print", "from": "2025-04-01", "to": "2026-03-31"}
        case "follow-up":
            return {"due_on": _week_ahead().isoformat(), "note": "様子を聞く"}
        case "referral":
            return {"agency_id": ids["Y"], "kind": "information"}
        case "own password":
            return {"current": "not the password", "new": "a new long password"}
    return kind


async def test_each_role_gets_what_the_roles_table_says(site: Site) -> None:
    sessions = {name: await sign_in(site.url, name) for name in ROLES}
    try:
        ids = await conversations(site, sessions["boss"]) | site.server.ids
        expected: dict[tuple[str, str, str], int] = {}
        actual: dict[tuple[str, str, str], int] = {}
        for call_template, note, kind, statuses in MATRIX:
            method, path = call_template.split(" ", 1)
            for name, status in zip(ROLES, statuses, strict=True):
                key = (call_template, note, name)
                expected[key] = status
                url = site.url + path.format(**ids)
                async with sessions[name].request(method, url, json=body_for(kind, ids)) as r:
                    actual[key] = r.status  # some answers are not JSON (a CSV)
    finally:
        for session in sessions.values():
            await session.close()
    assert actual == expected
