"""The retention rule for bodies: `tsunagu purge-bodies` (progress, the count, the figures kept)
and the server's daily purge with [retention] bodies_days, cutting at a Tokyo midnight. The
store's side on both databases is tests/storage/test_contract_report.py."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from inbox import cli
from inbox.commands.report import ReportCommands
from inbox.commands.signals import Signals
from inbox.resilience import Outages
from inbox.retention import BodyRetention, cutoff
from storage.base import Store
from storage.sqlite.store import SqliteStore
from tests.report_data import MESSAGES, PERIOD, build_desk, tokyo


def test_the_cutoff_is_a_tokyo_midnight() -> None:
    # 10 June 02:00 in Tokyo is still 9 June in UTC
    now = datetime(2025, 6, 9, 17, 0, tzinfo=UTC)
    assert cutoff(now, 9) == tokyo(6, 1, 0, 0) == datetime(2025, 5, 31, 15, 0, tzinfo=UTC)


async def bodies(store: Store) -> dict[int, str]:
    rows = await store._db.read(  # type: ignore[attr-defined]
        lambda tx: tx.fetch("SELECT id, body FROM messages ORDER BY id")
    )
    return {int(r[0]): str(r[1]) for r in rows}


async def test_the_daily_purge_empties_what_closed_long_enough_ago(store: Store) -> None:
    await build_desk(store)
    now = tokyo(6, 10, 2)
    commands = ReportCommands(store, clock=lambda: now, signals=Signals())
    outages = Outages()
    # closed before 15 April: conversation 1 (closed 3 April) and 2 (5 April)
    early = BodyRetention(commands, days=56, clock=lambda: now, outages=outages)
    assert await early.purge_once() == 7
    assert [i for i, body in (await bodies(store)).items() if not body] == [1, 2, 3, 4, 5, 6, 7]
    # closed before 1 June: conversations 1 to 5, the first two already purged
    assert (
        await BodyRetention(commands, days=9, clock=lambda: now, outages=outages).purge_once() == 4
    )
    purged = [i for i, body in (await bodies(store)).items() if not body]
    assert purged == [i for i, (conv, _, _) in MESSAGES.items() if conv <= 5]


def test_the_cli_purges_in_batches_and_the_figures_stay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "inbox.db"
    Path("config.toml").write_text(f'[database]\nurl = "sqlite:///{db}"\n', encoding="utf-8")

    async def setup() -> object:
        async with SqliteStore(db) as store:
            await store.migrate()
            await build_desk(store)
            return await store.report_facts(PERIOD)

    async def after() -> tuple[object, dict[int, str]]:
        async with SqliteStore(db) as store:
            return await store.report_facts(PERIOD), await bodies(store)

    before = asyncio.run(setup())
    args = ["purge-bodies", "--before", "2025-06-01", "--batch", "4", "--config", "config.toml"]
    assert cli.main(args) == 0
    out, err = capsys.readouterr()
    assert "purged the bodies of 11 messages in conversations closed before 2025-06-01" in out
    assert "4 messages purged" in err and "11 messages purged" in err
    facts, texts = asyncio.run(after())
    assert facts == before
    assert sorted(i for i, body in texts.items() if body) == [12, 13, 14]
    # without --before and without [retention] bodies_days: it says what to give
    assert cli.main(["purge-bodies", "--config", "config.toml"]) == 1
    assert "--before" in capsys.readouterr().err
