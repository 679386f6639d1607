"""The benchmarks end to end with a tiny load: output shape, not timings. `bench email` needs
Dovecot: tests/mail/test_bench_email.py."""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

import pytest

from inbox.core.line import parse_webhook
from inbox.tools import bench_open_loop, bench_webhook, dovecot
from inbox.tools.bench_board import latencies, run_board_bench
from inbox.tools.bench_board_desk import StaffSocket
from inbox.tools.bench_email import run_email_bench
from inbox.tools.bench_grant_report import run_grant_report_bench
from inbox.tools.bench_line import event_counts, line_bench_config, webhook_body
from inbox.tools.bench_load import run_load_bench
from inbox.tools.bench_pipeline import run_pipeline_bench
from inbox.tools.bench_round import run_round_bench
from inbox.tools.bench_routing import run_routing_bench
from inbox.tools.bench_search import run_search_bench
from inbox.tools.bench_socket_clients import Ack
from inbox.tools.bench_sockets import run_sockets_bench
from inbox.tools.bench_webhook import bench_config, run_webhook_bench
from inbox.tools.load_generator import Console
from tests import pgutil

FINAL_LINE = re.compile(r"^pipeline_vs_baseline=\d+(\.\d+)? p99_ms=\d+(\.\d+)?$")
VERIFIED = re.compile(
    r"verified\s+stored (\d+)/(\d+) messages, assigned (\d+)/(\d+) conversations \((\d+) open\)"
)


async def test_pipeline_bench_stores_and_assigns_every_message(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no ./config.toml: the built-in intake settings
    monkeypatch.delenv("TSUNAGU_CONFIG", raising=False)
    args = argparse.Namespace(database_url=None, messages=200, rate=500.0, delivery=7, config=None)

    assert await run_pipeline_bench(args) == 0

    lines = capsys.readouterr().out.strip().splitlines()
    assert FINAL_LINE.match(lines[-1]), lines[-1]
    found = [m for line in lines if (m := VERIFIED.search(line))]
    assert len(found) == 2, lines  # grouped deliveries and one message per delivery
    for verified in found:
        stored, offered, assigned, conversations, still_open = map(int, verified.groups())
        assert stored == offered == 200
        assert 0 < conversations < 200  # some senders wrote more than once: threading exercised
        assert assigned == conversations == still_open


async def test_round_bench_times_a_full_desk_and_reads_it_once_for_a_burst(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A page full of waiting conversations behind full counselors (SQLite only here)."""
    args = argparse.Namespace(capacity=1, waiting=1_000, burst=40, database_url=None)
    assert await run_round_bench(args) == 0
    out = capsys.readouterr().out
    assert "== SQLite: 1000 in the page, 1000 decisions, 0 assigned ==" in out, out
    for part in ("snapshot read", "decide", "on_round", "apply", "round after an arrival"):
        assert re.search(rf"{part}.* \d+\.\d\d ms", out), part
    burst = re.search(r"burst of 40 arrivals over [\d.]+ s: (\d+) rounds, (\d+) of them read", out)
    assert burst is not None, out
    rounds, reads = map(int, burst.groups())
    assert 0 < rounds < 40 and reads == 0


def test_routing_bench_decides_every_conversation(capsys: pytest.CaptureFixture[str]) -> None:
    args = argparse.Namespace(conversations=300, counselors=20)
    assert run_routing_bench(args) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert re.fullmatch(r"decision_p99_us=\d+\.\d vs_sort=\d+\.\d", lines[-1]), lines[-1]
    decided = next(line for line in lines if line.strip().startswith("decisions"))
    total, assigned, waiting = map(int, re.findall(r"\d+", decided))
    assert total == 300 and assigned + waiting == 300 and assigned > 0


def test_email_bench_without_dovecot_says_how_to_install_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TSUNAGU_CONFIG", raising=False)
    monkeypatch.setattr(dovecot, "find_dovecot", lambda: None)
    args = argparse.Namespace(messages=30, database_url=None, config=None)

    assert run_email_bench(args) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert "Dovecot is not installed" in err and "apt-get install dovecot-imapd" in err


def test_sockets_bench_measures_a_real_server(capsys: pytest.CaptureFixture[str]) -> None:
    args = argparse.Namespace(consulters=20, staff=5, slow=3, normal=5, rate=20.0, seconds=0.5)

    assert run_sockets_bench(args) == 0

    lines = capsys.readouterr().out.strip().splitlines()
    final = re.fullmatch(r"socket_kb=(\d+\.\d) slow_client_p99_ratio=(\d+\.\d\d)", lines[-1])
    assert final, lines[-1]
    assert float(final[1]) > 0 and float(final[2]) > 0
    acks = [m for line in lines if (m := re.search(r"\((\d+) acked, (\d+) not;", line))]
    # two rounds alone, two beside the never-reading sockets, then each kind pooled
    assert [(int(m[1]), int(m[2])) for m in acks] == [(10, 0)] * 4 + [(20, 0)] * 2
    opened = next(line for line in lines if "never-reading" in line)
    assert int(re.findall(r"\d+", opened)[0]) >= 3  # each never-reading socket got in


async def test_search_bench_times_search_and_timeline_against_a_lookup(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = argparse.Namespace(conversations=300, messages=3000, calls=10, database_url=None)

    assert await run_search_bench(args) == 0

    lines = capsys.readouterr().out.strip().splitlines()
    assert re.fullmatch(r"search_p99_ms=\d+\.\d timeline_p99_ms=\d+\.\d", lines[-1]), lines[-1]
    assert lines[0] == "search bench: 300 conversations, 3000 messages, 10 calls each"
    rows = {line[:34].strip(): line[34:].split() for line in lines[2:6]}
    assert set(rows) == {
        "text search, supervisor (20)",
        "text search, counselor (hers)",
        "timeline (her 20 latest)",
        "conversation by id (baseline)",
    }
    assert all(float(p50) <= float(p99) for p50, p99 in rows.values())


async def test_report_bench_times_the_year_report_against_a_count(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = argparse.Namespace(
        conversations=400, messages=2000, referrals=80, activities=20, database_url=None
    )

    assert await run_grant_report_bench(args) == 0

    lines = capsys.readouterr().out.strip().splitlines()
    assert re.fullmatch(r"report_ms=\d+\.\d report_vs_count=\d+\.\d\d", lines[-1]), lines[-1]
    assert lines[0].startswith("report bench: FY2025, 400 conversations, 2000 messages, 80 ")
    figures = dict(
        part.split("=") for part in lines[2].split(": ", 1)[1].split(", ") if "=" in part
    )
    assert int(figures["consultations"]) >= 400  # every conversation, and the calls
    assert int(figures["referrals"]) == 80 and int(figures["consulters"]) > 0


def test_board_bench_pairs_each_message_with_the_first_frame_reflecting_its_event() -> None:
    feed = StaffSocket("t", map_events=True)
    feed.take(0.0, {"type": "events", "events": [
        {"id": 10, "kind": "message_received", "message_id": 1},
        {"id": 11, "kind": "conversation_opened", "message_id": None},
        {"id": 12, "kind": "message_received", "message_id": 2},
        {"id": 13, "kind": "message_received", "message_id": 3},
    ]})  # fmt: skip
    board = StaffSocket("t")
    for at, event_id in ((1.0, 9), (1.2, 12), (1.3, 11), (1.5, 12)):
        board.take(at, {"type": "board", "event_id": event_id})
    acks = [Ack(0.5, 1.1, 1), Ack(1.0, 1.25, 2), Ack(1.4, 1.45, 3), Ack(1.4, 1.5, 99)]

    stored, offered, unmapped, unreached, early = latencies(acks, feed, [board])

    # message 1 (event 10) and 2 (event 12) are first reflected by the frame at 1.2, which came
    # before message 2's ack (0 ms); no frame reflects event 13; message 99 never reached the feed
    assert stored == pytest.approx([0.0, 100.0])
    assert offered == pytest.approx([200.0, 700.0])
    assert (unmapped, unreached, early) == (1, 1, 1)


BOARD_ARGS = {"counselors": 5, "supervisors": 2, "capacity": 2, "waiting": 20, "rate": 40.0}


def board_section(lines: list[str], store: str) -> dict[str, str]:
    """The lines of one database's section by their label (the first 29 characters)."""
    start = next(i for i, line in enumerate(lines) if line.startswith(f"== board ({store},"))
    assert lines[start].startswith(f"== board ({store}, built-in defaults): 5 counselors")
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith("  "))
    return {line[:29].strip(): line[29:] for line in lines[start + 1 : end]}


def check_board_run(lines: list[str], store: str) -> float:
    """The section's shape and numbers; its stored → board p99."""
    section = board_section(lines, store)
    assert set(section) == {
        "machine",
        "no supervisor (baseline)",
        "2 supervisors",
        "board updates",
        "stored → board",
        "sent → board",
        "the bench's loop, late by",
        "server CPU per update",
        "one board, built alone",
    }, lines
    for run in ("no supervisor (baseline)", "2 supervisors"):
        found = re.search(
            r"(\d+) acked of (\d+) .* server CPU +(\d+\.\d+) ms/message", section[run]
        )
        assert found and (int(found[1]), int(found[2])) == (40, 40) and float(found[3]) > 0
    updates = re.search(
        r"(\d+) frames to each supervisor .*, (\d+) to counselors", section["board updates"]
    )
    assert updates and int(updates[1]) > 0 and int(updates[2]) == 0, lines
    stored = re.fullmatch(
        r" *p50 +(\d+\.\d) ms  p99 +(\d+\.\d) ms .*; (\d+) message × supervisor pairs, "
        r"0 never reached, \d+ before the ack; 0 messages not in the event feed\)",
        section["stored → board"],
    )
    assert stored and int(stored[3]) == 80, lines  # every message at both supervisors
    assert 0 <= float(stored[1]) <= float(stored[2]) > 0
    assert re.fullmatch(
        r" *p50 +\d+\.\d ms  p99 +\d+\.\d ms .*", section["the bench's loop, late by"]
    )
    per_update = re.match(r" *(\d+\.\d+) ms \(all it used", section["server CPU per update"])
    assert per_update and float(per_update[1]) > 0, lines
    alone = re.match(
        r" *(\d+\.\d\d) ms of server CPU, p50 (\d+\.\d) ms \(GET /api/board, 30 calls",
        section["one board, built alone"],
    )
    assert alone and float(alone[1]) >= 0 and float(alone[2]) > 0, lines  # CPU: ticks of 10 ms
    return float(stored[2])


@pytest.mark.timeout(120)
def test_board_bench_times_the_board_at_every_supervisor(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """On SQLite, and on PostgreSQL too when the PostgreSQL tests have a server (as in CI): one
    run of the bench measures both, SQLite's last, so SQLite is not run twice."""
    url = pgutil.pg_admin_url()
    if url is not None and not pgutil.run_blocking(pgutil.pg_reachable(url)):
        pgutil.skip_or_fail(f"no PostgreSQL answers at {pgutil.redact(url)}")
    if url is None and pgutil.strict():
        pgutil.skip_or_fail("TSUNAGU_TEST_DATABASE_URL is not set")
    args = argparse.Namespace(**BOARD_ARGS, seconds=1.0, rounds=1, database_url=url)

    assert run_board_bench(args) == 0

    lines = capsys.readouterr().out.strip().splitlines()
    p99 = check_board_run(lines, "SQLite")
    assert lines[-1] == f"board_p99_ms={p99:.1f}"
    if url is not None:
        assert lines[-2] == f"board_p99_ms_postgresql={check_board_run(lines, 'PostgreSQL'):.1f}"


LOAD_ARGS = {"staff": 4, "capacity": 2, "consulters": 8, "open": 30, "baseline_open": 20}


@pytest.mark.timeout(120)
def test_load_bench_counts_every_message_event_and_reply(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """SQLite only, at low rates: every message acked, its event at every console exactly once,
    every reply at its chat; the last line names the highest rate kept and its p99."""
    args = argparse.Namespace(
        **LOAD_ARGS, rates="10,20", seconds=1.0, reply_share=0.3, instances=2, database_url=None
    )

    assert run_load_bench(args) == 0

    lines = capsys.readouterr().out.strip().splitlines()
    heads = [line for line in lines if line.startswith("== load (")]
    assert [h.split(")")[0] for h in heads] == [
        "== load (baseline: SQLite, 1 instance",
        "== load (SQLite, 1 instance",
    ]
    rows = [line.split() for line in lines if re.match(r"^ +\d+ +\d+/\d+ ", line)]
    assert [row[0] for row in rows] == ["10", "10", "20"]  # the baseline: the lowest rate
    for row in rows:
        acked, offered = map(int, row[1].split("/"))
        arrived, replies = map(int, row[8].split("/"))
        not_acked, cut = map(int, row[12].split("/"))
        lost, doubled = map(int, row[13].split("/"))
        assert (acked, not_acked, cut, lost, doubled) == (offered, 0, 0, 0, 0), row
        assert arrived == replies == round(offered * 0.3), row
        assert float(row[5]) >= float(row[4]) >= 0  # push p99 >= p50
        assert int(row[14].split("/")[0]) > 0  # the consoles fetched the queue on events
        assert row[11] == "–"  # no PostgreSQL backends to read
    final = re.fullmatch(r"load_max_rate=(\d+) ack_p99_ms=(\d+\.\d) instances=1", lines[-1])
    assert final, lines[-1]
    kept = [row for row in rows[1:] if float(row[3]) < 100]
    if kept:  # a slow CI machine may keep none; then the rate is 0
        assert (final[1], final[2]) == (kept[-1][0], f"{float(kept[-1][3]):.1f}")
    else:
        assert final[1] == "0"


def test_webhook_bench_posts_signed_texts_and_chats_at_each_rate(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = argparse.Namespace(rates="10,20", seconds=0.5, consulters=3)

    assert run_webhook_bench(args) == 0

    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    assert re.fullmatch(r"sms_webhook_p99_ms=\d+\.\d", lines[-1]), lines[-1]
    rows = [line.split() for line in lines if re.match(r"^\s+(10|20)\s", line)]
    # every webhook answered 200 (stored) and every chat message acked, at both rates
    assert [(row[0], row[3], row[6]) for row in rows] == [
        ("10", "5/5", "5/5"),
        ("20", "10/10", "10/10"),
    ]
    assert "signed SMS webhooks" in err  # progress goes to stderr
    # the server's automatic replies went to the local stand-in, never to api.twilio.com
    assert re.search(r"Twilio stand-in at http://127\.0\.0\.1:\d+: \d+ SMS sent to it", err)


def test_the_webhook_bench_never_aims_at_the_real_twilio() -> None:
    assert 'api_url = "http://127.0.0.1:9"' in bench_config("http://127.0.0.1:9")
    with pytest.raises(ValueError, match="stand-in"):
        bench_config("https://api.twilio.com")


def test_webhook_bench_posts_signed_line_webhooks_of_many_events_and_stores_each_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = argparse.Namespace(channel="line", rates="10,20", seconds=0.5, consulters=3)

    assert run_webhook_bench(args) == 0

    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    assert re.fullmatch(r"line_webhook_p99_ms=\d+\.\d", lines[-1]), lines[-1]
    rows = [line.split() for line in lines if re.match(r"^\s+(10|20)\s", line)]
    # every webhook answered 200 (stored), events/s reported, every chat message acked
    assert [(row[0], row[3], row[7]) for row in rows] == [
        ("10", "5/5", "5/5"),
        ("20", "10/10", "10/10"),
    ]
    assert all(float(row[4]) > 0 for row in rows)
    # the database after the run: the warm-up's 5 requests and the runs' 15, each event once
    events = sum(sum(event_counts(run, n)) for run, n in ((0, 5), (1, 5), (2, 10)))
    verified = next(line for line in lines if line.strip().startswith("verified"))
    assert f"LINE webhook {events}/{events}, web chat 20/20: each stored exactly once" in verified
    assert "signed LINE webhooks" in err
    assert re.search(r"LINE stand-in at http://127\.0\.0\.1:\d+: \d+ replies, \d+ pushes", err)
    assert "(0 other requests refused)" in err  # the server called nothing the stand-in lacks


def test_line_webhooks_carry_1_to_20_events_of_many_users() -> None:
    counts = event_counts(1, 2000)
    assert counts == event_counts(1, 2000)  # seeded: every run of the bench posts the same
    assert min(counts) == 1 and max(counts) == 20
    assert 4 < sum(counts) / len(counts) < 7 and counts.count(1) > counts.count(20) > 0
    body = webhook_body(7, 20, random.Random(0))
    events = json.loads(body)["events"]
    assert len({e["message"]["id"] for e in events}) == 20
    assert len({e["source"]["userId"] for e in events}) > 10
    assert parse_webhook(body).messages[0].message_id == events[0]["message"]["id"]


def test_the_webhook_bench_never_aims_at_the_real_line() -> None:
    assert 'api_url = "http://127.0.0.1:9"' in line_bench_config("http://127.0.0.1:9")
    with pytest.raises(ValueError, match="stand-in"):
        line_bench_config("https://api.line.me")


def test_the_webhook_bench_fails_when_a_message_is_lost(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def one_lost(db: Path) -> dict[str, tuple[int, int]]:
        stored = bench_open_loop.stored_inbound(db)
        n, distinct = stored["line"]
        return {**stored, "line": (n - 1, distinct - 1)}

    monkeypatch.setattr(bench_webhook, "stored_inbound", one_lost)
    args = argparse.Namespace(channel="line", rates="10", seconds=0.3, consulters=2)

    assert run_webhook_bench(args) == 1

    lines = capsys.readouterr().out.strip().splitlines()
    verified = next(line for line in lines if line.strip().startswith("verified"))
    assert verified.endswith("FAILED: messages lost or stored twice"), verified


def test_stored_twice_is_a_failure_too() -> None:
    ok, line = bench_open_loop.verify_stored(
        {"line": (10, 9), "webchat": (4, 0)}, {"line": ("LINE", 10), "webchat": ("chat", 4)}
    )
    assert not ok and "LINE 10/10 (1 stored twice), chat 4/4: FAILED" in line
    ok, line = bench_open_loop.verify_stored(
        {"line": (10, 10), "webchat": (4, 0)}, {"line": ("LINE", 10), "webchat": ("chat", 4)}
    )
    assert ok and line.endswith("each stored exactly once")


def test_a_load_console_counts_what_it_sees() -> None:
    """The generator's console counts a frame's events as sets: new ones, doubled ones (seen
    before, or twice in one frame), and each message's first time."""

    def frame(*events: tuple[int, str, int | None]) -> str:
        return json.dumps(
            {
                "type": "events",
                "events": [{"id": i, "kind": kind, "message_id": mid} for i, kind, mid in events],
            }
        )

    console = Console(token="t")
    received = "message_received"
    console.take(1.0, console.parse(frame((1, received, 10), (2, "conversation_opened", None))))
    console.take(2.0, console.parse(frame((3, received, 11))))
    assert (console.seen, console.got, console.doubled) == ({1, 2, 3}, {10: 1.0, 11: 2.0}, 0)
    # an event again (with a new one): doubled once, the message's first time kept
    console.take(3.0, console.parse(frame((3, received, 11), (4, received, 12))))
    # the same id twice in one frame: the second is doubled
    console.take(4.0, console.parse(frame((5, received, 13), (5, received, 13))))
    assert console.doubled == 2
    assert console.got == {10: 1.0, 11: 2.0, 12: 3.0, 13: 4.0}
    console.next_rate()  # what the rate before saw still counts as seen
    console.take(5.0, console.parse(frame((1, "conversation_closed", None), (6, received, 14))))
    assert console.doubled == 3 and console.got == {14: 5.0} and console.seen == {1, 6}
