"""Real mail servers on 127.0.0.1 for the mail tests: a throwaway Dovecot (IMAP) started from a
config in a temp dir, and an in-loop aiosmtpd sink (SMTP) that records or refuses deliveries."""

from __future__ import annotations

import asyncio
import contextlib
import grp
import imaplib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from aiosmtpd.smtp import SMTP, Envelope, Session

from tests import skips

HOW_TO_ENABLE = "to run the IMAP tests, apt-get install dovecot-imapd"
HOST = "127.0.0.1"

# Only this file is read (-c): nothing from /etc/dovecot. Dovecot 2.3 setting names.
DOVECOT_CONF = """\
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap
listen = {host}
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
# a wrong-password test should not wait the default 2 s
auth_failure_delay = 0
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
# the default (500) rejects the mail uid of the 'dovecot' system user
first_valid_uid = 1
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={d}/home/%u
}}
service imap-login {{
  {chroot}
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    address = {host}
    port = {tls_port}
  }}
}}
{rootless}
protocol imap {{
  mail_max_userip_connections = 50
  # IDLE tests wait for this long at most
  imap_idle_notify_interval = 1 secs
}}
"""
ROOTLESS = "service anvil {\n  chroot =\n}\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dovecot exited early with rc={proc.returncode}")
        try:
            socket.create_connection((HOST, port), 0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"dovecot did not open port {port} within {timeout_s} s")


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)


def _make_cert(d: Path) -> bool:
    """A self-signed certificate for 127.0.0.1, so the TLS and STARTTLS paths run for real."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return False
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    return True


def _identity(d: Path) -> dict[str, object]:
    """Which users the processes run as: Dovecot's own users as root, else the current user."""
    if os.geteuid() == 0:
        pw = pwd.getpwnam("dovecot")
        os.chown(d / "home", pw.pw_uid, pw.pw_gid)
        return {"login_user": "dovenull", "internal_user": "dovecot",
                "internal_group": "dovecot", "mail_uid": pw.pw_uid, "mail_gid": pw.pw_gid,
                "chroot": "", "rootless": ""}  # fmt: skip
    me = pwd.getpwuid(os.geteuid()).pw_name
    return {"login_user": me, "internal_user": me,
            "internal_group": grp.getgrgid(os.getegid()).gr_name, "mail_uid": os.geteuid(),
            "mail_gid": os.getegid(), "chroot": "chroot =", "rootless": ROOTLESS}  # fmt: skip


@dataclass(frozen=True)
class MailAccount:
    """One IMAP user on the test Dovecot, with a mailbox no other test touches."""

    host: str
    port: int
    tls_port: int | None  # implicit TLS; None when openssl was missing
    cafile: Path | None
    user: str
    password: str

    def deliver(self, raw: bytes, mailbox: str = "INBOX") -> int:
        """APPEND `raw` (CRLF line ends) as an MTA would deliver it; the new message's UID."""
        return self.deliver_many([raw], mailbox)[0]

    def deliver_many(self, raws: list[bytes], mailbox: str = "INBOX") -> list[int]:
        """APPEND each message over one connection; their UIDs."""
        uids = []
        with self._imap() as conn:
            for raw in raws:
                typ, data = conn.append(mailbox, "", None, raw)
                assert typ == "OK", (typ, data)
                found = re.search(rb"\[APPENDUID \d+ (\d+)\]", data[0] or b"")
                assert found, data
                uids.append(int(found.group(1)))
        return uids

    def uids(self, mailbox: str = "INBOX") -> list[int]:
        """The UIDs in `mailbox` (read-only, so \\Seen and \\Recent stay as they are)."""
        with self._imap() as conn:
            typ, _ = conn.select(mailbox, readonly=True)
            assert typ == "OK", f"no mailbox {mailbox}"
            _, data = conn.uid("SEARCH", "ALL")
            return [int(u) for u in (data[0] or b"").split()]

    def flags(self, uid: int, mailbox: str = "INBOX") -> set[str]:
        with self._imap() as conn:
            conn.select(mailbox, readonly=True)
            _, data = conn.uid("FETCH", str(uid), "(FLAGS)")
            line = data[0] if isinstance(data[0], bytes) else b""
            found = re.search(rb"FLAGS \(([^)]*)\)", line)
            assert found, data
            return set(found.group(1).decode().split())

    def _imap(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        try:
            conn.login(self.user, self.password)
        except BaseException:
            conn.shutdown()  # else an unclosed socket warning fails the test as well
            raise
        return conn


class Dovecot:
    """A Dovecot master process serving IMAP on a free port of 127.0.0.1 from `self.dir`."""

    def __init__(self) -> None:
        exe = shutil.which("dovecot") or "/usr/sbin/dovecot"
        if not os.path.exists(exe):
            skips.skip_or_fail("Dovecot is not installed", HOW_TO_ENABLE)
        self.exe = exe
        # Not pytest's tmp_path: /tmp/pytest-of-root is 0700, and Dovecot's auth and mail
        # processes run as the 'dovecot' user, so they could read neither passwd nor home.
        self.dir = Path(tempfile.mkdtemp(prefix="tsunagu-dovecot-"))
        os.chmod(self.dir, 0o755)
        for sub in ("run", "state", "home"):
            (self.dir / sub).mkdir()
        self.host, self.port = HOST, free_port()
        has_tls = _make_cert(self.dir)
        self.tls_port = free_port() if has_tls else None
        self.cafile = self.dir / "cert.pem" if has_tls else None
        self._passwd: list[str] = []
        self._spare: list[tuple[str, str]] = []
        self.user, self.password = "alice", "secret"
        self._add_users([(self.user, self.password)])
        ssl_conf = f"ssl = yes\nssl_cert = <{self.cafile}\nssl_key = <{self.dir}/key.pem"
        conf = DOVECOT_CONF.format(
            d=self.dir, host=HOST, port=self.port, tls_port=self.tls_port or 0,
            ssl=ssl_conf if has_tls else "ssl = no", **_identity(self.dir),
        )  # fmt: skip
        self.conf = self.dir / "dovecot.conf"
        self.conf.write_text(conf)
        self._proc: subprocess.Popen[bytes] | None = None
        self._refill()

    def start(self) -> None:
        # -F: no daemonizing, so this Popen is the master. stderr (config errors before the
        # log is open) goes to a file: Dovecot's children could hold a pipe open.
        with open(self.dir / "stderr.log", "ab") as err:
            self._proc = proc = subprocess.Popen(
                [self.exe, "-F", "-c", str(self.conf)],
                stdout=subprocess.DEVNULL,
                stderr=err,
                process_group=0,  # its own group, so stop() reaches every Dovecot process
            )
        try:
            wait_port(self.port, proc)
        except (RuntimeError, TimeoutError) as exc:
            self.stop()
            early = (self.dir / "stderr.log").read_text(errors="replace")
            raise RuntimeError(f"{exc}\n{early}\nlog:\n{self.log_tail()}") from exc

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        # The whole process group: Dovecot's imap processes outlive a terminated master and
        # keep serving their clients, so a "restart" would drop no connection otherwise.
        _signal_group(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        _signal_group(proc.pid, signal.SIGKILL)  # whatever is left, e.g. the log process

    def restart(self) -> None:
        """Stop and start again on the same port: every open IMAP connection is dropped."""
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def add_user(self) -> MailAccount:
        """A new user with an empty mailbox (its Maildir appears at the first login)."""
        if not self._spare:
            self._refill()
            time.sleep(1.1)
        return self.account(*self._spare.pop())

    def account(self, user: str, password: str) -> MailAccount:
        return MailAccount(self.host, self.port, self.tls_port, self.cafile, user, password)

    def deliver(self, raw: bytes, mailbox: str = "INBOX") -> int:
        """APPEND `raw` to the session user's (alice's) mailbox; the new UID."""
        return self.account(self.user, self.password).deliver(raw, mailbox)

    def log_tail(self, lines: int = 30) -> str:
        path = self.dir / "dovecot.log"
        return (
            "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
            if path.exists()
            else ""
        )

    def _refill(self) -> None:
        # Dovecot re-reads a changed passwd-file at most once a second, so a user added right
        # after a login would be unknown for a moment: users are added ahead, in bulk.
        self._spare = [(f"u{uuid.uuid4().hex[:12]}", uuid.uuid4().hex) for _ in range(200)]
        self._add_users(self._spare)

    def _add_users(self, users: list[tuple[str, str]]) -> None:
        self._passwd.extend(f"{user}:{{PLAIN}}{password}::::::\n" for user, password in users)
        # write-then-rename, so the auth process never reads half a file
        tmp = self.dir / "passwd.tmp"
        tmp.write_text("".join(self._passwd))
        os.chmod(tmp, 0o644)
        os.replace(tmp, self.dir / "passwd")


SinkStage = Literal["mail", "rcpt", "data"]


@dataclass
class SmtpSink:
    """aiosmtpd handler: records each accepted envelope; fail_next() refuses the next ones."""

    host: str = HOST
    port: int = 0
    envelopes: list[Envelope] = field(default_factory=list)
    _failures: dict[SinkStage, list[str]] = field(default_factory=dict)

    def fail_next(self, n: int, code: int, *, stage: SinkStage = "data") -> None:
        """Answer the next `n` MAIL FROM, RCPT TO (each recipient counts) or DATA with `code`."""
        status = "4.3.0" if code < 500 else "5.7.1"
        # the text names an address, as real servers do, so tests can check it is not passed on
        reply = f"{code} {status} <someone@example.jp> refused by the sink"
        self._failures.setdefault(stage, []).extend([reply] * n)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if refusal := self._refusal("mail"):
            return refusal
        envelope.mail_from, envelope.mail_options = address, list(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if refusal := self._refusal("rcpt"):
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if refusal := self._refusal("data"):
            return refusal
        self.envelopes.append(envelope)
        return "250 OK queued"

    def _refusal(self, stage: SinkStage) -> str | None:
        pending = self._failures.get(stage)
        return pending.pop(0) if pending else None


async def start_smtp_sink() -> tuple[SmtpSink, asyncio.Server]:
    """The sink served in this loop on a free port (aiosmtpd's Controller can't use port 0)."""
    sink = SmtpSink()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(sink, hostname="sink.test", enable_SMTPUTF8=True), HOST, 0
    )
    sink.port = server.sockets[0].getsockname()[1]
    return sink, server
