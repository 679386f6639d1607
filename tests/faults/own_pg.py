"""A throwaway PostgreSQL cluster that a test may stop and start: initdb + pg_ctl in a temp
directory on a free port, never the machine's cluster. As root, the server runs as `postgres`
(initdb refuses root)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests import skips

# Debian's layout; the newest installed major version
PG_BIN = max(
    Path("/usr/lib/postgresql").glob("*/bin"),
    default=Path("/nonexistent"),
    key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class OwnPostgres:
    home: Path
    port: int
    as_user: tuple[str, ...]  # runuser prefix when we are root

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(
            [*self.as_user, str(PG_BIN / "pg_ctl"), "-D", str(self.home / "data"), *args],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.home} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off"
        )
        self._pg_ctl("-l", str(self.home / "server.log"), "-w", "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("-m", mode, "-w", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()


@contextmanager
def own_postgres() -> Iterator[OwnPostgres]:
    """A started cluster; always stopped and removed at the end."""
    if not (PG_BIN / "initdb").exists():
        skips.skip_or_fail(f"{PG_BIN}/initdb is missing", "apt-get install postgresql")
    home = Path(tempfile.mkdtemp(prefix="tsunagu-pg-"))
    home.chmod(0o755)
    as_user: tuple[str, ...] = ()
    if os.geteuid() == 0:
        shutil.chown(home, "postgres", "postgres")
        as_user = ("runuser", "-u", "postgres", "--")
    pg = OwnPostgres(home=home, port=free_port(), as_user=as_user)
    try:
        subprocess.run(
            [
                *as_user,
                str(PG_BIN / "initdb"),
                "-D",
                str(home / "data"),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        pg.start()
        yield pg
    finally:
        subprocess.run(
            [*as_user, str(PG_BIN / "pg_ctl"), "-D", str(home / "data"), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(home, ignore_errors=True)
