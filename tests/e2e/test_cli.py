"""`tsunagu` as a newcomer runs it: a subprocess in an empty directory, stopped by SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import aiohttp

from inbox.config import load_config
from inbox.core.model import Presence
from storage.sqlite.store import SqliteStore
from tests.web.conftest import PASSWORD

TSUNAGU = [sys.executable, "-m", "inbox"]


def run(
    args: list[str],
    cwd: Path,
    stdin: str = "",
    **env: str,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TSUNAGU, *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )


def add_user(
    cwd: Path,
    name: str,
    role: str,
    password: str = PASSWORD,
) -> subprocess.CompletedProcess[str]:
    return run(
        ["user", "add", name, "--role", role, "--password-stdin"], cwd, stdin=password + "\n"
    )


def test_bad_config_stops_with_exit_2_naming_the_key(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("[intake]\nqueue_max = 0\n[server]\nprot = 1\n")
    done = run(["check-config"], tmp_path)
    assert done.returncode == 2
    assert "config.toml: " in done.stderr and "Traceback" not in done.stderr
    (tmp_path / "config.toml").write_text("[server]\nprot = 1\n")
    done = run(["serve"], tmp_path)
    assert done.returncode == 2
    assert "server.prot" in done.stderr and "port" in done.stderr


def test_unreachable_database_is_a_clear_message(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        '[database]\nurl = "postgresql://postgres:hunter2@127.0.0.1:1/none"\n'
        "connect_attempts = 2\nconnect_backoff_max_s = 0.1\n"
    )
    done = run(["serve"], tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "retrying" in done.stderr and "127.0.0.1:1" in done.stderr
    assert "hunter2" not in done.stderr


def test_users_from_the_command_line(tmp_path: Path) -> None:
    done = add_user(tmp_path, "admin", "admin")
    assert done.returncode == 0, done.stderr
    # Which database, and a warning that it was created by this very command.
    assert "does not exist yet" in done.stderr and "tsunagu-data" in done.stderr
    again = add_user(tmp_path, "admin", "admin")
    assert again.returncode == 1 and "taken" in again.stderr
    assert "does not exist yet" not in again.stderr
    short = add_user(tmp_path, "x", "counselor", password="short")
    assert short.returncode == 1 and "password" in short.stderr
    busy = run(
        ["user", "add", "y", "--role", "counselor", "--capacity", "-1", "--password-stdin"],
        tmp_path,
        stdin=PASSWORD + "\n",
    )
    assert busy.returncode != 0 and "capacity" in busy.stderr and "taken" not in busy.stderr
    (tmp_path / "elsewhere").mkdir()
    bad = run(
        ["user", "add", "z", "--role", "counselor", "--capacity", "99", "--password-stdin"],
        tmp_path / "elsewhere",
        stdin=PASSWORD + "\n",
    )
    assert bad.returncode != 0 and "capacity" in bad.stderr
    assert not (tmp_path / "elsewhere" / "tsunagu-data").exists()  # checked before opening
    assert run(["user", "disable", "admin"], tmp_path).returncode == 0
    assert "already disabled" in run(["user", "disable", "admin"], tmp_path).stdout
    listed = run(["user", "list"], tmp_path).stdout
    assert listed.splitlines()[0].split() == ["id", "username", "state", "capacity", "roles"]
    assert re.search(r"admin\s+disabled", listed)
    # --- accounts: enable, roles and a password reset from the command line
    assert run(["user", "enable", "admin"], tmp_path).returncode == 0
    assert re.search(r"admin\s+active", run(["user", "list"], tmp_path).stdout)
    roles = run(["user", "set-roles", "admin", "--role", "admin", "--role", "supervisor"], tmp_path)
    assert roles.stdout == "admin: roles admin, supervisor\n"
    assert run(["user", "set-roles", "nobody", "--role", "admin"], tmp_path).returncode == 1
    reset = run(["user", "reset-password", "admin"], tmp_path)
    assert reset.returncode == 0 and "Shown once" in reset.stderr
    assert len(reset.stdout.strip()) >= 10 and reset.stdout.strip() not in reset.stderr
    assert run(["migrate"], tmp_path).stdout.endswith("(already current)\n")


async def test_serve_hold_a_conversation_and_drain_on_sigterm(tmp_path: Path) -> None:
    assert add_user(tmp_path, "sato", "counselor").returncode == 0
    proc = await asyncio.create_subprocess_exec(
        *TSUNAGU, "serve", "--port", "0", cwd=tmp_path, stderr=asyncio.subprocess.PIPE
    )
    assert proc.stderr is not None
    lines: list[str] = []
    async with asyncio.timeout(20):
        while not (found := re.search(r"listening on (http://\S+?)\"", lines[-1] if lines else "")):
            lines.append((await proc.stderr.readline()).decode())
    url = found.group(1)
    try:
        # unsafe: keep cookies from an IP-address host such as 127.0.0.1
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            ws = await http.ws_connect(url.replace("http", "ws") + "/chat/ws")
            await ws.send_json({"type": "hello", "token": None})
            assert (await ws.receive_json(timeout=10))["type"] == "welcome"
            await ws.send_json(
                {
                    "type": "message",
                    "client_id": str(uuid.uuid4()),
                    "body": "E2E-BODY-MARKER こんばんは",
                }
            )
            assert (await ws.receive_json(timeout=10))["type"] == "ack"
            async with http.post(
                f"{url}/api/session", json={"username": "sato", "password": PASSWORD}
            ) as r:
                assert r.status == 200
            async with http.get(f"{url}/api/conversations") as r:
                convs = (await r.json())["conversations"]
            assert [c["channel"] for c in convs] == ["webchat"]
            await ws.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        rest = (await asyncio.wait_for(proc.stderr.read(), 20)).decode()
        assert await proc.wait() == 0
    log = "".join(lines) + rest
    actions = [json.loads(line).get("action") for line in log.splitlines() if line.startswith("{")]
    assert actions.index("shutdown_started") < actions.index("shutdown_complete")
    assert "E2E-BODY-MARKER" not in log


async def test_a_counselor_added_on_the_command_line_starts_offline(tmp_path: Path) -> None:
    done = add_user(tmp_path, "sato", "counselor")
    assert done.returncode == 0, done.stderr
    cfg = load_config(None, env={"TSUNAGU_DATA_DIR": str(tmp_path / "tsunagu-data")})
    assert cfg.database.sqlite_path is not None
    async with SqliteStore(cfg.database.sqlite_path) as store:
        (sato,) = await store.list_users()
    assert sato.presence is Presence.OFFLINE  # no offer before she says she is available


async def test_a_counselor_may_be_added_on_duty_from_the_command_line(tmp_path: Path) -> None:
    """For a desk whose counselors are set up by script (or a test with no browser)."""
    done = run(
        [
            "user",
            "add",
            "sato",
            "--role",
            "counselor",
            "--presence",
            "available",
            "--password-stdin",
        ],
        tmp_path,
        stdin=PASSWORD + "\n",
    )
    assert done.returncode == 0, done.stderr
    cfg = load_config(None, env={"TSUNAGU_DATA_DIR": str(tmp_path / "tsunagu-data")})
    assert cfg.database.sqlite_path is not None
    async with SqliteStore(cfg.database.sqlite_path) as store:
        (sato,) = await store.list_users()
    assert sato.presence is Presence.AVAILABLE
