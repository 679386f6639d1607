"""`tsunagu` as a newcomer runs it: a subprocess in an empty directory, stopped by SIGTERM.

Each subprocess pays Python's start and the app's imports (2 to 4 s on the CI machine), so the
account commands after a first real one run `inbox.cli.main` in this process (`Here`): the same
parser, commands, exit codes and output, with the working folder and stdin of a subprocess."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import aiohttp
import pytest

from inbox.cli import main
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


class Here:
    """`run` without a new process: `inbox.cli.main` in `cwd`, with `stdin`, its output captured
    (argparse's exit is its return code, as `python -m inbox` would exit)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
        self.monkeypatch = monkeypatch
        self.capsys = capsys

    def __call__(
        self, args: list[str], cwd: Path, stdin: str = ""
    ) -> subprocess.CompletedProcess[str]:
        with self.monkeypatch.context() as m:
            m.chdir(cwd)
            m.setattr(sys, "stdin", io.StringIO(stdin))
            self.capsys.readouterr()
            try:
                code = main(args)
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 1
            out = self.capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out.out, out.err)

    def add_user(
        self, cwd: Path, name: str, role: str, password: str = PASSWORD
    ) -> subprocess.CompletedProcess[str]:
        return self(
            ["user", "add", name, "--role", role, "--password-stdin"], cwd, stdin=password + "\n"
        )


@pytest.fixture
def here(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Here:
    return Here(monkeypatch, capsys)


def test_bad_config_stops_with_exit_2_naming_the_key(tmp_path: Path, here: Here) -> None:
    (tmp_path / "config.toml").write_text("[intake]\nqueue_max = 0\n[server]\nprot = 1\n")
    done = here(["check-config"], tmp_path)
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


def test_users_from_the_command_line(tmp_path: Path, here: Here) -> None:
    done = add_user(tmp_path, "admin", "admin")  # a real process first, then in this one
    assert done.returncode == 0, done.stderr
    # Which database, and a warning that it was created by this very command.
    assert "does not exist yet" in done.stderr and "tsunagu-data" in done.stderr
    again = here.add_user(tmp_path, "admin", "admin")
    assert again.returncode == 1 and "taken" in again.stderr
    assert "does not exist yet" not in again.stderr
    short = here.add_user(tmp_path, "x", "counselor", password="short")
    assert short.returncode == 1 and "password" in short.stderr
    busy = here(
        ["user", "add", "y", "--role", "counselor", "--capacity", "-1", "--password-stdin"],
        tmp_path,
        stdin=PASSWORD + "\n",
    )
    assert busy.returncode != 0 and "capacity" in busy.stderr and "taken" not in busy.stderr
    (tmp_path / "elsewhere").mkdir()
    bad = here(
        ["user", "add", "z", "--role", "counselor", "--capacity", "99", "--password-stdin"],
        tmp_path / "elsewhere",
        stdin=PASSWORD + "\n",
    )
    assert bad.returncode != 0 and "capacity" in bad.stderr
    assert not (tmp_path / "elsewhere" / "tsunagu-data").exists()  # checked before opening
    assert here(["user", "disable", "admin"], tmp_path).returncode == 0
    assert "already disabled" in here(["user", "disable", "admin"], tmp_path).stdout
    listed = here(["user", "list"], tmp_path).stdout
    assert listed.splitlines()[0].split() == ["id", "username", "state", "capacity", "roles"]
    assert re.search(r"admin\s+disabled", listed)
    # --- accounts: enable, roles and a password reset from the command line
    assert here(["user", "enable", "admin"], tmp_path).returncode == 0
    assert re.search(r"admin\s+active", here(["user", "list"], tmp_path).stdout)
    roles = here(
        ["user", "set-roles", "admin", "--role", "admin", "--role", "supervisor"], tmp_path
    )
    assert roles.stdout == "admin: roles admin, supervisor\n"
    assert here(["user", "set-roles", "nobody", "--role", "admin"], tmp_path).returncode == 1
    reset = here(["user", "reset-password", "admin"], tmp_path)
    assert reset.returncode == 0 and "Shown once" in reset.stderr
    assert len(reset.stdout.strip()) >= 10 and reset.stdout.strip() not in reset.stderr
    assert here(["migrate"], tmp_path).stdout.endswith("(already current)\n")


async def test_serve_hold_a_conversation_and_drain_on_sigterm(tmp_path: Path, here: Here) -> None:
    # the command in a thread (it runs its own event loop), the server in a process of its own
    assert (await asyncio.to_thread(here.add_user, tmp_path, "sato", "counselor")).returncode == 0
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


def _presence_of_the_one_user(cwd: Path) -> Presence:
    cfg = load_config(None, env={"TSUNAGU_DATA_DIR": str(cwd / "tsunagu-data")})
    assert cfg.database.sqlite_path is not None

    async def read() -> Presence:
        assert cfg.database.sqlite_path is not None
        async with SqliteStore(cfg.database.sqlite_path) as store:
            (user,) = await store.list_users()
        return user.presence

    return asyncio.run(read())


def test_a_counselor_added_on_the_command_line_starts_offline(tmp_path: Path, here: Here) -> None:
    done = here.add_user(tmp_path, "sato", "counselor")
    assert done.returncode == 0, done.stderr
    # no offer before she says she is available
    assert _presence_of_the_one_user(tmp_path) is Presence.OFFLINE


def test_a_counselor_may_be_added_on_duty_from_the_command_line(tmp_path: Path, here: Here) -> None:
    """For a desk whose counselors are set up by script (or a test with no browser)."""
    done = here(
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
    assert _presence_of_the_one_user(tmp_path) is Presence.AVAILABLE
