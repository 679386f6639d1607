"""A throwaway Dovecot (IMAP) on 127.0.0.1 for the mail tests and `tsunagu bench email`.

One temp dir holds a config that reads nothing from /etc/dovecot, a passwd-file and the Maildirs;
it runs as root (Dovecot's own users) or rootless (the current user). Gotchas handled here:
first_valid_uid, a 0755 dir the Dovecot users can read, the rootless settings, a process group,
and users added ahead (Dovecot re-reads its passwd-file at most once a second)."""

from __future__ import annotations

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
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
INSTALL = "apt-get install dovecot-imapd"

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


class DovecotMissing(RuntimeError):
    """Dovecot is not installed."""

    def __init__(self) -> None:
        super().__init__(f"Dovecot is not installed; {INSTALL}")


def find_dovecot() -> str | None:
    exe = shutil.which("dovecot") or "/usr/sbin/dovecot"
    return exe if os.path.exists(exe) else None


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


def _check(ok: bool, what: str, data: object) -> None:
    if not ok:
        raise RuntimeError(f"IMAP {what} failed: {data!r}")


@dataclass(frozen=True)
class MailAccount:
    """One IMAP user on the Dovecot, with a mailbox of its own; blocking helpers (imaplib)."""

    host: str
    port: int
    tls_port: int | None  # implicit TLS; None when openssl was missing or TLS was off
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
                found = re.search(rb"\[APPENDUID \d+ (\d+)\]", data[0] or b"")
                if typ != "OK" or found is None:
                    raise RuntimeError(f"IMAP APPEND failed: {typ} {data!r}")
                uids.append(int(found.group(1)))
        return uids

    def uids(self, mailbox: str = "INBOX") -> list[int]:
        """The UIDs in `mailbox` (read-only, so \\Seen and \\Recent stay as they are)."""
        with self._imap() as conn:
            typ, _ = conn.select(mailbox, readonly=True)
            _check(typ == "OK", "SELECT", mailbox)
            _, data = conn.uid("SEARCH", "ALL")
            return [int(u) for u in (data[0] or b"").split()]

    def flags(self, uid: int, mailbox: str = "INBOX") -> set[str]:
        with self._imap() as conn:
            conn.select(mailbox, readonly=True)
            _, data = conn.uid("FETCH", str(uid), "(FLAGS)")
            line = data[0] if isinstance(data[0], bytes) else b""
            found = re.search(rb"FLAGS \(([^)]*)\)", line)
            if found is None:
                raise RuntimeError(f"IMAP FETCH FLAGS failed: {data!r}")
            return set(found.group(1).decode().split())

    def remove_flag(self, flag: str, mailbox: str = "INBOX") -> None:
        """Take `flag` off every message in `mailbox`."""
        with self._imap() as conn:
            typ, data = conn.select(mailbox)
            _check(typ == "OK", "SELECT", data)
            if int(data[0] or b"0"):
                typ, data = conn.uid("STORE", "1:*", "-FLAGS.SILENT", f"({flag})")
                _check(typ == "OK", "STORE", data)

    def _imap(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        try:
            conn.login(self.user, self.password)
        except BaseException:
            conn.shutdown()  # else an unclosed socket warning fails a test as well
            raise
        return conn


class DovecotServer:
    """A Dovecot master process serving IMAP on a free port of 127.0.0.1 from `self.dir`.
    Raises DovecotMissing when it is not installed; close() stops it and removes the dir."""

    def __init__(self, *, tls: bool = True) -> None:
        exe = find_dovecot()
        if exe is None:
            raise DovecotMissing
        self.exe = exe
        # Not pytest's tmp_path: /tmp/pytest-of-root is 0700, and Dovecot's auth and mail
        # processes run as the 'dovecot' user, so they could read neither passwd nor home.
        self.dir = Path(tempfile.mkdtemp(prefix="tsunagu-dovecot-"))
        self._proc: subprocess.Popen[bytes] | None = None
        try:
            self._configure(tls)
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise

    def _configure(self, tls: bool) -> None:
        os.chmod(self.dir, 0o755)
        for sub in ("run", "state", "home"):
            (self.dir / sub).mkdir()
        self.host, self.port = HOST, free_port()
        has_tls = tls and _make_cert(self.dir)
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
        self._refill()

    def version(self) -> str:
        done = subprocess.run([self.exe, "--version"], capture_output=True, text=True, timeout=10)
        return done.stdout.split(" ")[0].strip() or "?"

    def start(self) -> None:
        # -F: no daemonizing, so this Popen is the master. stderr (config errors before the
        # log is open) goes to a file: Dovecot's children could hold a pipe open.
        with open(self.dir / "stderr.log", "ab") as err:
            self._proc = proc = subprocess.Popen(
                [self.exe, "-F", "-c", str(self.conf)],
                stdout=subprocess.DEVNULL,
                stderr=err,
                process_group=0,  # its own group: stop() reaches every process, Ctrl+C none
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
        """APPEND `raw` to the first user's (alice's) mailbox; the new UID."""
        return self.account(self.user, self.password).deliver(raw, mailbox)

    def log_tail(self, lines: int = 30) -> str:
        path = self.dir / "dovecot.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

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
