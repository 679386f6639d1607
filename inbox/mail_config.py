"""The [mail] section: the program's mailbox, read by IMAP and answered by SMTP.

Passwords never live in the file: each is read from the environment variable the file names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from channels.mail_imap_conn import is_loopback

Security = Literal["tls", "starttls", "plain"]
_SECRET = {"toml": False}  # resolved from the environment, not settable in the file


@dataclass(frozen=True, slots=True, kw_only=True)
class MailConfig:
    enabled: bool = False
    address: str = ""  # the program's address: replies come from it, e.g. soudan@city.example.jp
    from_name: str = "相談窓口"
    domain: str = ""  # our Message-IDs' domain; "" means the address's domain
    charset: Literal["utf-8", "iso-2022-jp"] = "iso-2022-jp"
    mark: Literal["flag", "move"] = "flag"
    max_attachment_bytes: int = field(default=5 * 1024 * 1024, metadata={"min": 0})
    neutral_name: str = "お知らせ"
    neutral_subject: str = "ご連絡"
    default_subject: str = "ご相談について"
    imap_host: str = "127.0.0.1"
    imap_port: int = field(default=993, metadata={"min": 1, "max": 65535})
    imap_security: Security = "tls"
    imap_username: str = ""
    imap_password_env: str = "TSUNAGU_IMAP_PASSWORD"
    imap_folder: str = "INBOX"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = field(default=587, metadata={"min": 1, "max": 65535})
    smtp_security: Security = "starttls"
    smtp_username: str = ""
    smtp_password_env: str = "TSUNAGU_SMTP_PASSWORD"
    imap_password: str = field(default="", repr=False, metadata=_SECRET)
    smtp_password: str = field(default="", repr=False, metadata=_SECRET)


def mail_problem(mail: MailConfig) -> str | None:
    """What is missing for an enabled mail channel, as "mail.key: reason"."""
    if not mail.enabled:
        return None
    if "@" not in mail.address:
        return 'mail.address: required when mail.enabled, e.g. "soudan@city.example.jp"'
    if not mail.imap_username:
        return "mail.imap_username: required when mail.enabled"
    if not mail.imap_password:
        return (
            f"mail.imap_password_env: the environment variable {mail.imap_password_env} is not set"
        )
    if mail.smtp_username and not mail.smtp_password:
        return (
            f"mail.smtp_password_env: the environment variable {mail.smtp_password_env} is not set"
        )
    # The connections refuse these too; said here, check-config and start-up catch them.
    if mail.imap_security == "plain" and not is_loopback(mail.imap_host):
        return (
            f'mail.imap_security: "plain" sends the password unencrypted; only for a loopback '
            f'host, not {mail.imap_host} (use "tls", port 993, or "starttls", port 143)'
        )
    if mail.smtp_security == "plain" and mail.smtp_username and not is_loopback(mail.smtp_host):
        return (
            f'mail.smtp_security: "plain" with a username sends the password unencrypted; only '
            f'for a loopback host, not {mail.smtp_host} (use "tls", port 465, or "starttls", '
            "port 587)"
        )
    return None
