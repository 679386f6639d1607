"""SIGTERM stops the server cleanly while start-up still waits for the database."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

from tests.faults.own_pg import free_port
from tests.faults.serving import TSUNAGU


async def test_sigterm_during_start_up_retries(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        f'[database]\nurl = "postgresql://postgres@127.0.0.1:{free_port()}/none"\n'
        "connect_attempts = 100\nconnect_backoff_max_s = 5.0\n"
    )
    proc = await asyncio.create_subprocess_exec(
        *TSUNAGU, "serve", "--port", "0", cwd=tmp_path, stderr=asyncio.subprocess.PIPE
    )
    assert proc.stderr is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(30):
            while '"database_retry"' not in (line := (await proc.stderr.readline()).decode()):
                assert line, "the server exited:\n" + "".join(lines)
                lines.append(line)
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(5):  # not after the 100 attempts
            rest = (await proc.stderr.read()).decode()
            assert await proc.wait() == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert "Traceback" not in rest
    actions = [json.loads(x).get("action") for x in rest.splitlines() if x.startswith("{")]
    assert "shutdown_complete" in actions
